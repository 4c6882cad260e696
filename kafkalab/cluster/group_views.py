"""Frozen views of consumer groups and their lag over time, from what the coordinating brokers describe.

A group's state lives in the broker that coordinates it; LOG-END-OFFSET is the high
watermark of the partition's leader, as ``kafka-consumer-groups.sh`` reports it, and
LAG is that minus the committed offset. The lag tracker samples every group's lag on
a timer so the screens can draw its history.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping

from kafkalab.protocol.types import TopicPartition
from kafkalab.views import BrokerStatus, GroupPartitionView, GroupView, HostedGroup, HostedReplica

#: How often the cluster samples group lag, and how many samples it keeps (10 minutes).
LAG_SAMPLE_INTERVAL_MS = 1000
LAG_HISTORY_SAMPLES = 600

#: Gives a partition leader's high watermark (-1 while it has no live leader).
HighWatermark = Callable[[TopicPartition], int]


def coordinated_groups(statuses: Iterable[BrokerStatus]) -> dict[str, HostedGroup]:
    """Every live group by id, as described by its coordinator (the lowest broker id while two briefly overlap)."""
    found: dict[str, HostedGroup] = {}
    for status in statuses:
        for group in status.groups:
            found.setdefault(group.group_id, group)
    return found


def leader_high_watermark(replicas: Iterable[Mapping[TopicPartition, HostedReplica]], tp: TopicPartition) -> int:
    """The high watermark of ``tp``'s leader among the brokers' described replicas (-1: no live leader)."""
    for hosted in replicas:
        replica = hosted.get(tp)
        if replica is not None and replica.is_leader:
            return replica.high_watermark
    return -1


class LagTracker:
    """Periodic lag samples per group and partition."""

    def __init__(self) -> None:
        self._partitions: dict[tuple[str, TopicPartition], deque[tuple[float, int]]] = {}
        self._totals: dict[str, deque[tuple[float, int]]] = {}

    def sample(self, groups: Iterable[HostedGroup], high_watermark: HighWatermark, now_ms: float) -> None:
        """Record every group's current lag per partition and in total."""
        for group in groups:
            total = 0
            for tp, committed in group.committed.items():
                end = high_watermark(tp)
                if end < 0:
                    continue
                lag = max(0, end - committed)
                total += lag
                self._partitions.setdefault((group.group_id, tp), deque(maxlen=LAG_HISTORY_SAMPLES)).append(
                    (now_ms, lag))
            self._totals.setdefault(group.group_id, deque(maxlen=LAG_HISTORY_SAMPLES)).append((now_ms, total))

    def history(self, group_id: str, tp: TopicPartition | None = None) -> tuple[tuple[float, int], ...]:
        """Samples of one partition's lag, or of the group's total lag."""
        samples = self._totals.get(group_id) if tp is None else self._partitions.get((group_id, tp))
        return tuple(samples or ())


def build_group_views(statuses: Iterable[BrokerStatus], replicas: Mapping[int, Mapping[TopicPartition, HostedReplica]],
                      lag: LagTracker) -> tuple[GroupView, ...]:
    """A view of every group a live coordinator holds, sorted by group id."""
    views = []
    for group_id, group in sorted(coordinated_groups(statuses).items()):
        client_ids = {member.member_id: member.client_id for member in group.members}
        rows = []
        for tp in sorted(set(group.committed) | set(group.owners)):
            end = leader_high_watermark(replicas.values(), tp)
            current = group.committed.get(tp)
            member_id = group.owners.get(tp)
            rows.append(GroupPartitionView(tp.topic, tp.partition, current, end,
                                           max(0, end - current) if current is not None and end >= 0 else None,
                                           member_id, client_ids.get(member_id) if member_id is not None else None,
                                           lag.history(group_id, tp)))
        views.append(GroupView(group_id, group.state, group.generation, group.protocol_type, group.protocol,
                               group.coordinator, group.offsets_partition, group.leader_member_id, group.members,
                               tuple(rows), lag.history(group_id)))
    return tuple(views)
