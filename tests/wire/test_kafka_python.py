"""kafka-python against ``kafkalab serve`` (3 brokers, RF=3): admin, keyed produce, groups, commits, idempotence."""

from __future__ import annotations

import threading

import pytest

kafka = pytest.importorskip("kafka")

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic  # noqa: E402

from kafkalab.clients.partitioners import partition_for_key  # noqa: E402
from tests.wire.serve_process import ServeProcess  # noqa: E402

RECORDS = 1000


def _admin(serve: ServeProcess) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=serve.bootstrap, request_timeout_ms=15_000)


def _consumer(serve: ServeProcess, group: str, *topics: str, **config: object) -> KafkaConsumer:
    settings = {"client_id": f"{group}-client", **config}
    return KafkaConsumer(*topics, bootstrap_servers=serve.bootstrap, group_id=group, auto_offset_reset="earliest",
                         enable_auto_commit=False, **settings)


def _poll_all(consumer: KafkaConsumer, count: int, timeout_s: float = 30.0) -> list:
    records: list = []
    import time
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    return records


class _PollLoop:
    """One consumer polled in its own thread, as an application's poll loop runs it.

    kafka-python 3.0.12 drops a JoinGroup answer that arrives after ``poll``'s timeout has passed: the next
    ``poll`` finds the join task done and sends a fresh JoinGroup (``join_group_async`` in its
    ``coordinator/base.py``), so two consumers polled in turn from one thread with short timeouts can rejoin
    after every generation. A loop per consumer with a timeout longer than a rebalance is how applications
    poll, and it keeps each answer awaited.
    """

    def __init__(self, consumer: KafkaConsumer) -> None:
        self.consumer = consumer
        self.assignment: frozenset = frozenset()
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poll-{consumer.config['client_id']}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self.consumer.poll(timeout_ms=2000)
                self.assignment = frozenset(self.consumer.assignment())
        except BaseException as error:  # handed to the test thread, which fails with it
            self.error = error

    def owns(self, count: int) -> bool:
        """Whether the consumer owns ``count`` partitions; raises what the poll loop raised."""
        if self.error is not None:
            raise self.error
        return len(self.assignment) == count

    def close(self) -> None:
        """Stop the loop, then close the consumer (leaving its group) from this thread."""
        self._stopping.set()
        self._thread.join(timeout=30)
        self.consumer.close()
        if self.error is not None:
            raise self.error


def test_keyed_records_land_where_murmur2_says_and_a_group_resumes_at_its_commit(serve: ServeProcess) -> None:
    admin = _admin(serve)
    admin.create_topics([NewTopic("kp-orders", 3, 3)])
    producer = KafkaProducer(bootstrap_servers=serve.bootstrap, acks="all", enable_idempotence=True,
                             client_id="kp-producer")
    futures = [(b"key-%d" % i, producer.send("kp-orders", key=b"key-%d" % i, value=b"value-%d" % i))
               for i in range(RECORDS)]
    producer.flush(30)
    acknowledged = {}
    for key, future in futures:
        metadata = future.get(30)
        assert metadata.partition == partition_for_key(key, 3)
        acknowledged[(metadata.partition, metadata.offset)] = key
    assert len(acknowledged) == RECORDS
    producer.close()

    consumer = _consumer(serve, "kp-billing", "kp-orders")
    records = _poll_all(consumer, RECORDS)
    assert {(r.partition, r.offset): r.key for r in records} == acknowledged
    consumer.commit()
    consumer.close()

    described = serve.act("describe_topic: kp-orders")["result"]
    assert sum(p["high_watermark"] for p in described["partitions"]) == RECORDS
    assert all(sorted(p["isr"]) == [1, 2, 3] for p in described["partitions"])
    offsets = admin.list_group_offsets("kp-billing")
    assert sum(o.offset for o in offsets["kp-billing"].values()) == RECORDS

    producer = KafkaProducer(bootstrap_servers=serve.bootstrap, acks="all")
    for i in range(10):
        producer.send("kp-orders", key=b"later-%d" % i, value=b"later")
    producer.flush(30)
    producer.close()
    again = _consumer(serve, "kp-billing", "kp-orders")
    resumed = _poll_all(again, 10)
    assert sorted(r.key for r in resumed) == sorted(b"later-%d" % i for i in range(10))
    again.close()
    assert serve.act("describe_group: kp-billing")["result"]["state"] == "Empty"
    admin.close()


def test_two_consumers_split_partitions_and_the_second_leaving_hands_them_back(serve: ServeProcess) -> None:
    admin = _admin(serve)
    admin.create_topics([NewTopic("kp-split", 4, 3)])
    first = _PollLoop(_consumer(serve, "kp-split-group", "kp-split", client_id="first", heartbeat_interval_ms=500))
    serve.wait_for(lambda: first.owns(4), what="first consumer owns all four partitions")
    second = _PollLoop(_consumer(serve, "kp-split-group", "kp-split", client_id="second", heartbeat_interval_ms=500))
    serve.wait_for(lambda: first.owns(2) and second.owns(2), timeout=60, what="the partitions split two and two")
    assert first.assignment.isdisjoint(second.assignment)
    described = serve.act("describe_group: kp-split-group")["result"]
    assert sorted(m["client_id"] for m in described["members"]) == ["first", "second"]
    assert "kp-split-group" in {group["group_id"] for group in admin.list_groups()}

    second.close()
    serve.wait_for(lambda: first.owns(4), timeout=60, what="the first consumer gets every partition back")
    first.close()
    admin.close()


def test_admin_describes_lists_and_deletes(serve: ServeProcess) -> None:
    admin = _admin(serve)
    admin.create_topics([NewTopic("kp-admin", 2, 3, topic_configs={"retention.ms": "60000"})])
    # DescribeConfigs may reach a broker whose metadata does not hold the new topic yet: Kafka answers
    # UNKNOWN_TOPIC_OR_PARTITION there (and kafka-python shows no configs) until it does.
    resource = ConfigResource(ConfigResourceType.TOPIC, "kp-admin", ["retention.ms"])
    serve.wait_for(lambda: "60000" in str(admin.describe_configs([resource])), what="the topic's configs")
    admin.create_partitions({"kp-admin": NewPartitions(3)})
    assert len(serve.act("describe_topic: kp-admin")["result"]["partitions"]) == 3
    consumer = _consumer(serve, "kp-admin-group", "kp-admin")
    serve.wait_for(lambda: consumer.poll(timeout_ms=200) is not None and consumer.assignment(), what="assignment")
    consumer.commit({TopicPartition("kp-admin", 0): kafka.OffsetAndMetadata(0, "", -1)})
    described = admin.describe_groups(["kp-admin-group"])["kp-admin-group"]
    assert described["group_state"] == "Stable"
    assert [m["client_id"] for m in described["members"]] == ["kp-admin-group-client"]
    listed = {group["group_id"]: group for group in admin.list_groups()}
    assert listed["kp-admin-group"]["group_state"] == "Stable"
    consumer.close()
    deleted = admin.delete_groups(["kp-admin-group"])
    assert list(deleted) == ["kp-admin-group"] and getattr(deleted["kp-admin-group"], "errno", 0) == 0
    assert serve.act("describe_group: kp-admin-group")["error"] == "GROUP_ID_NOT_FOUND"
    admin.delete_topics(["kp-admin"])
    assert serve.wait_for(lambda: serve.act("describe_topic: kp-admin").get("error") == "UNKNOWN_TOPIC_OR_PARTITION",
                          what="the topic is gone")
    admin.close()
