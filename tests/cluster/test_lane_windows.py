"""A lane's window of a log (``Inspector.window``): kept while the log does not move, made again when it does."""

from __future__ import annotations

from cluster_helpers import open_cluster

from kafkalab.cluster.inspect import NO_RECORD, Inspector, key_hash
from kafkalab.protocol.types import TopicPartition


def test_a_window_of_a_log_that_did_not_move_is_the_last_one_and_an_append_makes_a_new_one(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 1, 3))
    cluster.wait(cluster.produce("orders", 0, [(b"a", b"v"), (b"b", b"v")]))
    cluster.run_for(1000)
    topic = cluster.snapshot().topic("orders")
    inspector = Inspector(cluster)
    first = inspector.lane_windows(topic, 4)[0]
    assert first.keys == (key_hash(b"a"), key_hash(b"b")) and first.first_offset == 0
    assert inspector.lane_windows(topic, 4)[0] is first
    cluster.wait(cluster.produce("orders", 0, [(b"c", b"v")]))
    cluster.run_for(1000)
    moved = inspector.lane_windows(cluster.snapshot().topic("orders"), 4)[0]
    assert moved.keys == (key_hash(b"a"), key_hash(b"b"), key_hash(b"c"))
    leader = topic.partitions[0].leader
    wider = inspector.window(leader, TopicPartition("orders", 0), 1, 5)
    assert wider.keys == (key_hash(b"b"), key_hash(b"c"), NO_RECORD, NO_RECORD)
