"""A snapshot built from what changed since the last one equals one built from scratch, whatever happened between.

``Cluster.snapshot`` rebuilds only the topics whose replicas changed (``cluster/view_builder.py``)
and each broker describes again only the replicas a change named (``broker/replica_descriptions.py``).
Random sequences of what a learner does (produce, kill and restart brokers, cut links, create and
delete topics, change retention, let time pass) with snapshots taken at random points must leave
that view equal to a fresh builder's, and every kept description equal to one made now.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.cluster.invariants import check_invariants
from kafkalab.cluster.view_builder import ViewBuilder

TOPICS = ("orders", "payments", "audit")
FAST = {"zookeeper.session.timeout.ms": 6000, "replica.lag.time.max.ms": 4000,
        "offsets.topic.num.partitions": 3, "broker.heartbeat.interval.ms": 500}

operations = st.one_of(
    st.tuples(st.just("produce"), st.sampled_from(TOPICS), st.integers(0, 2), st.integers(1, 20),
              st.sampled_from((0, 1, -1))),
    st.tuples(st.just("run"), st.sampled_from((10, 100, 1000, 7000))),
    st.tuples(st.just("kill"), st.integers(1, 3)),
    st.tuples(st.just("restart"), st.integers(1, 3)),
    st.tuples(st.just("cut"), st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.just("heal"), st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.just("create"), st.sampled_from(TOPICS), st.integers(1, 3)),
    st.tuples(st.just("delete"), st.sampled_from(TOPICS)),
    st.tuples(st.just("retention"), st.sampled_from(TOPICS), st.sampled_from((1, 600_000))),
)
#: Each operation, and whether a snapshot is taken after it (skipped ones let changes pile up).
steps = st.lists(st.tuples(operations, st.booleans()), min_size=1, max_size=14)


def apply(cluster: Cluster, operation: tuple) -> None:
    """Do one operation; ones the cluster refuses now (a dead leader, a topic not there) change nothing."""
    kind, *args = operation
    exists = cluster.partition_count
    if kind == "produce":
        topic, partition, count, acks = args
        if (exists(topic) or 0) > partition:
            cluster.produce(topic, partition, [(b"k%d" % n, b"v") for n in range(count)], acks=acks)
    elif kind == "run":
        cluster.run_for(args[0])
    elif kind == "kill" and cluster.broker(args[0]).running:
        cluster.kill_broker(args[0])
    elif kind == "restart" and not cluster.broker(args[0]).running:
        cluster.restart_broker(args[0])
    elif kind == "cut" and args[0] != args[1]:
        cluster.cut_link(*args)
    elif kind == "heal" and args[0] != args[1]:
        cluster.heal_link(*args)
    elif kind == "create" and exists(args[0]) is None:
        cluster.create_topic(args[0], args[1], min(3, len(cluster.live_broker_ids())) or 1)
    elif kind == "delete" and exists(args[0]) is not None:
        cluster.delete_topic(args[0])
    elif kind == "retention" and exists(args[0]) is not None:
        cluster.alter_topic_config(args[0], {"retention.ms": args[1]})
    cluster.run_for(5)


def assert_same_as_from_scratch(cluster: Cluster) -> None:
    incremental = cluster.snapshot()
    assert incremental == ViewBuilder().build(cluster)
    assert [tp for broker in cluster.brokers.values() for tp in broker.stale_descriptions()] == []


@pytest.mark.parametrize("mode", ["zookeeper", "kraft"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=steps)
def test_a_snapshot_equals_one_built_from_scratch_after_any_operations(mode, sequence):
    with tempfile.TemporaryDirectory() as root, Clusters(Path(root)) as clusters:
        cluster = clusters.open(broker_config=FAST, mode=mode)
        cluster.wait(cluster.create_topic("orders", 3, 3))
        cluster.run_for(500)
        assert_same_as_from_scratch(cluster)
        for operation, look in sequence:
            apply(cluster, operation)
            if look:
                assert_same_as_from_scratch(cluster)
        cluster.run_for(100)
        assert_same_as_from_scratch(cluster)
        clusters.acknowledge(cluster)


def test_a_view_update_missed_breaks_the_invariant(clusters):
    """A snapshot that missed a change (as a builder that lost a broker's changed partitions would) is caught:
    it differs from the view a fresh builder makes of the same descriptions."""
    cluster = clusters.open(broker_config=FAST)
    cluster.wait(cluster.create_topic("orders", 2, 3))
    cluster.run_for(1000)
    before = cluster.snapshot()
    assert check_invariants(cluster) == []
    cluster._views._dirty_topics = lambda metadata, changes: set()  # nothing ever changed, it says
    cluster.wait(cluster.produce("orders", 1, [(b"k", b"v")] * 3, acks=-1))
    cluster.run_for(100)
    assert cluster.snapshot().partition("orders", 1) is before.partition("orders", 1)
    assert ViewBuilder().build(cluster).partition("orders", 1).high_watermark == 3
    rules = {violation.rule for violation in check_invariants(cluster)}
    assert rules == {"a snapshot equals one built from scratch"}
