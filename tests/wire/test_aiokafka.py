"""aiokafka against ``kafkalab serve`` (3 brokers, RF=3): keyed produce, a group, commits and a resume."""

from __future__ import annotations

import asyncio

import pytest

aiokafka = pytest.importorskip("aiokafka")

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402

from kafkalab.clients.partitioners import partition_for_key  # noqa: E402
from tests.wire.serve_process import ServeProcess  # noqa: E402

RECORDS = 1000


async def _consume(consumer: AIOKafkaConsumer, count: int, timeout_s: float = 30.0) -> list:
    records: list = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while len(records) < count and loop.time() < deadline:
        for batch in (await consumer.getmany(timeout_ms=500)).values():
            records.extend(batch)
    return records


async def _scenario(serve: ServeProcess) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=serve.bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic("ak-orders", 3, 3)])
    producer = AIOKafkaProducer(bootstrap_servers=serve.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    sent = [(b"key-%d" % i, await producer.send("ak-orders", key=b"key-%d" % i, value=b"v")) for i in range(RECORDS)]
    acknowledged = {}
    for key, future in sent:
        metadata = await future
        assert metadata.partition == partition_for_key(key, 3)
        acknowledged[(metadata.partition, metadata.offset)] = key
    await producer.stop()

    consumer = AIOKafkaConsumer("ak-orders", bootstrap_servers=serve.bootstrap, group_id="ak-billing",
                                client_id="ak-1", auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records = await _consume(consumer, RECORDS)
    assert {(r.partition, r.offset): r.key for r in records} == acknowledged
    await consumer.commit()
    await consumer.stop()

    groups = await admin.list_consumer_groups()
    assert "ak-billing" in {group[0] for group in groups}
    offsets = await admin.list_consumer_group_offsets("ak-billing")
    assert sum(meta.offset for meta in offsets.values()) == RECORDS

    producer = AIOKafkaProducer(bootstrap_servers=serve.bootstrap, acks="all")
    await producer.start()
    for i in range(10):
        await producer.send_and_wait("ak-orders", key=b"later-%d" % i, value=b"later")
    await producer.stop()
    again = AIOKafkaConsumer("ak-orders", bootstrap_servers=serve.bootstrap, group_id="ak-billing",
                             client_id="ak-2", auto_offset_reset="earliest", enable_auto_commit=False)
    await again.start()
    resumed = await _consume(again, 10)
    assert sorted(r.key for r in resumed) == sorted(b"later-%d" % i for i in range(10))
    await again.stop()
    await admin.delete_topics(["ak-orders"])
    await admin.close()


def test_aiokafka_produces_consumes_commits_and_resumes(serve: ServeProcess) -> None:
    asyncio.run(_scenario(serve))
    assert serve.act("describe_group: ak-billing")["result"]["state"] == "Empty"
