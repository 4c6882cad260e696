"""The producer against a live cluster: partitioning as Kafka's Java client, batching, acks, retries, bad input."""

from __future__ import annotations

import pytest
from clients_helpers import events, open_cluster

from kafkalab.clients.partitioners import partition_for_key
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import ProduceFailed, ProduceRetried
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.records import iter_batch_headers


def _batches(cluster, topic, partition):
    """(base offset, record count) of every batch in the partition's leader log."""
    leader = cluster.snapshot().partition(topic, partition).leader
    log = cluster.broker(leader).replica_log(TopicPartition(topic, partition))
    return [(h.base_offset, h.record_count) for _, h in iter_batch_headers(log.read(0, 10_000_000))]


def _runs(futures):
    """Lengths of the runs of consecutive records that went to the same partition."""
    runs: list[list[int]] = []
    for future in futures:
        partition = future.result().partition
        if not runs or runs[-1][0] != partition:
            runs.append([partition, 0])
        runs[-1][1] += 1
    return runs


def test_keyed_records_land_where_kafkas_murmur2_partitioner_puts_them(tmp_path):
    cluster = open_cluster(tmp_path / "data", partitions=6)
    producer = cluster.producer()
    # murmur2 values from Kafka's UtilsTest / a JVM: "key" -> 1, "abc" -> 3, "21" -> 0 over 6 partitions.
    sent = {key: producer.send("orders", "v", key=key) for key in ("key", "abc", "21")}
    keys = [f"customer-{n}" for n in range(40)]
    more = {key: producer.send("orders", "v", key=key) for key in keys}
    cluster.wait(producer.flush())
    assert {key: f.result().partition for key, f in sent.items()} == {"key": 1, "abc": 3, "21": 0}
    assert all(f.result().partition == partition_for_key(key.encode(), 6) for key, f in more.items())
    cluster.close()


def test_keyless_records_stick_to_one_partition_in_one_batch(tmp_path):
    cluster = open_cluster(tmp_path / "data", partitions=3)
    producer = cluster.producer()
    futures = [producer.send("orders", f"small-{n}") for n in range(50)]
    cluster.wait(producer.flush())
    partitions = {f.result().partition for f in futures}
    assert len(partitions) == 1
    assert [f.result().offset for f in futures] == list(range(50))
    assert _batches(cluster, "orders", partitions.pop()) == [(0, 50)]  # one v2 batch, not fifty
    cluster.close()


def test_sticky_partition_moves_on_after_batch_size_bytes(tmp_path):
    cluster = open_cluster(tmp_path / "data", partitions=3)
    producer = cluster.producer(batch_size=1000)
    # 101 bytes per record. Sent in one burst, the open batch defers the switch up to 2 x batch.size (KIP-794):
    burst = [producer.send("orders", "x" * 80) for _ in range(200)]
    cluster.wait(producer.flush())
    assert all(len({f.result().partition for f in burst[i:i + 20]}) == 1 for i in range(0, 200, 20))
    assert len({f.result().partition for f in burst}) == 3
    # Sent one by one, each batch leaves before the next record: the switch comes after batch.size bytes.
    trickle = []
    for _ in range(100):
        trickle.append(producer.send("orders", "x" * 80))
        cluster.run_for(1)
    cluster.wait(producer.flush())
    assert all(len({f.result().partition for f in trickle[i:i + 10]}) == 1 for i in range(0, 100, 10))
    assert len(_runs(trickle)) > 1
    cluster.close()


def test_round_robin_and_explicit_and_user_partitioners(tmp_path):
    cluster = open_cluster(tmp_path / "data", partitions=3)
    rr = cluster.producer(partitioner_class="round-robin")
    spread = [rr.send("orders", f"v{n}", key="same-key") for n in range(6)]
    pinned = cluster.producer().send("orders", "pinned", key="k", partition=2)
    user = cluster.producer({"partitioner.class": "sample_user_partitioners:last_partition"})
    last = user.send("orders", "to-the-end")
    by_fn = cluster.producer(partitioner_class=lambda topic, key, value, n: len(value) % n).send("orders", "four")
    for producer in (rr, user):
        cluster.wait(producer.flush())
    cluster.run_for(100)
    assert [f.result().partition for f in spread] == [0, 1, 2, 0, 1, 2]
    assert (pinned.result().partition, last.result().partition, by_fn.result().partition) == (2, 2, 1)
    cluster.close()


def test_acks_zero_does_not_wait_and_reports_no_offset(tmp_path):
    cluster = open_cluster(tmp_path / "data")
    producer = cluster.producer(acks="0")
    assert not producer.idempotent  # acks=0 quietly turns off the default idempotence, as in Kafka 3.x
    result = cluster.wait(producer.send("orders", "fire-and-forget", partition=0))
    assert result.offset == -1
    cluster.run_for(100)
    assert cluster.snapshot().partition("orders", 0).high_watermark == 1
    cluster.close()


def test_linger_ms_gathers_records_sent_over_time_into_one_batch(tmp_path):
    cluster = open_cluster(tmp_path / "data")
    producer = cluster.producer(linger_ms=50)
    futures = []
    for n in range(5):
        futures.append(producer.send("orders", f"v{n}", partition=0))
        cluster.run_for(5)
    cluster.wait(futures[-1])
    assert _batches(cluster, "orders", 0) == [(0, 5)]
    cluster.close()


def test_retries_follow_the_leader_when_it_dies(tmp_path):
    cluster = open_cluster(tmp_path / "data", partitions=1, config={"zookeeper.session.timeout.ms": 6000})
    producer = cluster.producer(request_timeout_ms=5000)
    leader = cluster.snapshot().partition("orders", 0).leader
    mark = cluster.journal.last_seq
    first = [producer.send("orders", f"before-{n}") for n in range(5)]
    cluster.wait(producer.flush())
    cluster.kill_broker(leader)
    after = [producer.send("orders", f"after-{n}") for n in range(5)]
    cluster.wait(producer.flush(), timeout_ms=60_000)
    assert all(f.error is None for f in first + after)
    assert cluster.snapshot().partition("orders", 0).leader != leader
    assert events(cluster, mark, ProduceRetried)
    values = [r.value for r in cluster.wait(cluster.fetch("orders", 0, 0))]
    assert values == [f"before-{n}".encode() for n in range(5)] + [f"after-{n}".encode() for n in range(5)]
    cluster.close()


def test_delivery_timeout_fails_records_that_cannot_be_written(tmp_path):
    cluster = open_cluster(tmp_path / "data", partitions=1, replication=1)
    leader = cluster.snapshot().partition("orders", 0).leader
    cluster.kill_broker(leader)
    producer = cluster.producer(delivery_timeout_ms=40_000, request_timeout_ms=10_000)
    mark = cluster.journal.last_seq
    future = producer.send("orders", "doomed")
    cluster.run_for(45_000)
    assert future.error is not None and future.error.error == Errors.REQUEST_TIMED_OUT
    assert [e.error for e in events(cluster, mark, ProduceFailed)] == ["REQUEST_TIMED_OUT"]
    cluster.close()


def test_bad_input_names_kafkas_error_and_changes_nothing(tmp_path):
    cluster = open_cluster(tmp_path / "data")
    producer = cluster.producer(max_block_ms=5000)
    missing = producer.send("no-such-topic", "v")
    beyond = producer.send("orders", "v", partition=3)
    huge = producer.send("orders", b"x" * 2_000_000)
    cluster.run_for(6000)
    assert missing.error.error == Errors.UNKNOWN_TOPIC_OR_PARTITION
    assert "not present in metadata after 5000 ms" in str(missing.error)
    assert beyond.error.error == Errors.UNKNOWN_TOPIC_OR_PARTITION
    assert huge.error.error == Errors.MESSAGE_TOO_LARGE
    with pytest.raises(KafkaError) as negative:
        producer.send("orders", "v", partition=-1)
    assert negative.value.error == Errors.INVALID_ARGUMENT
    with pytest.raises(KafkaError) as typo:
        cluster.producer(lingr_ms=5)
    assert typo.value.error == Errors.INVALID_CONFIG and "linger.ms" in str(typo.value)
    with pytest.raises(KafkaError) as conflict:
        cluster.producer(enable_idempotence=True, acks="1")
    assert conflict.value.error == Errors.INVALID_CONFIG and "acks to all" in str(conflict.value)
    assert cluster.snapshot().topic("no-such-topic") is None
    assert all(p.high_watermark == 0 for p in cluster.snapshot().topic("orders").partitions)
    cluster.wait(producer.close())
    with pytest.raises(KafkaError) as closed:
        producer.send("orders", "late")
    assert closed.value.error == Errors.ILLEGAL_STATE
    cluster.close()
