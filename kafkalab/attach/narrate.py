"""What changed between two views of an attached cluster, told as observed events in the lab's words.

A pure function of two views: the same two rounds always tell the same story. Events are
stamped with the later view's time and numbered by the source that keeps them.
"""

from __future__ import annotations

from kafkalab.events.journal import Event
from kafkalab.events.observed import (
    ObservedBrokerJoined,
    ObservedBrokerLeft,
    ObservedControllerMoved,
    ObservedGroupStateChanged,
    ObservedIsrExpanded,
    ObservedIsrShrank,
    ObservedLagGrowing,
    ObservedLeaderMoved,
    ObservedMemberJoined,
    ObservedMemberLeft,
    ObservedRebalance,
    ObservedTopicCreated,
    ObservedTopicDeleted,
)
from kafkalab.views import ClusterView, GroupView, TopicView


def narrate(before: ClusterView, after: ClusterView) -> list[Event]:
    """The changes from ``before`` to ``after``, brokers first, then topics and partitions, then groups."""
    events: list[Event] = []
    now = after.time_ms
    up_before = {b.broker_id for b in before.brokers if b.registered}
    up_after = {b.broker_id for b in after.brokers if b.registered}
    events += [ObservedBrokerLeft(broker, time_ms=now) for broker in sorted(up_before - up_after)]
    events += [ObservedBrokerJoined(broker, time_ms=now) for broker in sorted(up_after - up_before)]
    if before.controller_id != after.controller_id and after.controller_id >= 0:
        events.append(ObservedControllerMoved(after.controller_id, before.controller_id, time_ms=now))
    old_topics = {t.name: t for t in before.topics}
    new_topics = {t.name: t for t in after.topics}
    for name, topic in new_topics.items():
        previous = old_topics.get(name)
        if previous is None:
            events.append(ObservedTopicCreated(name, len(topic.partitions),
                                               len(topic.partitions[0].replicas) if topic.partitions else 0, time_ms=now))
        else:
            events += _partitions(previous, topic, after.time_ms)
    events += [ObservedTopicDeleted(name, time_ms=now) for name in old_topics if name not in new_topics]
    old_groups = {g.group_id: g for g in before.groups}
    for group in after.groups:
        events += _group(old_groups.get(group.group_id), group, after.time_ms)
    return events


def _partitions(before: TopicView, after: TopicView, time_ms: float) -> list[Event]:
    events: list[Event] = []
    old = {p.partition: p for p in before.partitions}
    for partition in after.partitions:
        previous = old.get(partition.partition)
        if previous is None:
            continue
        if previous.leader != partition.leader:
            events.append(ObservedLeaderMoved(after.name, partition.partition, partition.leader, previous.leader,
                                              partition.leader_epoch, time_ms=time_ms))
        removed = tuple(b for b in previous.isr if b not in partition.isr)
        added = tuple(b for b in partition.isr if b not in previous.isr)
        if removed:
            events.append(ObservedIsrShrank(after.name, partition.partition, removed, partition.isr, time_ms=time_ms))
        if added:
            events.append(ObservedIsrExpanded(after.name, partition.partition, added, partition.isr, time_ms=time_ms))
    return events


def _group(before: GroupView | None, after: GroupView, time_ms: float) -> list[Event]:
    """Members that came and went, state changes, a changed assignment, and lag that started to grow."""
    events: list[Event] = []
    old_members = {m.member_id: m for m in before.members} if before is not None else {}
    new_members = {m.member_id: m for m in after.members}
    events += [ObservedMemberJoined(after.group_id, m.client_id, m.member_id, time_ms=time_ms)
               for member_id, m in new_members.items() if member_id not in old_members]
    events += [ObservedMemberLeft(after.group_id, m.client_id, m.member_id, time_ms=time_ms)
               for member_id, m in old_members.items() if member_id not in new_members]
    if before is not None and before.state != after.state:
        events.append(ObservedGroupStateChanged(after.group_id, after.state, before.state, time_ms=time_ms))
    assignment = _assignment(after)
    if after.state == "Stable" and assignment and (before is None or _assignment(before) != assignment):
        events.append(ObservedRebalance(after.group_id, assignment, time_ms=time_ms))
    # Lag growing: the total rose in this round after not rising in the one before, so a steady
    # climb is told once, when it starts.
    history = after.lag_history
    if len(history) >= 2 and history[-1][1] > history[-2][1] and (len(history) < 3 or history[-2][1] <= history[-3][1]):
        events.append(ObservedLagGrowing(after.group_id, history[-1][1], history[-2][1], time_ms=time_ms))
    return events


def _assignment(group: GroupView) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Who owns what, by client id, as a Stable group's members report it."""
    return tuple(sorted((m.client_id, tuple(sorted(m.assignment))) for m in group.members if m.assignment))
