"""What brokers say of themselves (``describe()``): the only way views read the engine."""

from __future__ import annotations

from cluster_helpers import FAST, open_cluster

from kafkalab.broker.replica_descriptions import ReplicaDescriptions
from kafkalab.clients.consumer_loop import PollLoop
from kafkalab.cluster.invariants import check_invariants
from kafkalab.protocol.types import TopicPartition
from kafkalab.views import HostedReplica


def test_replicas_describe_their_role_isr_and_offsets_as_the_snapshot_shows_them(clusters):
    cluster = open_cluster(clusters)
    try:
        cluster.wait(cluster.create_topic("orders", 2, 3))
        cluster.wait(cluster.produce("orders", 0, [(b"k", b"v")] * 5))
        cluster.run_for(1000)
        view = cluster.snapshot().partition("orders", 0)
        tp = TopicPartition("orders", 0)
        described = {broker_id: broker.describe_replicas(tp) for broker_id, broker in cluster.brokers.items()}
        assert all(list(replicas) == [tp] for replicas in described.values())
        leader = described[view.leader][tp]
        assert leader == HostedReplica("orders", 0, True, view.leader, view.leader_epoch, leader.isr, 0, 5, 5,
                                       leader.size_bytes, 5)
        assert sorted(leader.isr) == sorted(view.isr) and leader.size_bytes > 0
        for replica in view.replica_views:
            hosted = described[replica.broker_id][tp]
            assert (hosted.is_leader, hosted.log_start_offset, hosted.high_watermark, hosted.log_end_offset,
                    hosted.size_bytes) == (replica.is_leader, replica.log_start_offset, replica.high_watermark,
                                           replica.log_end_offset, replica.size_bytes)
        every = cluster.broker(view.leader).describe_replicas()
        assert {t for t in every if t.topic == "orders"} == {tp, TopicPartition("orders", 1)}
        assert cluster.broker(view.leader).replica_log(tp).log_end_offset == 5
    finally:
        cluster.close()


def test_a_stopped_broker_describes_no_replicas_and_no_log(clusters):
    cluster = open_cluster(clusters)
    try:
        cluster.wait(cluster.create_topic("orders", 1, 3))
        cluster.kill_broker(2)
        broker = cluster.broker(2)
        status = broker.describe()
        assert (status.broker_id, status.node, status.state, status.running) == (2, "broker-2", "not running", False)
        assert (status.controller_active, status.records_in, status.groups) == (False, 0, ())
        assert broker.describe_replicas() == {}
        assert broker.replica_log(TopicPartition("orders", 0)) is None
        assert [b.describe().controller_active for b in cluster.brokers.values()].count(True) == 1
    finally:
        cluster.close()


def test_only_the_coordinator_describes_a_group_with_its_members_and_commits(clusters):
    cluster = open_cluster(clusters)
    try:
        cluster.wait(cluster.create_topic("orders", 2, 3))
        cluster.wait(cluster.produce("orders", 0, [(None, b"v")] * 4))
        consumer = cluster.consumer(group_id="g", auto_offset_reset="earliest", enable_auto_commit=False)
        consumer.subscribe(["orders"])
        loop = PollLoop(consumer).start()
        cluster.run_for(4000)
        loop.stop()
        cluster.wait(consumer.commit_sync())
        view = cluster.snapshot().group("g")
        described = {broker_id: broker.describe().groups for broker_id, broker in cluster.brokers.items()}
        assert [broker_id for broker_id, groups in described.items() if groups] == [view.coordinator]
        (group,) = described[view.coordinator]
        assert (group.group_id, group.state, group.generation, group.protocol) == ("g", "Stable", 1, "range")
        assert group.members == view.members
        assert dict(group.committed) == {TopicPartition("orders", 0): 4, TopicPartition("orders", 1): 0}
        assert set(group.owners.values()) == {consumer.member_id}
        cluster.wait(consumer.close())
    finally:
        cluster.close()


def test_a_snapshot_rebuilds_the_views_of_partitions_that_changed_and_reuses_the_rest(clusters):
    cluster = open_cluster(clusters, **FAST)
    cluster.wait(cluster.create_topic("orders", 2, 3))
    cluster.run_for(2000)
    before = cluster.snapshot()
    cluster.wait(cluster.produce("orders", 0, [(None, b"v")], acks=-1))
    cluster.run_for(100)
    after = cluster.snapshot()
    assert after.partition("orders", 0).log_end_offset == 1
    assert all(r.log_end_offset == 1 for r in after.partition("orders", 0).replica_views)
    assert after.partition("orders", 1) is before.partition("orders", 1)
    cluster.kill_broker(after.partition("orders", 1).leader)
    cluster.run_for(10_000)
    moved = cluster.snapshot().partition("orders", 1)
    assert moved is not before.partition("orders", 1) and moved.leader != before.partition("orders", 1).leader


def _described_afresh(cluster, broker_id):
    """What the broker describes with nothing kept from earlier snapshots."""
    replicas = cluster.broker(broker_id).replicas
    return ReplicaDescriptions(replicas.last_stable_offset).describe(
        replicas.partitions, replicas.producer_states.unstable_partitions())


def test_kept_descriptions_follow_appends_elections_and_restarts(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 1, 3))
    first = cluster.snapshot().partition("orders", 0)
    cluster.wait(cluster.produce("orders", 0, [(b"k", b"v")] * 3))
    cluster.run_for(1000)
    after = cluster.snapshot().partition("orders", 0)
    assert (first.high_watermark, after.high_watermark, after.log_end_offset) == (0, 3, 3)
    cluster.kill_broker(first.leader)
    cluster.run_for(30_000)
    moved = cluster.snapshot().partition("orders", 0)
    assert moved.leader != first.leader and moved.leader_epoch > first.leader_epoch
    cluster.restart_broker(first.leader)
    cluster.run_for(30_000)
    cluster.snapshot()
    for broker_id in cluster.brokers:
        assert cluster.broker(broker_id).describe_replicas() == _described_afresh(cluster, broker_id)


def test_a_change_that_moves_no_change_count_breaks_an_invariant(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 1, 3))
    cluster.run_for(1000)
    assert check_invariants(cluster) == []
    leader = cluster.snapshot().partition("orders", 0).leader
    partition = cluster.broker(leader).replicas.partitions[TopicPartition("orders", 0)]
    partition.isr = (leader,)  # as a change made without counting would
    rules = {violation.rule for violation in check_invariants(cluster)}
    assert "a replica's description matches its state" in rules


def test_a_topic_that_did_not_change_is_the_same_view_in_the_next_snapshot(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 2, 3))
    cluster.wait(cluster.create_topic("payments", 1, 3))
    cluster.run_for(1000)
    first = cluster.snapshot()
    again = cluster.snapshot()
    assert again.topic("orders") is first.topic("orders") and again.topic("payments") is first.topic("payments")
    cluster.wait(cluster.produce("orders", 1, [(b"k", b"v")]))
    cluster.run_for(1000)
    moved = cluster.snapshot()
    assert moved.topic("orders") is not first.topic("orders")
    assert moved.partition("orders", 1).log_end_offset == 1
    assert moved.topic("payments") is first.topic("payments")
