"""The consumer against a live cluster: positions, resets, commits, flow control and bad input."""

from __future__ import annotations

import pytest
from clients_helpers import events, open_cluster

from kafkalab.clients.consumer_loop import PollLoop
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import AutoCommitFailed, CoordinatorDiscovered, OffsetReset
from kafkalab.protocol.types import TopicPartition

TP0, TP1 = TopicPartition("orders", 0), TopicPartition("orders", 1)


def _produce(cluster, partition, count, start=0, padding=0, **settings):
    producer = cluster.producer(**settings)
    for n in range(start, start + count):
        producer.send("orders", f"v{n}" + "." * padding, partition=partition)
    cluster.wait(producer.close())


def _poll_all(cluster, consumer, rounds=5, timeout_ms=200):
    records = []
    for _ in range(rounds):
        records += cluster.wait(consumer.poll(timeout_ms))
    return records


def test_poll_returns_records_in_offset_order_and_never_past_the_high_watermark(clusters):
    cluster = open_cluster(clusters, partitions=1)
    _produce(cluster, 0, 3)
    leader = cluster.snapshot().partition("orders", 0).leader
    for follower in {1, 2, 3} - {leader}:
        cluster.cut_link(leader, follower)  # followers stop fetching: the high watermark cannot move
    _produce(cluster, 0, 2, start=3, acks="1")
    view = cluster.snapshot().partition("orders", 0)
    assert (view.high_watermark, view.log_end_offset) == (3, 5)
    consumer = cluster.consumer(auto_offset_reset="earliest")
    consumer.assign([TP0])
    assert [r.offset for r in _poll_all(cluster, consumer)] == [0, 1, 2]
    for follower in {1, 2, 3} - {leader}:
        cluster.heal_link(leader, follower)
    # The followers' fetches were lost with the links; they retry and the high watermark catches up.
    assert [(r.offset, r.value) for r in _poll_all(cluster, consumer, rounds=8, timeout_ms=10_000)] == \
           [(3, b"v3"), (4, b"v4")]
    assert consumer.lag() == {TP0: 0}


def test_seek_position_pause_and_resume(clusters):
    cluster = open_cluster(clusters, partitions=2)
    _produce(cluster, 0, 10)
    _produce(cluster, 1, 4)
    consumer = cluster.consumer(group_id="g", auto_offset_reset="earliest")
    consumer.assign([TP0, TP1])
    consumer.pause([TP1])
    first = _poll_all(cluster, consumer)
    assert {r.partition for r in first} == {0} and consumer.paused() == {TP1}
    consumer.resume([TP1])
    assert [r.offset for r in _poll_all(cluster, consumer)] == [0, 1, 2, 3]
    consumer.seek(TP0, 7)
    assert cluster.wait(consumer.position(TP0)) == 7
    assert [r.offset for r in cluster.wait(consumer.poll(500))] == [7, 8, 9]
    mark = cluster.journal.last_seq
    consumer.seek_to_beginning([TP0])
    assert cluster.wait(consumer.position(TP0)) == 0
    consumer.seek_to_end()
    assert (cluster.wait(consumer.position(TP0)), cluster.wait(consumer.position(TP1))) == (10, 4)
    # The narration names the seek the user asked for, not auto.offset.reset.
    told = [e.describe() for e in events(cluster, mark, OffsetReset)]
    assert told[0].endswith("starts orders-0 at offset 0, the log start offset, as seek_to_beginning() asked.")
    assert all("auto.offset.reset" not in line for line in told) and "seek_to_end()" in told[-1]


def test_auto_offset_reset_latest_and_none(clusters):
    cluster = open_cluster(clusters, partitions=1)
    _produce(cluster, 0, 5)
    latest = cluster.consumer(group_id="late", auto_offset_reset="latest")
    latest.assign([TP0])
    assert _poll_all(cluster, latest, rounds=2) == []
    _produce(cluster, 0, 2, start=5)
    assert [r.offset for r in _poll_all(cluster, latest)] == [5, 6]
    strict = cluster.consumer(group_id="strict", auto_offset_reset="none")
    strict.assign([TP0])
    with pytest.raises(KafkaError) as no_offset:
        cluster.wait(strict.poll(100))
    assert no_offset.value.error == Errors.NO_OFFSET_FOR_PARTITION and "orders-0" in str(no_offset.value)
    cluster.wait(latest.commit_sync())
    resumed = cluster.consumer(group_id="late", auto_offset_reset="none")
    resumed.assign([TP0])
    assert cluster.wait(resumed.position(TP0)) == 7  # a committed offset needs no reset policy


def test_offset_out_of_range_after_retention_deleted_the_committed_position(clusters):
    cluster = open_cluster(clusters, partitions=1, config={"log.retention.check.interval.ms": 1000},
                           topic_config={"segment.bytes": 1000, "retention.bytes": 1500})
    _produce(cluster, 0, 10)
    old = cluster.consumer(group_id="g", auto_offset_reset="earliest")
    old.assign([TP0])
    cluster.wait(old.commit_sync({TP0: 0}))
    _produce(cluster, 0, 60, start=10, padding=100, batch_size=300)
    cluster.run_for(3000)
    start = cluster.snapshot().partition("orders", 0).log_start_offset
    assert start > 0
    mark = cluster.journal.last_seq
    resetting = cluster.consumer(group_id="g", auto_offset_reset="earliest")
    resetting.assign([TP0])
    records = _poll_all(cluster, resetting)
    assert records[0].offset == start
    resets = events(cluster, mark, OffsetReset)
    assert [(e.offset, e.strategy) for e in resets] == [(start, "earliest")] and "outside" in resets[0].reason
    strict = cluster.consumer(group_id="g", auto_offset_reset="none")
    strict.assign([TP0])
    with pytest.raises(KafkaError) as out_of_range:
        _poll_all(cluster, strict)
    assert out_of_range.value.error == Errors.OFFSET_OUT_OF_RANGE


def test_commits_sync_async_and_committed(clusters):
    cluster = open_cluster(clusters, partitions=2)
    _produce(cluster, 0, 5)
    consumer = cluster.consumer(group_id="g", auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.assign([TP0, TP1])
    _poll_all(cluster, consumer)
    cluster.wait(consumer.commit_async())
    assert cluster.wait(consumer.committed([TP0, TP1])) == {TP0: consumer_offset(5), TP1: consumer_offset(0)}
    cluster.wait(consumer.commit_sync({TP0: 2}))
    assert cluster.wait(consumer.committed([TP0]))[TP0].offset == 2
    with pytest.raises(KafkaError) as negative:
        consumer.commit_sync({TP0: -1})
    assert negative.value.error == Errors.INVALID_ARGUMENT
    assert cluster.wait(consumer.committed([TP0]))[TP0].offset == 2  # nothing changed


def consumer_offset(offset):
    from kafkalab.clients.consumer import OffsetAndMetadata
    return OffsetAndMetadata(offset)


def test_a_commit_from_a_member_of_an_old_generation_fails_as_commit_failed(clusters):
    cluster = open_cluster(clusters, partitions=2)
    slow = cluster.consumer(group_id="g", enable_auto_commit=False, max_poll_interval_ms=10_000)
    slow.subscribe(["orders"])
    cluster.wait(slow.poll(1000))
    other = cluster.consumer(group_id="g")
    other.subscribe(["orders"])
    loop = PollLoop(other).start()
    cluster.run_for(30_000)  # slow never polls again: it is thrown out and the other takes over
    assert loop.running and other.assignment() == {TP0, TP1}
    with pytest.raises(KafkaError) as failed:
        cluster.wait(slow.commit_sync({TP0: 1}))
    assert failed.value.error == Errors.COMMIT_FAILED and "kicked out of the group" in str(failed.value)
    assert cluster.wait(other.committed([TP0]))[TP0].offset == 0  # the stale commit changed nothing


def test_bad_input_gets_kafkas_error_names_and_changes_nothing(clusters):
    cluster = open_cluster(clusters, partitions=2)
    subscribed = cluster.consumer(group_id="g")
    subscribed.subscribe(["orders"])
    with pytest.raises(KafkaError) as mixed:
        subscribed.assign([TP0])
    assert mixed.value.error == Errors.ILLEGAL_STATE and "mutually exclusive" in str(mixed.value)
    assert subscribed.assignment() == set() and subscribed.subscription() == {"orders"}
    assigned = cluster.consumer(group_id="g2")
    assigned.assign([TP0])
    with pytest.raises(KafkaError) as mixed_back:
        assigned.subscribe(["orders"])
    assert mixed_back.value.error == Errors.ILLEGAL_STATE and assigned.assignment() == {TP0}
    with pytest.raises(KafkaError) as no_group:
        cluster.consumer().subscribe(["orders"])
    assert no_group.value.error == Errors.INVALID_GROUP_ID
    with pytest.raises(KafkaError) as empty_group:
        cluster.consumer(group_id="").subscribe(["orders"])
    assert empty_group.value.error == Errors.INVALID_GROUP_ID
    with pytest.raises(KafkaError) as strategy:
        cluster.consumer(group_id="g", partition_assignment_strategy="fair-share")
    assert strategy.value.error == Errors.INVALID_CONFIG and "range, roundrobin" in str(strategy.value)
    with pytest.raises(KafkaError) as seek:
        assigned.seek(TP0, -5)
    assert seek.value.error == Errors.INVALID_ARGUMENT
    with pytest.raises(KafkaError) as not_mine:
        assigned.seek(TP1, 0)
    assert not_mine.value.error == Errors.ILLEGAL_STATE
    ghost = cluster.consumer()
    ghost.assign([TopicPartition("orders", 9)])
    with pytest.raises(KafkaError) as unknown:
        cluster.wait(ghost.poll(2000))  # retried until metadata of the new topic reached the brokers
    assert unknown.value.error == Errors.UNKNOWN_TOPIC_OR_PARTITION
    with pytest.raises(KafkaError) as idle:
        cluster.consumer().poll(10)
    assert idle.value.error == Errors.ILLEGAL_STATE
    assert cluster.snapshot().groups == ()  # no group was created by any of it


def test_an_automatic_commit_that_fails_is_journaled_and_the_next_one_commits(clusters):
    cluster = open_cluster(clusters, partitions=1, config={"zookeeper.session.timeout.ms": 6000})
    _produce(cluster, 0, 3)
    consumer = cluster.consumer(group_id="g", auto_offset_reset="earliest", auto_commit_interval_ms=1000)
    consumer.assign([TP0])
    assert len(_poll_all(cluster, consumer)) == 3
    [found] = events(cluster, 0, CoordinatorDiscovered)
    cluster.kill_broker(found.broker_id)
    mark = cluster.journal.last_seq
    for _ in range(40):  # polls drive the automatic commits, one per auto.commit.interval.ms
        cluster.wait(consumer.poll(500))
    failed = events(cluster, mark, AutoCommitFailed)
    # The killed coordinator's connection closes under the commit in flight.
    assert failed and (failed[0].group_id, failed[0].error) == ("g", "NETWORK_EXCEPTION")
    assert "commits again at the next interval" in failed[0].describe()
    assert cluster.wait(consumer.committed([TP0]))[TP0].offset == 3
