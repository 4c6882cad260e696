"""confluent-kafka (librdkafka) against ``kafkalab serve`` (3 brokers, RF=3)."""

from __future__ import annotations

import time
from typing import Any

import pytest

confluent_kafka = pytest.importorskip("confluent_kafka")

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from kafkalab.clients.partitioners import partition_for_key  # noqa: E402
from tests.wire.serve_process import ServeProcess  # noqa: E402

RECORDS = 1000


def _create(serve: ServeProcess, topic: str, partitions: int) -> AdminClient:
    admin = AdminClient({"bootstrap.servers": serve.bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 3)]).values():
        future.result(30)
    return admin


def _consumer(serve: ServeProcess, group: str, client_id: str, **config: Any) -> Consumer:
    return Consumer({"bootstrap.servers": serve.bootstrap, "group.id": group, "client.id": client_id,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False, **config})


def _consume(consumer: Consumer, count: int, timeout_s: float = 30.0) -> list[Any]:
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            records.append(message)
    return records


def _produce(serve: ServeProcess, topic: str, keys: list[bytes], **config: Any) -> dict[tuple[int, int], bytes]:
    producer = Producer({"bootstrap.servers": serve.bootstrap, "acks": "all", "partitioner": "murmur2_random",
                         "linger.ms": 5, **config})
    acknowledged: dict[tuple[int, int], bytes] = {}
    errors: list[Any] = []

    def delivered(error: Any, message: Any) -> None:
        if error is not None:
            errors.append(error)
        else:
            acknowledged[(message.partition(), message.offset())] = message.key()

    for key in keys:
        producer.produce(topic, key=key, value=b"value-" + key, on_delivery=delivered)
        producer.poll(0)
    assert producer.flush(30) == 0
    assert errors == []
    return acknowledged


def test_murmur2_keys_a_group_commit_and_a_resume(serve: ServeProcess) -> None:
    admin = _create(serve, "ck-orders", 3)
    keys = [b"key-%d" % i for i in range(RECORDS)]
    acknowledged = _produce(serve, "ck-orders", keys, **{"enable.idempotence": True})
    assert len(acknowledged) == RECORDS
    assert all(partition == partition_for_key(key, 3) for (partition, _), key in acknowledged.items())

    consumer = _consumer(serve, "ck-billing", "ck-1")
    consumer.subscribe(["ck-orders"])
    records = _consume(consumer, RECORDS)
    assert {(m.partition(), m.offset()): m.key() for m in records} == acknowledged
    consumer.commit(asynchronous=False)
    committed = consumer.committed([TopicPartition("ck-orders", p) for p in range(3)], timeout=10)
    assert sum(tp.offset for tp in committed) == RECORDS
    consumer.close()

    later = _produce(serve, "ck-orders", [b"later-%d" % i for i in range(10)])
    again = _consumer(serve, "ck-billing", "ck-2")
    again.subscribe(["ck-orders"])
    resumed = _consume(again, 10)
    assert {(m.partition(), m.offset()) for m in resumed} == set(later)
    again.close()

    groups = admin.list_consumer_groups().result(30)
    assert "ck-billing" in {g.group_id for g in groups.valid}
    described = admin.describe_consumer_groups(["ck-billing"])["ck-billing"].result(30)
    assert str(described.state).endswith("EMPTY")
    for future in admin.delete_topics(["ck-orders"]).values():
        future.result(30)
    assert serve.wait_for(lambda: serve.act("describe_topic: ck-orders").get("error") == "UNKNOWN_TOPIC_OR_PARTITION",
                          what="the topic is gone")


def test_two_consumers_split_and_the_second_leaving_hands_back(serve: ServeProcess) -> None:
    _create(serve, "ck-split", 4)
    first = _consumer(serve, "ck-split-group", "first")
    first.subscribe(["ck-split"])
    serve.wait_for(lambda: first.poll(0.2) is None and len(first.assignment()) == 4, what="first owns 4 partitions")
    second = _consumer(serve, "ck-split-group", "second")
    second.subscribe(["ck-split"])

    def split() -> bool:
        first.poll(0.1)
        second.poll(0.1)
        return len(first.assignment()) == 2 and len(second.assignment()) == 2

    serve.wait_for(split, timeout=60, what="two partitions each")
    described = serve.act("describe_group: ck-split-group")["result"]
    assert sorted(m["client_id"] for m in described["members"]) == ["first", "second"]
    second.close()
    serve.wait_for(lambda: first.poll(0.1) is None and len(first.assignment()) == 4, timeout=60,
                   what="the first consumer owns every partition again")
    first.close()
