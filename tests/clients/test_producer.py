"""The producer against a live cluster: partitioning as Kafka's Java client, batching, acks, retries, bad input."""

from __future__ import annotations

import pytest
from clients_helpers import events, open_cluster

from kafkalab.clients.partitioners import partition_for_key
from kafkalab.clients.producer import RecordMetadata
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import ProduceFailed, ProduceRetried
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Process, spawn
from kafkalab.sim.scheduler import TimerGroup
from kafkalab.storage.records import iter_batch_headers, iter_records


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


def test_keyed_records_land_where_kafkas_murmur2_partitioner_puts_them(clusters):
    cluster = open_cluster(clusters, partitions=6)
    producer = cluster.producer()
    # murmur2 values from Kafka's UtilsTest / a JVM: "key" -> 1, "abc" -> 3, "21" -> 0 over 6 partitions.
    sent = {key: producer.send("orders", "v", key=key) for key in ("key", "abc", "21")}
    keys = [f"customer-{n}" for n in range(40)]
    more = {key: producer.send("orders", "v", key=key) for key in keys}
    cluster.wait(producer.flush())
    assert {key: f.result().partition for key, f in sent.items()} == {"key": 1, "abc": 3, "21": 0}
    assert all(f.result().partition == partition_for_key(key.encode(), 6) for key, f in more.items())


def test_keyless_records_stick_to_one_partition_in_one_batch(clusters):
    cluster = open_cluster(clusters, partitions=3)
    producer = cluster.producer()
    futures = [producer.send("orders", f"small-{n}") for n in range(50)]
    cluster.wait(producer.flush())
    partitions = {f.result().partition for f in futures}
    assert len(partitions) == 1
    assert [f.result().offset for f in futures] == list(range(50))
    assert _batches(cluster, "orders", partitions.pop()) == [(0, 50)]  # one v2 batch, not fifty


def test_sticky_partition_moves_on_after_batch_size_bytes(clusters):
    cluster = open_cluster(clusters, partitions=3)
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


def test_round_robin_and_explicit_and_user_partitioners(clusters):
    cluster = open_cluster(clusters, partitions=3)
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


def test_acks_zero_does_not_wait_and_reports_no_offset(clusters):
    cluster = open_cluster(clusters)
    producer = cluster.producer(acks="0")
    assert not producer.idempotent  # acks=0 quietly turns off the default idempotence, as in Kafka 3.x
    result = cluster.wait(producer.send("orders", "fire-and-forget", partition=0))
    assert result.offset == -1
    cluster.run_for(100)
    assert cluster.snapshot().partition("orders", 0).high_watermark == 1


def test_linger_ms_gathers_records_sent_over_time_into_one_batch(clusters):
    cluster = open_cluster(clusters)
    producer = cluster.producer(linger_ms=50)
    futures = []
    for n in range(5):
        futures.append(producer.send("orders", f"v{n}", partition=0))
        cluster.run_for(5)
    cluster.wait(futures[-1])
    assert _batches(cluster, "orders", 0) == [(0, 5)]


def test_retries_follow_the_leader_when_it_dies(clusters):
    cluster = open_cluster(clusters, partitions=1, config={"zookeeper.session.timeout.ms": 6000})
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


def test_delivery_timeout_fails_records_that_cannot_be_written(clusters):
    cluster = open_cluster(clusters, partitions=1, replication=1)
    leader = cluster.snapshot().partition("orders", 0).leader
    cluster.kill_broker(leader)
    producer = cluster.producer(delivery_timeout_ms=40_000, request_timeout_ms=10_000)
    mark = cluster.journal.last_seq
    future = producer.send("orders", "doomed")
    cluster.run_for(45_000)
    assert future.error is not None and future.error.error == Errors.REQUEST_TIMED_OUT
    assert [e.error for e in events(cluster, mark, ProduceFailed)] == ["REQUEST_TIMED_OUT"]


def test_bad_input_names_kafkas_error_and_changes_nothing(clusters):
    cluster = open_cluster(clusters)
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


def test_a_produce_that_finally_fails_says_what_the_broker_kept_answering_in_one_event(clusters):
    cluster = open_cluster(clusters, partitions=1, config={"zookeeper.session.timeout.ms": 6000})
    cluster.wait(cluster.alter_topic_config("orders", {"min.insync.replicas": 3}))
    leader = cluster.snapshot().partition("orders", 0).leader
    follower = next(r for r in cluster.snapshot().partition("orders", 0).replicas if r != leader)
    cluster.kill_broker(follower)
    cluster.run_for(10_000)
    producer = cluster.producer(delivery_timeout_ms=20_000, request_timeout_ms=5000)
    mark = cluster.journal.last_seq
    future = producer.send("orders", "refused")
    cluster.run_for(25_000)
    assert future.error is not None and future.error.error == Errors.REQUEST_TIMED_OUT
    message = future.error.message
    assert "delivery.timeout.ms=20000" in message and "got NOT_ENOUGH_REPLICAS" in message
    assert "min.insync.replicas=3" in message
    assert [e.error for e in events(cluster, mark, ProduceRetried)] == ["NOT_ENOUGH_REPLICAS"], "one event, not one each"
    [failed] = events(cluster, mark, ProduceFailed)
    assert failed.reason == message


def test_buffer_memory_bounds_what_a_producer_holds_and_exhausted_memory_sends_at_once(clusters):
    """Kafka's BufferPool: unsettled records may fill buffer.memory; then batches go out without lingering."""
    cluster = open_cluster(clusters, partitions=1)
    producer = cluster.producer(buffer_memory=10_000, linger_ms=60_000, batch_size=100_000)
    futures = [producer.send("orders", b"x" * 1000) for _ in range(9)]
    assert not producer.buffer_exhausted
    futures.append(producer.send("orders", b"x" * 1000))
    assert producer.buffer_exhausted
    cluster.run_for(1000)  # far less than linger.ms: memory ran out, so the batch was sent at once
    assert all(future.done and future.error is None for future in futures) and not producer.buffer_exhausted
    too_big = producer.send("orders", b"x" * 20_000)
    assert too_big.error.error == Errors.MESSAGE_TOO_LARGE
    assert "larger than the total memory buffer you have configured with the buffer.memory configuration" in str(
        too_big.error)


def test_record_futures_settle_with_their_batch_and_run_callbacks_in_the_order_added(clusters):
    """Kafka's FutureRecordMetadata: one outcome per batch, each record's metadata from its place in it."""
    cluster = open_cluster(clusters, partitions=1)
    producer = cluster.producer()
    heard: list[tuple[str, int]] = []
    # Sent before the producer has metadata: these wait for it before they have a batch.
    early = [producer.send("orders", f"v{n}", timestamp=1000 + n) for n in range(3)]
    for n, future in enumerate(early):
        future.add_done_callback(lambda f, n=n: heard.append((f"early-{n}", f.result().offset)))
    flushed = producer.flush()
    assert not flushed.done and not any(f.done for f in early)
    with pytest.raises(RuntimeError):
        early[0].result()
    cluster.wait(flushed)
    assert all(f.done and f.error is None for f in early)
    # Metadata known now: the record goes into a batch at once, and the callback waits for that batch.
    late = producer.send("orders", "v3", key="k")
    late.add_done_callback(lambda f: heard.append(("late", f.result().offset)))
    assert not late.done and heard == [("early-0", 0), ("early-1", 1), ("early-2", 2)]

    def wait_in_a_process() -> Process[int]:
        metadata = yield producer.send("orders", "v4")
        return metadata.offset

    assert cluster.wait(spawn(TimerGroup(cluster.scheduler, "test"), wait_in_a_process(), name="waits")) == 4
    assert heard[-1] == ("late", 3)
    assert [f.result() for f in early] == [RecordMetadata("orders", 0, n, 1000 + n) for n in range(3)]
    assert late.result().partition == 0
    after: list[int] = []
    late.add_done_callback(lambda f: after.append(f.result().offset))  # already settled: runs at once
    assert after == [3]


def test_a_failed_batch_fails_every_record_in_it_and_frees_its_memory(clusters):
    cluster = open_cluster(clusters, partitions=1, replication=1)
    cluster.kill_broker(cluster.snapshot().partition("orders", 0).leader)
    producer = cluster.producer(delivery_timeout_ms=40_000, request_timeout_ms=10_000, buffer_memory=270)
    futures = [producer.send("orders", "doomed") for _ in range(10)]
    assert producer.buffer_exhausted  # ten records of 27 bytes each (upper bound) fill 270 bytes
    errors: list[BaseException | None] = []
    for future in futures:
        future.add_done_callback(lambda f: errors.append(f.error))
    cluster.run_for(45_000)
    assert len(errors) == 10 and all(e is futures[0].error for e in errors)
    assert futures[0].error.error == Errors.REQUEST_TIMED_OUT
    with pytest.raises(KafkaError):
        futures[-1].result()
    assert not producer.buffer_exhausted


def test_partitions_for_waits_for_the_topics_metadata_or_fails_after_max_block_ms(clusters):
    cluster = open_cluster(clusters, partitions=6)
    producer = cluster.producer(max_block_ms=2000)
    waiting = producer.partitions_for("orders")
    assert not waiting.done  # no metadata yet: Kafka's partitionsFor would block here
    assert cluster.wait(waiting) == (0, 1, 2, 3, 4, 5)
    began = cluster.scheduler.now_ms
    with pytest.raises(KafkaError) as failed:
        cluster.wait(producer.partitions_for("no-such-topic"))
    assert failed.value.error == Errors.UNKNOWN_TOPIC_OR_PARTITION
    assert cluster.scheduler.now_ms - began >= 2000


def test_records_in_one_batch_keep_their_own_timestamps_whatever_their_order(clusters):
    """A batch is encoded as records are appended: each record's timestamp delta is from the first record's."""
    cluster = open_cluster(clusters, partitions=1)
    producer = cluster.producer()
    cluster.wait(producer.partitions_for("orders"))
    stamps = [5_000, 4_000, 5_000, 9_000, 0]
    futures = [producer.send("orders", f"v{n}", key="k", timestamp=stamp) for n, stamp in enumerate(stamps)]
    cluster.wait(producer.flush())
    assert [f.result() for f in futures] == [RecordMetadata("orders", 0, n, stamp) for n, stamp in enumerate(stamps)]
    log = cluster.broker(cluster.snapshot().partition("orders", 0).leader).replica_log(TopicPartition("orders", 0))
    data = log.read(0, 10_000_000)
    [(position, header)] = iter_batch_headers(data)
    assert (header.base_timestamp, header.max_timestamp) == (5_000, 9_000)
    assert [(r.offset, r.timestamp, r.value) for r in iter_records(data, position, header)] == [
        (n, stamp, f"v{n}".encode()) for n, stamp in enumerate(stamps)]
