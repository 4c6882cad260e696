"""A leader serves a follower's fetch session by looking only at the partitions that changed.

Kafka's leader reads and updates every partition of the session on every fetch; kafkalab's
looks again only at partitions the follower names, that changed at the leader or that the last
answer carried, and keeps the others' fetch time in one per-session clock. These tests fail if a
changed partition is passed over, if the clock does not stand in for Kafka's per-partition
fetch times in the ISR check (``replica.lag.time.max.ms``), or if a session's waiting fetch is not
woken by a change to one of its partitions.
"""

from __future__ import annotations

from cluster_helpers import FAST, events_since, open_cluster, partition, run_checked, wait_checked

from kafkalab.events.cluster import IsrShrunk

LAG_MS = FAST["replica.lag.time.max.ms"]


def test_every_follower_takes_the_high_watermark_the_last_append_reached_without_another_append(clusters):
    # The slow follower's fetch moves the high watermark a second after the fast one read the record
    # and was then answered at the end of its long poll with nothing new: only the high watermark's
    # move makes the fast follower's session look at the partition again and tell it.
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 3, 3))
    run_checked(cluster, 3000)
    view = partition(cluster, "orders", 1)
    slow = next(r for r in view.replicas if r != view.leader)
    cluster.set_latency(slow, view.leader, 1000)
    wait_checked(cluster, cluster.produce("orders", 1, [(None, b"only")], acks=1))
    run_checked(cluster, 5000)
    view = partition(cluster, "orders", 1)
    assert view.high_watermark == 1
    assert [(r.broker_id, r.log_end_offset, r.high_watermark) for r in view.replica_views] == [
        (r.broker_id, 1, 1) for r in view.replica_views]


def test_isr_lag_counts_from_the_last_fetch_of_the_session_not_the_last_time_the_partition_changed(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 6, 3, {"min.insync.replicas": 1}))
    view = partition(cluster, "orders", 0)
    leader = view.leader
    follower = next(r for r in view.replicas if r != leader)
    led = [p.partition for p in cluster.snapshot().topic("orders").partitions if p.leader == leader]
    wait_checked(cluster, cluster.produce("orders", 0, [(None, b"v0")], acks=-1))
    seq = cluster.journal.last_seq

    # Three lag times with nothing appended: the session's fetches leave the idle partitions alone,
    # and a follower at the leader's end is in sync however long ago its partition last changed.
    run_checked(cluster, 3 * LAG_MS, step_ms=500)
    assert events_since(cluster, seq, IsrShrunk) == []

    cut_at = cluster.scheduler.now_ms
    cluster.cut_link(follower, leader)
    wait_checked(cluster, cluster.produce("orders", 0, [(None, b"v1")], acks=1))
    run_checked(cluster, 2 * LAG_MS, step_ms=500)

    shrunk = events_since(cluster, seq, IsrShrunk)
    assert [(e.partition, e.removed) for e in shrunk] == [(0, (follower,))]
    # Caught up as of the session's last fetch before the cut (at most one long poll earlier), so
    # out of sync one lag time after it, found by the check that runs every half lag time. Had the
    # partition's fetch time stayed where its last change left it, 30 s before, the first check
    # after the append would have removed the follower.
    wait_max = cluster.broker(leader).ctx.config["replica.fetch.wait.max.ms"]
    assert cut_at - wait_max + LAG_MS <= shrunk[0].time_ms <= cut_at + 1.5 * LAG_MS + 1000
    for number in led:
        if number != 0:
            assert follower in partition(cluster, "orders", number).isr, "at the leader's end: in sync"


def test_an_append_answers_the_followers_waiting_fetches_at_once(clusters):
    # A follower session's waiting fetch watches its session, not each partition: an append to any of
    # its partitions must wake it, or acks=all would wait out replica.fetch.wait.max.ms (500 ms).
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 6, 3))
    run_checked(cluster, 3000)
    for number in range(6):
        started = cluster.scheduler.now_ms
        wait_checked(cluster, cluster.produce("orders", number, [(None, b"v")], acks=-1), step_ms=1)
        assert cluster.scheduler.now_ms - started < 10, "two fetch round trips of simulated hops"
