"""acks, min.insync.replicas and the ISR as a follower falls behind and catches up."""

from __future__ import annotations

import pytest
from cluster_helpers import FAST, events_since, open_cluster, partition, run_checked, values, wait_checked

from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import IsrExpanded, IsrShrunk, ProduceRejected


def test_acks_all_below_min_insync_replicas_is_rejected_before_the_append(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 2}))
    view = partition(cluster, "orders", 0)
    for follower in view.replicas:
        if follower != view.leader:
            cluster.kill_broker(follower)
    run_checked(cluster, 8000)
    assert partition(cluster, "orders", 0).isr == (view.leader,)
    seq = cluster.journal.last_seq

    with pytest.raises(KafkaError) as raised:
        wait_checked(cluster, cluster.produce("orders", 0, [(None, b"x")], acks=-1), timeout_ms=600_000)

    assert raised.value.error == Errors.NOT_ENOUGH_REPLICAS
    rejected = events_since(cluster, seq, ProduceRejected)
    assert rejected and all(e.error == "NOT_ENOUGH_REPLICAS" for e in rejected)
    assert partition(cluster, "orders", 0).log_end_offset == 0, "nothing may be written"
    assert wait_checked(cluster, cluster.produce("orders", 0, [(None, b"acks=1 is fine")], acks=1)).base_offset == 0


def test_acks_all_whose_isr_shrinks_below_the_minimum_after_the_append_is_written_but_not_committed(clusters):
    # Kafka 3.9: the HW stands still under min ISR, so the waiting produce times out (its retries are
    # then refused with NOT_ENOUGH_REPLICAS) and the record stays unreadable until the ISR recovers.
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 3}))
    view = partition(cluster, "orders", 0)
    lagging = next(r for r in view.replicas if r != view.leader)
    cluster.cut_link(lagging, view.leader)
    seq = cluster.journal.last_seq

    produced = cluster.produce("orders", 0, [(None, b"written")], acks=-1)
    with pytest.raises(KafkaError) as raised:
        wait_checked(cluster, produced, timeout_ms=600_000)

    assert raised.value.error == Errors.NOT_ENOUGH_REPLICAS
    assert [e.removed for e in events_since(cluster, seq, IsrShrunk)] == [(lagging,)]
    after = partition(cluster, "orders", 0)
    assert (after.log_end_offset, after.high_watermark) == (1, 0), "written once, not committed"
    assert values(wait_checked(cluster, cluster.fetch("orders", 0, 0))) == []
    cluster.heal_link(lagging, view.leader)
    # A fetch sent into the cut link is answered by its request timeout (30 s) first, as a socket timeout in Kafka.
    run_checked(cluster, 40_000)
    assert partition(cluster, "orders", 0).high_watermark == 1
    assert values(wait_checked(cluster, cluster.fetch("orders", 0, 0))) == [b"written"]


def test_a_follower_cut_from_its_leader_leaves_the_isr_after_the_lag_time_and_rejoins_after_healing(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 2}))
    view = partition(cluster, "orders", 0)
    lagging = next(r for r in view.replicas if r != view.leader)
    wait_checked(cluster, cluster.produce("orders", 0, [(None, b"v0")], acks=-1))
    cut_at = cluster.scheduler.now_ms
    cluster.cut_link(lagging, view.leader)
    seq = cluster.journal.last_seq

    produced = cluster.produce("orders", 0, [(None, b"v1")], acks=-1)
    run_checked(cluster, 9000)
    assert not produced.done, "acks=all waits for every in-sync replica"
    wait_checked(cluster, produced)

    shrunk = events_since(cluster, seq, IsrShrunk)
    assert [e.removed for e in shrunk] == [(lagging,)] and "replica.lag.time.max.ms" in shrunk[0].reason
    assert shrunk[0].time_ms - cut_at > FAST["replica.lag.time.max.ms"]
    for i in range(2, 5):
        wait_checked(cluster, cluster.produce("orders", 0, [(None, b"v%d" % i)], acks=-1))
    seq = cluster.journal.last_seq

    cluster.heal_link(lagging, view.leader)
    # The fetch lost on the cut link times out first (request.timeout.ms), as on a real socket.
    run_checked(cluster, 35_000, step_ms=200)

    assert [e.added for e in events_since(cluster, seq, IsrExpanded)] == [(lagging,)]
    replica = next(r for r in partition(cluster, "orders", 0).replica_views if r.broker_id == lagging)
    assert replica.in_isr and replica.log_end_offset == 5
    assert values(wait_checked(cluster, cluster.fetch("orders", 0, 0))) == [b"v%d" % i for i in range(5)]


def test_a_follower_at_the_leaders_log_end_stays_in_sync_however_long_it_is_silent(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 2}))
    view = partition(cluster, "orders", 0)
    lagging = next(r for r in view.replicas if r != view.leader)
    wait_checked(cluster, cluster.produce("orders", 0, [(None, b"v0")], acks=-1))
    cluster.cut_link(lagging, view.leader)
    run_checked(cluster, 30_000, step_ms=500)
    assert lagging in partition(cluster, "orders", 0).isr


def test_acks_0_and_1_do_not_wait_for_followers(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 2}))
    view = partition(cluster, "orders", 0)
    for follower in view.replicas:
        if follower != view.leader:
            cluster.cut_link(follower, view.leader)
    assert wait_checked(cluster, cluster.produce("orders", 0, [(None, b"one")], acks=1)).base_offset == 0
    wait_checked(cluster, cluster.produce("orders", 0, [(None, b"zero")], acks=0))
    run_checked(cluster, 100)
    assert partition(cluster, "orders", 0).log_end_offset == 2
    assert partition(cluster, "orders", 0).high_watermark == 0


def test_acks_1_below_min_isr_is_stored_but_not_readable_until_the_isr_recovers(clusters):
    # Kafka 3.9 (KAFKA-15583): under min ISR the leader does not advance the high watermark.
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 2}))
    view = partition(cluster, "orders", 0)
    followers = [r for r in view.replicas if r != view.leader]
    for follower in followers:
        cluster.kill_broker(follower)
    run_checked(cluster, 8000)
    assert partition(cluster, "orders", 0).isr == (view.leader,)

    assert wait_checked(cluster, cluster.produce("orders", 0, [(None, b"stored")], acks=1)).base_offset == 0
    run_checked(cluster, 1000)
    stored = partition(cluster, "orders", 0)
    assert (stored.log_end_offset, stored.high_watermark) == (1, 0)
    assert values(wait_checked(cluster, cluster.fetch("orders", 0, 0))) == [], "consumers read up to the HW only"

    cluster.restart_broker(followers[0])
    run_checked(cluster, 10_000)
    recovered = partition(cluster, "orders", 0)
    assert len(recovered.isr) == 2 and recovered.high_watermark == 1
    assert values(wait_checked(cluster, cluster.fetch("orders", 0, 0))) == [b"stored"]


def test_min_insync_replicas_above_the_replication_factor_is_capped_at_it(clusters):
    # Kafka 3.9 Partition.effectiveMinIsr: min(min.insync.replicas, replication factor).
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 5}))
    assert wait_checked(cluster, cluster.produce("orders", 0, [(None, b"ok")], acks=-1)).base_offset == 0
    view = partition(cluster, "orders", 0)
    cluster.kill_broker(next(r for r in view.replicas if r != view.leader))
    run_checked(cluster, 8000)
    with pytest.raises(KafkaError) as raised:
        wait_checked(cluster, cluster.produce("orders", 0, [(None, b"no")], acks=-1), timeout_ms=600_000)
    assert raised.value.error == Errors.NOT_ENOUGH_REPLICAS
    assert "capped at the replication factor, 3" in raised.value.message


def test_followers_fetch_in_sessions_and_hear_only_of_partitions_with_news(clusters, monkeypatch):
    from kafkalab.broker.fetcher import ReplicaFetcher

    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 6, 3))
    run_checked(cluster, 3000)  # every follower's session has answered each partition once
    heard: list[str] = []
    process = ReplicaFetcher._process_partition_data
    monkeypatch.setattr(ReplicaFetcher, "_process_partition_data",
                        lambda self, tp, state, data: (heard.append(str(tp)), process(self, tp, state, data))[1])
    for _ in range(3):
        wait_checked(cluster, cluster.produce("orders", 2, [(None, b"v")], acks=-1))
    run_checked(cluster, 1000)
    # Each follower hears of orders-2 when records come and again when the high watermark moves;
    # the five idle partitions never appear in an incremental response.
    assert heard and set(heard) == {"orders-2"}
    leader = partition(cluster, "orders", 2).leader
    sessions = [cluster.broker(b).replicas.fetchers.fetchers[leader].session for b in (1, 2, 3) if b != leader]
    assert all(s.session_id != 0 and s.next_epoch > 1 for s in sessions)


def test_a_follower_opens_a_new_session_with_a_leader_that_restarted(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 2}))
    leader = partition(cluster, "orders", 0).leader
    follower = next(r for r in partition(cluster, "orders", 0).replicas if r != leader)
    wait_checked(cluster, cluster.produce("orders", 0, [(None, b"before")], acks=-1))
    fetcher = cluster.broker(follower).replicas.fetchers.fetchers[leader]
    old_session = fetcher.session.session_id
    cluster.kill_broker(leader)
    run_checked(cluster, 10_000, step_ms=500)
    wait_checked(cluster, cluster.restart_broker(leader))
    run_checked(cluster, 10_000, step_ms=500)
    wait_checked(cluster, cluster.elect_preferred_leaders())
    wait_checked(cluster, cluster.produce("orders", 0, [(None, b"after")], acks=-1))
    run_checked(cluster, 1000)
    view = partition(cluster, "orders", 0)
    assert view.leader == leader and set(view.isr) == set(view.replicas)
    assert fetcher.session.session_id not in (0, old_session)
    assert values(cluster.wait(cluster.fetch("orders", 0, 0))) == [b"before", b"after"]
