"""KIP-345 static membership: a restart within session.timeout.ms does not rebalance."""

from __future__ import annotations

from group_helpers import events, group, open_cluster, owned, run_checked

from kafkalab.clients.consumer_loop import PollLoop
from kafkalab.errors import Errors
from kafkalab.events.groups import MemberRemoved, RebalanceStarted, StaticMemberRejoined


def _static(cluster, instance_id, **settings):
    consumer = cluster.consumer(group_id="g", group_instance_id=instance_id, auto_offset_reset="earliest", **settings)
    consumer.subscribe(["orders"])
    return PollLoop(consumer).start()


def _cluster(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 4, 3))
    return cluster


def test_restart_within_session_timeout_keeps_the_assignment_without_rebalancing(clusters):
    cluster = _cluster(clusters)
    loops = [_static(cluster, "app-1"), _static(cluster, "app-2")]
    run_checked(cluster, 5000, loops)
    before, generation = owned(loops), group(cluster).generation
    loops[0].consumer.crash()  # a static member leaves no LeaveGroup behind, even on a clean close
    run_checked(cluster, 20_000, loops[1:])
    mark = cluster.journal.last_seq
    loops[0] = _static(cluster, "app-1")
    run_checked(cluster, 5000, loops)
    assert owned(loops) == before
    assert group(cluster).generation == generation
    assert events(cluster, mark, RebalanceStarted) == []
    rejoined = events(cluster, mark, StaticMemberRejoined)
    assert [(e.group_instance_id, e.new_member_id) for e in rejoined] == [("app-1", loops[0].consumer.member_id)]
    assert loops[0].consumer.member_id.startswith("app-1-")


def test_a_static_member_gone_longer_than_its_session_is_removed(clusters):
    cluster = _cluster(clusters)
    loops = [_static(cluster, "app-1", session_timeout_ms=10_000), _static(cluster, "app-2")]
    run_checked(cluster, 5000, loops)
    cluster.wait(loops[0].consumer.close())  # no LeaveGroup for a static member
    mark = cluster.journal.last_seq
    run_checked(cluster, 8000, loops[1:])
    assert events(cluster, mark, MemberRemoved) == []
    run_checked(cluster, 10_000, loops[1:])
    removed = events(cluster, mark, MemberRemoved)
    assert [(e.group_instance_id, "session.timeout.ms" in e.reason) for e in removed] == [("app-1", True)]
    assert sorted(owned(loops[1:])[0]) == [f"orders-{p}" for p in range(4)]


def test_a_second_instance_with_the_same_id_fences_the_first(clusters):
    cluster = _cluster(clusters)
    first = _static(cluster, "app-1")
    run_checked(cluster, 5000, [first])
    second = _static(cluster, "app-1")
    run_checked(cluster, 10_000, [second])
    assert first.error is not None and first.error.error == Errors.FENCED_INSTANCE_ID
    assert owned([second]) == [[f"orders-{p}" for p in range(4)]]
