"""Frozen views of consumer groups and their lag over time, read from the live coordinators.

A group's state lives in the broker that coordinates it; LOG-END-OFFSET is the high
watermark of the partition's leader, as ``kafka-consumer-groups.sh`` reports it, and
LAG is that minus the committed offset. The lag tracker samples every group's lag on
a timer so the screens can draw its history.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kafkalab.groups.group import GroupMetadata
from kafkalab.groups.state import GroupState
from kafkalab.protocol.consumer_protocol import CONSUMER_PROTOCOL_TYPE, decode_assignment
from kafkalab.protocol.types import TopicPartition
from kafkalab.views import GroupMemberView, GroupPartitionView, GroupView

if TYPE_CHECKING:
    from kafkalab.server.broker import Broker

#: How often the cluster samples group lag, and how many samples it keeps (10 minutes).
LAG_SAMPLE_INTERVAL_MS = 1000
LAG_HISTORY_SAMPLES = 600


def coordinated_groups(brokers: Mapping[int, Broker]) -> dict[str, tuple[int, int, GroupMetadata]]:
    """Every live group with its coordinator broker and ``__consumer_offsets`` partition."""
    found: dict[str, tuple[int, int, GroupMetadata]] = {}
    for broker_id, broker in sorted(brokers.items()):
        coordinator = broker.groups
        if coordinator is None:
            continue
        store = coordinator.store
        for group_id, group in store.groups.items():
            partition = store.partition_for(group_id)
            if group.state != GroupState.DEAD and partition in store.owned and group_id not in found:
                found[group_id] = (broker_id, partition, group)
    return found


def high_watermark(brokers: Mapping[int, Broker], tp: TopicPartition) -> int:
    """The partition leader's high watermark (-1 while it has no live leader)."""
    for broker in brokers.values():
        hosted = broker.replicas.partitions.get(tp) if broker.replicas is not None else None
        if hosted is not None and hosted.is_leader:
            return hosted.high_watermark
    return -1


def _assignments(group: GroupMetadata) -> dict[str, tuple[TopicPartition, ...]]:
    if group.protocol_type != CONSUMER_PROTOCOL_TYPE or group.state != GroupState.STABLE:
        return {}
    return {m.member_id: decode_assignment(m.assignment).partitions for m in group.members.values()}


class LagTracker:
    """Periodic lag samples per group and partition."""

    def __init__(self) -> None:
        self._partitions: dict[tuple[str, TopicPartition], deque[tuple[float, int]]] = {}
        self._totals: dict[str, deque[tuple[float, int]]] = {}

    def sample(self, brokers: Mapping[int, Broker], now_ms: float) -> None:
        """Record every group's current lag per partition and in total."""
        for group_id, (_, _, group) in coordinated_groups(brokers).items():
            total = 0
            for tp, committed in group.offsets.items():
                end = high_watermark(brokers, tp)
                if end < 0:
                    continue
                lag = max(0, end - committed.offset)
                total += lag
                self._partitions.setdefault((group_id, tp), deque(maxlen=LAG_HISTORY_SAMPLES)).append((now_ms, lag))
            self._totals.setdefault(group_id, deque(maxlen=LAG_HISTORY_SAMPLES)).append((now_ms, total))

    def history(self, group_id: str, tp: TopicPartition | None = None) -> tuple[tuple[float, int], ...]:
        """Samples of one partition's lag, or of the group's total lag."""
        samples = self._totals.get(group_id) if tp is None else self._partitions.get((group_id, tp))
        return tuple(samples or ())


def build_group_views(brokers: Mapping[int, Broker], lag: LagTracker) -> tuple[GroupView, ...]:
    """A view of every group a live coordinator holds, sorted by group id."""
    views = []
    for group_id, (broker_id, partition, group) in sorted(coordinated_groups(brokers).items()):
        assignments = _assignments(group)
        owner = {tp: member_id for member_id, tps in assignments.items() for tp in tps}
        members = tuple(GroupMemberView(m.member_id, m.client_id, m.client_host, m.group_instance_id,
                                        tuple(str(tp) for tp in assignments.get(m.member_id, ())))
                        for m in group.members.values())
        rows = []
        for tp in sorted(set(group.offsets) | set(owner)):
            end = high_watermark(brokers, tp)
            committed = group.offsets.get(tp)
            current = committed.offset if committed is not None else None
            member_id = owner.get(tp)
            client_id = group.members[member_id].client_id if member_id in group.members else None
            rows.append(GroupPartitionView(tp.topic, tp.partition, current, end,
                                           max(0, end - current) if current is not None and end >= 0 else None,
                                           member_id, client_id, lag.history(group_id, tp)))
        views.append(GroupView(group_id, group.state.value, group.generation_id, group.protocol_type or "",
                               group.protocol_name or "", broker_id, partition, group.leader_id, members,
                               tuple(rows), lag.history(group_id)))
    return tuple(views)
