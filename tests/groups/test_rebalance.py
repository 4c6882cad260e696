"""Rebalances under virtual time: join, leave, crash, a stuck poll loop, coordinator failover."""

from __future__ import annotations

from group_helpers import consumers, events, group, open_cluster, owned, produce, run_checked

from kafkalab.events.clients import PartitionsRevoked, PollIntervalExceeded
from kafkalab.events.groups import (
    GenerationStarted,
    GroupCoordinatorLoaded,
    MemberRemoved,
    RebalanceStarted,
)

ALL = [f"orders-{p}" for p in range(6)]


def _cluster(clusters, **config):
    cluster = open_cluster(clusters, config=config)
    cluster.wait(cluster.create_topic("orders", 6, 3))
    return cluster


def test_members_share_the_partitions_as_kafkas_range_assignor_does(clusters):
    cluster = _cluster(clusters)
    loops = consumers(cluster, 3)
    run_checked(cluster, 5000, loops)
    # Range: members sorted by member id get contiguous ranges; the member ids are clientId-uuid.
    ordered = sorted(loops, key=lambda loop: loop.consumer.member_id)
    assert owned(ordered) == [ALL[0:2], ALL[2:4], ALL[4:6]]
    view = group(cluster)
    assert (view.state, view.generation, view.protocol) == ("Stable", 1, "range")
    assert sorted(m.client_id for m in view.members) == sorted(loop.consumer.client_id for loop in loops)


def test_initial_rebalance_delay_gathers_members_into_one_generation(clusters):
    cluster = _cluster(clusters, **{"group.initial.rebalance.delay.ms": 3000})
    mark = cluster.journal.last_seq
    loops = consumers(cluster, 1)
    cluster.run_for(1000)
    loops += consumers(cluster, 1)
    cluster.run_for(1000)
    assert events(cluster, mark, GenerationStarted) == []  # still waiting for more members
    run_checked(cluster, 6000, loops)
    started = events(cluster, mark, GenerationStarted)
    assert [(e.generation, len(e.members)) for e in started] == [(1, 2)]
    # Extended by 3 s because the second member arrived during the first delay (InitialDelayedJoin).
    assert started[0].time_ms - events(cluster, mark, RebalanceStarted)[0].time_ms >= 6000


def test_a_member_that_leaves_hands_its_partitions_to_the_others(clusters):
    cluster = _cluster(clusters)
    loops = consumers(cluster, 3)
    run_checked(cluster, 5000, loops)
    mark = cluster.journal.last_seq
    leaving = loops.pop(0)
    cluster.wait(leaving.consumer.close())
    run_checked(cluster, 5000, loops)
    removed = events(cluster, mark, MemberRemoved)
    assert [(e.client_id, e.reason.startswith("left the group")) for e in removed] == [(leaving.consumer.client_id, True)]
    assert sorted(tp for tps in owned(loops) for tp in tps) == ALL and all(len(o) == 3 for o in owned(loops))
    assert group(cluster).generation == 2


def test_a_crashed_member_is_removed_after_session_timeout(clusters):
    cluster = _cluster(clusters)
    loops = consumers(cluster, 2)
    run_checked(cluster, 5000, loops)
    crashed = loops.pop()
    crashed.consumer.crash()
    crash_time = cluster.scheduler.now_ms
    mark = cluster.journal.last_seq
    run_checked(cluster, 40_000, loops)
    assert events(cluster, mark, MemberRemoved) == []  # session.timeout.ms is 45 s
    run_checked(cluster, 10_000, loops)
    removed = events(cluster, mark, MemberRemoved)
    assert len(removed) == 1 and "session.timeout.ms=45000" in removed[0].reason
    assert 42_000 <= removed[0].time_ms - crash_time <= 45_000  # the deadline counts from its last heartbeat
    assert owned(loops) == [ALL]


def test_a_consumer_that_stops_polling_leaves_after_max_poll_interval(clusters):
    cluster = _cluster(clusters)
    loops = consumers(cluster, 2, max_poll_interval_ms=60_000)
    run_checked(cluster, 5000, loops)
    stuck = loops[1]
    stuck.stop()  # the application hangs: no more poll() calls, but heartbeats go on
    mark = cluster.journal.last_seq
    run_checked(cluster, 50_000, loops[:1])
    assert events(cluster, mark, MemberRemoved) == []  # heartbeats alone keep it in the group for now
    run_checked(cluster, 20_000, loops[:1])
    assert [e.client_id for e in events(cluster, mark, PollIntervalExceeded)] == [stuck.consumer.client_id]
    assert [e.client_id for e in events(cluster, mark, MemberRemoved)] == [stuck.consumer.client_id]
    assert owned(loops[:1]) == [ALL]


def test_coordinator_failover_moves_the_group_without_a_rebalance(clusters):
    cluster = _cluster(clusters, **{"zookeeper.session.timeout.ms": 6000})
    loops = consumers(cluster, 2)
    produce(cluster, "orders", 30)
    run_checked(cluster, 6000, loops)
    before = group(cluster)
    cluster.wait(loops[0].consumer.commit_sync())
    mark = cluster.journal.last_seq
    cluster.kill_broker(before.coordinator)
    run_checked(cluster, 30_000, loops)
    after = group(cluster)
    assert after.coordinator != before.coordinator
    assert (after.state, after.generation) == ("Stable", before.generation)
    assert events(cluster, mark, RebalanceStarted) == []
    loaded = events(cluster, mark, GroupCoordinatorLoaded)
    assert any("g" in e.groups and e.broker_id == after.coordinator for e in loaded)
    # Commits go on at the new coordinator, and the offsets committed before survived the move.
    assert {(p.topic, p.partition): p.current_offset for p in after.partitions} == \
           {(p.topic, p.partition): p.current_offset for p in before.partitions}
    produce(cluster, "orders", 12, start=30)
    run_checked(cluster, 6000, loops)
    cluster.wait(loops[0].consumer.commit_sync())
    cluster.wait(loops[1].consumer.commit_sync())
    assert group(cluster).total_lag == 0


def test_eager_rebalance_revokes_every_partition_first(clusters):
    cluster = _cluster(clusters)
    loops = consumers(cluster, 2)
    run_checked(cluster, 5000, loops)
    mark = cluster.journal.last_seq
    loops += consumers(cluster, 1)
    run_checked(cluster, 8000, loops)
    revoked = {e.client_id: e.partitions for e in events(cluster, mark, PartitionsRevoked)}
    assert revoked == {loops[0].consumer.client_id: tuple(ALL[:3]), loops[1].consumer.client_id: tuple(ALL[3:])}
    assert all(e.protocol == "eager" for e in events(cluster, mark, PartitionsRevoked))
    assert sorted(len(o) for o in owned(loops)) == [2, 2, 2]


def test_a_rebalance_waits_for_members_that_are_slow_to_rejoin(clusters):
    cluster = _cluster(clusters)
    loops = consumers(cluster, 2, max_poll_interval_ms=30_000)
    run_checked(cluster, 5000, loops)
    slow = loops[1]
    slow.stop()
    mark = cluster.journal.last_seq
    loops += consumers(cluster, 1)
    run_checked(cluster, 10_000, [loops[0], loops[2]])
    assert group(cluster).state == "PreparingRebalance"  # the stalled member has not rejoined
    run_checked(cluster, 30_000, [loops[0], loops[2]])
    view = group(cluster)
    assert (view.state, view.generation, len(view.members)) == ("Stable", 2, 2)
    assert slow.consumer.client_id not in {m.client_id for m in view.members}
    assert [e.client_id for e in events(cluster, mark, MemberRemoved)] == [slow.consumer.client_id]
