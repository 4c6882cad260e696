"""What the cluster is waiting for, as countdowns: sessions about to expire, a rebalance's wait, retention.

Each countdown is an engine timer someone is waiting out: ZooKeeper's expiry of a broker that
stopped pinging, a group coordinator's expiry of a member that stopped heartbeating, a rebalance
gathering members, a retention check. A healthy session is not listed: only one whose owner is
known to be gone, or that missed its pings, is a wait the user is watching.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from kafkalab.cluster.group_views import coordinated_groups
from kafkalab.views import BrokerStatus, Countdown, SessionDeadline, TopicView

#: Topic configs that make a retention check worth watching.
RETENTION_KEYS = frozenset({"retention.ms", "retention.bytes"})


def _silent(deadline_ms: float, timeout_ms: int, now_ms: float, expected_silence_ms: float) -> bool:
    """True once nothing was heard for longer than the owner's usual silence (``timeout_ms`` before the deadline)."""
    return now_ms - (deadline_ms - timeout_ms) > expected_silence_ms


def session_countdowns(sessions: Iterable[SessionDeadline], statuses: Sequence[BrokerStatus],
                       now_ms: float) -> list[Countdown]:
    """ZooKeeper sessions of brokers that stopped, or that missed a ping (their client pings every third of the
    timeout, ``coordination/client.py``): ZooKeeper deletes their ephemeral znodes when the countdown ends."""
    stopped = {status.node for status in statuses if not status.running}
    brokers = {status.node: status.broker_id for status in statuses}
    return [Countdown(f"broker {brokers[session.client]}'s ZooKeeper session expires" if session.client in brokers
                      else f"{session.client}'s ZooKeeper session expires", session.expires_ms,
                      "zookeeper.session.timeout.ms")
            for session in sessions
            if session.client in stopped or _silent(session.expires_ms, session.timeout_ms, now_ms,
                                                    session.timeout_ms / 3)]


def fencing_countdowns(sessions: Iterable[SessionDeadline], heartbeat_interval_ms: float,
                       now_ms: float) -> list[Countdown]:
    """KRaft: unfenced brokers the active controller has not heard from for longer than a heartbeat interval;
    it fences them when the countdown ends."""
    return [Countdown(f"the controller fences {session.client.replace('-', ' ')} (no heartbeat)", session.expires_ms,
                      "broker.session.timeout.ms")
            for session in sessions if _silent(session.expires_ms, session.timeout_ms, now_ms, heartbeat_interval_ms)]


def group_countdowns(statuses: Sequence[BrokerStatus], client_stopped: Callable[[str], bool | None],
                     now_ms: float) -> list[Countdown]:
    """Members whose consumer stopped (or, for a client kafkalab does not run, went silent for half the session),
    and rebalances waiting for members."""
    countdowns = []
    for group_id, group in sorted(coordinated_groups(statuses).items()):
        for member in group.member_deadlines:
            stopped = client_stopped(member.client_id)
            if stopped or (stopped is None and _silent(member.expires_ms, member.session_timeout_ms, now_ms,
                                                       member.session_timeout_ms / 2)):
                countdowns.append(Countdown(f"group {group_id} removes {member.client_id} (no heartbeat)",
                                            member.expires_ms, "session.timeout.ms"))
        if group.rebalance_due_ms is not None:
            countdowns.append(
                Countdown(f"group {group_id}'s first rebalance stops waiting for more members", group.rebalance_due_ms,
                          "group.initial.rebalance.delay.ms") if group.initial_rebalance else
                Countdown(f"group {group_id}'s rebalance drops members that have not rejoined", group.rebalance_due_ms,
                          "max.poll.interval.ms"))
    return countdowns


def retention_countdown(statuses: Sequence[BrokerStatus], topics: Iterable[TopicView]) -> list[Countdown]:
    """The next retention check, once some topic has its own retention.ms or retention.bytes to wait for."""
    if not any(key in RETENTION_KEYS for topic in topics for key, _ in topic.config_overrides):
        return []
    checks = [(status.next_retention_check_ms, status.broker_id) for status in statuses
              if status.running and status.next_retention_check_ms is not None]
    if not checks:
        return []
    due_ms, broker_id = min(checks)
    return [Countdown(f"broker {broker_id} checks retention", due_ms, "log.retention.check.interval.ms")]


def build_countdowns(sessions: Iterable[SessionDeadline], statuses: Sequence[BrokerStatus],
                     topics: Iterable[TopicView], client_stopped: Callable[[str], bool | None],
                     now_ms: float, fencing: Sequence[Countdown] = ()) -> tuple[Countdown, ...]:
    """Everything the cluster is waiting for now, soonest first (``fencing``: KRaft's, from ``fencing_countdowns``)."""
    countdowns = [*session_countdowns(sessions, statuses, now_ms), *group_countdowns(statuses, client_stopped, now_ms),
                  *retention_countdown(statuses, topics), *fencing]
    return tuple(sorted(countdowns, key=lambda countdown: countdown.due_ms))
