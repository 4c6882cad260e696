"""The uses the seed names: message queue, publish/subscribe, FIFO per key, and replay."""

from __future__ import annotations

from collections import Counter

from group_helpers import consumers, open_cluster, produce, run_checked, values

from kafkalab.clients.consumer_loop import PollLoop
from kafkalab.clients.partitioners import partition_for_key
from kafkalab.protocol.types import TopicPartition

ALL = {f"value-{n}" for n in range(60)}


def _cluster(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 6, 3))
    produce(cluster, "orders", 60)
    return cluster


def test_message_queue_one_group_shares_the_work(clusters):
    cluster = _cluster(clusters)
    loops = consumers(cluster, 3)
    run_checked(cluster, 5000, loops)
    per_consumer = [values(loop) for loop in loops]
    assert all(per_consumer)  # everyone got a share
    counts = Counter(value for share in per_consumer for value in share)
    assert set(counts) == ALL and set(counts.values()) == {1}  # each record handled by exactly one member


def test_publish_subscribe_every_group_gets_everything(clusters):
    cluster = _cluster(clusters)
    billing = consumers(cluster, 2, group="billing")
    shipping = consumers(cluster, 1, group="shipping")
    run_checked(cluster, 5000, billing + shipping)
    assert sorted(v for loop in billing for v in values(loop)) == sorted(ALL)
    assert sorted(values(shipping[0])) == sorted(ALL)


def test_fifo_order_holds_within_a_partition_and_per_key(clusters):
    cluster = _cluster(clusters)
    loops = consumers(cluster, 2)
    run_checked(cluster, 5000, loops)
    for loop in loops:
        by_partition: dict[int, list[int]] = {}
        by_key: dict[bytes, list[int]] = {}
        for record in loop.records:
            by_partition.setdefault(record.partition, []).append(record.offset)
            by_key.setdefault(record.key, []).append(int(record.value.decode().split("-")[1]))
            assert record.partition == partition_for_key(record.key, 6)  # a key always lands in one partition
        assert all(offsets == sorted(offsets) and len(set(offsets)) == len(offsets) for offsets in by_partition.values())
        assert all(sends == sorted(sends) for sends in by_key.values())  # per key: in the order produced


def test_replay_rereads_the_log_from_any_offset(clusters):
    cluster = _cluster(clusters)
    reader = cluster.consumer(group_id="audit", auto_offset_reset="earliest")
    tp = TopicPartition("orders", 0)
    reader.assign([tp])
    loop = PollLoop(reader).start()
    run_checked(cluster, 2000)
    first = [(r.offset, r.value) for r in loop.records]
    assert first and [offset for offset, _ in first] == list(range(len(first)))
    loop.stop()
    cluster.run_for(200)
    reader.seek(tp, 3)
    assert cluster.wait(reader.position(tp)) == 3
    replayed = cluster.wait(reader.poll(1000))
    assert [(r.offset, r.value) for r in replayed] == first[3:]
    reader.seek_to_beginning([tp])
    assert cluster.wait(reader.position(tp)) == 0
    assert [(r.offset, r.value) for r in cluster.wait(reader.poll(1000))] == first
    # A brand-new group starting from the earliest offset replays the whole topic too.
    fresh = consumers(cluster, 1, group="replay")
    run_checked(cluster, 3000, fresh)
    assert sorted(values(fresh[0])) == sorted(ALL)
