"""confluent-kafka's transactional producer and read_committed consumer against ``kafkalab serve`` (KIP-98)."""

from __future__ import annotations

import time
from typing import Any

import pytest

confluent_kafka = pytest.importorskip("confluent_kafka")

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from tests.wire.serve_process import ServeProcess  # noqa: E402


def _create(serve: ServeProcess, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": serve.bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 3)]).values():
        future.result(30)


def _values(serve: ServeProcess, topic: str, isolation: str, expected: int, timeout_s: float = 30.0) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": serve.bootstrap, "group.id": f"{topic}-{isolation}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False, "isolation.level": isolation})
    consumer.subscribe([topic])
    values: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(values) < expected:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            values.append(message.value())
    # A little longer: nothing more may arrive.
    end = time.monotonic() + 2
    while time.monotonic() < end:
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            values.append(message.value())
    consumer.close()
    return values


def _producer(serve: ServeProcess, transactional_id: str, **config: Any) -> Producer:
    producer = Producer({"bootstrap.servers": serve.bootstrap, "transactional.id": transactional_id, **config})
    producer.init_transactions(30)
    return producer


def test_committed_records_are_read_committed_and_aborted_ones_only_uncommitted(serve: ServeProcess) -> None:
    _create(serve, "tx-orders", 2)
    producer = _producer(serve, "tx-shop")
    producer.begin_transaction()
    for i in range(10):
        producer.produce("tx-orders", value=b"paid-%d" % i, partition=i % 2)
    producer.commit_transaction(30)
    producer.begin_transaction()
    for i in range(5):
        producer.produce("tx-orders", value=b"refund-%d" % i, partition=i % 2)
    producer.flush(30)
    producer.abort_transaction(30)
    committed = _values(serve, "tx-orders", "read_committed", 10)
    assert sorted(committed) == sorted(b"paid-%d" % i for i in range(10))
    everything = _values(serve, "tx-orders", "read_uncommitted", 15)
    assert len(everything) == 15
    described = serve.act("describe_transaction: tx-shop")["result"]
    assert described["state"] == "CompleteAbort" and described["partitions"] == []


def test_offsets_sent_to_a_transaction_and_a_fenced_zombie(serve: ServeProcess) -> None:
    _create(serve, "tx-in", 1)
    _create(serve, "tx-out", 1)
    zombie = _producer(serve, "tx-processor")
    zombie.begin_transaction()
    zombie.produce("tx-out", value=b"zombie", partition=0)
    zombie.flush(30)
    successor = _producer(serve, "tx-processor")  # bumps the epoch: the zombie's transaction is aborted
    successor.begin_transaction()
    successor.produce("tx-out", value=b"fresh", partition=0)
    metadata = Consumer({"bootstrap.servers": serve.bootstrap, "group.id": "tx-group"}).consumer_group_metadata()
    successor.send_offsets_to_transaction([TopicPartition("tx-in", 0, 42)], metadata, 30)
    successor.commit_transaction(30)
    with pytest.raises(KafkaException) as raised:
        zombie.commit_transaction(30)
    assert raised.value.args[0].fatal() or "fenced" in str(raised.value).lower()
    assert _values(serve, "tx-out", "read_committed", 1) == [b"fresh"]
    checker = Consumer({"bootstrap.servers": serve.bootstrap, "group.id": "tx-group"})
    committed = checker.committed([TopicPartition("tx-in", 0)], timeout=30)
    assert committed[0].offset == 42
    checker.close()


def test_kafka_python_transactional_producer_and_read_committed_consumer(serve: ServeProcess) -> None:
    kafka = pytest.importorskip("kafka")
    _create(serve, "tx-kp", 1)
    producer = kafka.KafkaProducer(bootstrap_servers=serve.bootstrap, transactional_id="tx-kp-shop")
    producer.init_transactions()
    producer.begin_transaction()
    for i in range(3):
        producer.send("tx-kp", value=b"kept-%d" % i, partition=0)
    producer.commit_transaction()
    producer.begin_transaction()
    producer.send("tx-kp", value=b"dropped", partition=0)
    producer.flush()
    producer.abort_transaction()
    producer.close()
    consumer = kafka.KafkaConsumer("tx-kp", bootstrap_servers=serve.bootstrap, group_id="tx-kp-readers",
                                   auto_offset_reset="earliest", enable_auto_commit=False,
                                   isolation_level="read_committed", consumer_timeout_ms=5000)
    values = [record.value for record in consumer]
    consumer.close()
    assert values == [b"kept-0", b"kept-1", b"kept-2"]
