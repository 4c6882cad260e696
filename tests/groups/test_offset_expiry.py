"""Committed offsets expire as Kafka 3.9 expires them (KIP-211, ``offsets.retention.minutes``)."""

from __future__ import annotations

from group_helpers import consumers, events, open_cluster, produce, run_checked

from kafkalab.events.groups import OffsetsExpired
from kafkalab.protocol.types import TopicPartition

#: One minute of retention, checked every second.
RETENTION = {"offsets.retention.minutes": 1, "offsets.retention.check.interval.ms": 1000}
ORDERS_0 = TopicPartition("orders", 0)


def committed(cluster, consumer) -> dict:
    return cluster.wait(consumer.committed([ORDERS_0]))


def test_an_idle_stable_group_keeps_its_offsets_and_an_empty_one_loses_them_after_the_retention(clusters):
    cluster = open_cluster(clusters, config=RETENTION)
    cluster.wait(cluster.create_topic("orders", 1, 3))
    produce(cluster, "orders", 5)
    loops = consumers(cluster, 1)
    run_checked(cluster, 3000, loops)
    cluster.wait(loops[0].consumer.commit_sync())
    seq = cluster.journal.last_seq

    run_checked(cluster, 120_000, loops)  # twice the retention, still subscribed and Stable
    assert not events(cluster, seq, OffsetsExpired)
    assert committed(cluster, loops[0].consumer)[ORDERS_0].offset == 5

    loops[0].stop()
    cluster.wait(loops[0].consumer.close())
    emptied_at = cluster.scheduler.now_ms
    run_checked(cluster, 50_000)
    assert not events(cluster, seq, OffsetsExpired), "the clock starts when the group became Empty"
    run_checked(cluster, 15_000)
    expired = events(cluster, seq, OffsetsExpired)
    assert [(e.group_id, e.partitions, e.group_removed) for e in expired] == [("g", ("orders-0",), True)]
    assert 60_000 <= expired[0].time_ms - emptied_at <= 62_000
    assert cluster.snapshot().group("g") is None

    reader = consumers(cluster, 1)
    run_checked(cluster, 5000, reader)
    assert len(reader[0].records) == 5, "a new member starts at auto.offset.reset (earliest), not at offset 5"


def test_a_standalone_consumer_s_offsets_expire_from_their_commit(clusters):
    cluster = open_cluster(clusters, config=RETENTION)
    cluster.wait(cluster.create_topic("orders", 1, 3))
    produce(cluster, "orders", 3)
    consumer = cluster.consumer(group_id="standalone", enable_auto_commit=False)
    consumer.assign([ORDERS_0])
    cluster.wait(consumer.commit_sync({ORDERS_0: 2}))
    seq = cluster.journal.last_seq
    committed_at = cluster.scheduler.now_ms

    run_checked(cluster, 65_000)
    expired = events(cluster, seq, OffsetsExpired)
    assert [(e.group_id, e.partitions) for e in expired] == [("standalone", ("orders-0",))]
    assert expired[0].time_ms - committed_at >= 60_000
    assert committed(cluster, consumer)[ORDERS_0] is None


def test_expiry_survives_a_coordinator_failover(clusters):
    cluster = open_cluster(clusters, config={**RETENTION, "zookeeper.session.timeout.ms": 6000})
    cluster.wait(cluster.create_topic("orders", 1, 3))
    produce(cluster, "orders", 5)
    loops = consumers(cluster, 1)
    run_checked(cluster, 3000, loops)
    cluster.wait(loops[0].consumer.commit_sync())
    loops[0].stop()
    cluster.wait(loops[0].consumer.close())
    emptied_at = cluster.scheduler.now_ms
    seq = cluster.journal.last_seq
    coordinator = cluster.snapshot().group("g").coordinator
    cluster.kill_broker(coordinator)
    run_checked(cluster, 40_000)
    assert not events(cluster, seq, OffsetsExpired)
    run_checked(cluster, 25_000)
    expired = events(cluster, seq, OffsetsExpired)
    assert [e.group_id for e in expired] == ["g"] and expired[0].broker_id != coordinator
    assert expired[0].time_ms - emptied_at <= 62_000, "the new coordinator kept when the group became Empty"
