"""kafka-python against ``kafkalab serve --mode kraft``: the same client code works on a KRaft cluster.

Admin requests reach whichever broker Metadata names as the controller, which forwards them to
the active controller (KIP-590); the idempotent producer's id comes from a block the active
controller handed that broker (AllocateProducerIds, KIP-730).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

kafka = pytest.importorskip("kafka")

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic  # noqa: E402

from kafkalab.clients.partitioners import partition_for_key  # noqa: E402
from tests.wire.serve_process import ServeProcess  # noqa: E402

RECORDS = 300


@pytest.fixture(scope="module")
def kraft_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = ServeProcess(Path(tmp_path_factory.mktemp("serve")) / "data", extra=("--mode", "kraft"))
    yield process
    assert process.stop() == 0


def test_admin_producer_and_group_work_on_a_kraft_cluster(kraft_serve: ServeProcess) -> None:
    quorum = kraft_serve.act("describe_quorum: {}")["result"]
    assert quorum["leader_id"] in (101, 102, 103) and [o["id"] for o in quorum["observers"]] == [1, 2, 3]
    admin = KafkaAdminClient(bootstrap_servers=kraft_serve.bootstrap, request_timeout_ms=15_000)
    admin.create_topics([NewTopic("kr-orders", 3, 3, topic_configs={"retention.ms": "600000"})])
    kraft_serve.wait_for(lambda: all(p["leader"] is not None for p in kraft_serve.act(
        "describe_topic: kr-orders")["result"]["partitions"]), what="leaders for kr-orders")
    producer = KafkaProducer(bootstrap_servers=kraft_serve.bootstrap, acks="all", enable_idempotence=True)
    futures = [(b"key-%d" % i, producer.send("kr-orders", key=b"key-%d" % i, value=b"v")) for i in range(RECORDS)]
    producer.flush(30)
    assert all(future.get(30).partition == partition_for_key(key, 3) for key, future in futures)
    producer.close()
    consumer = KafkaConsumer("kr-orders", bootstrap_servers=kraft_serve.bootstrap, group_id="kr-billing",
                             auto_offset_reset="earliest", enable_auto_commit=False)
    records: list = []
    for _ in range(60):
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
        if len(records) >= RECORDS:
            break
    assert len(records) == RECORDS
    consumer.commit()
    consumer.close()
    resource = ConfigResource(ConfigResourceType.TOPIC, "kr-orders")
    kraft_serve.wait_for(lambda: "600000" in str(admin.describe_configs([resource])), what="the topic's config")
    assert sum(o.offset for o in admin.list_group_offsets("kr-billing")["kr-billing"].values()) == RECORDS
    admin.delete_topics(["kr-orders"])
    kraft_serve.wait_for(lambda: "kr-orders" not in admin.list_topics(), what="kr-orders deleted")
    admin.close()
