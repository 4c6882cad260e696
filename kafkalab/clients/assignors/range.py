"""Kafka's ``range`` assignor: per topic, contiguous partition ranges in member order."""

from __future__ import annotations

from collections.abc import Mapping

from kafkalab.clients.assignors.common import assignable_topics, finish, member_sort_key
from kafkalab.clients.assignors.types import GroupAssignment, Subscription, TopicPartition


def assign_range(partitions_per_topic: Mapping[str, int],
                 subscriptions: Mapping[str, Subscription]) -> GroupAssignment:
    """Split each topic's partitions into ranges, the first ``count % members`` ranges one longer.

    Follows ``RangeAssignor`` without its rack-aware pass (KIP-881): members of a
    topic are ordered static-first by group.instance.id, then by member id.
    """
    assigned: dict[str, list[TopicPartition]] = {member: [] for member in subscriptions}
    for topic, count in assignable_topics(partitions_per_topic, subscriptions).items():
        members = sorted((m for m, s in subscriptions.items() if topic in s.topics),
                         key=lambda m: member_sort_key(m, subscriptions[m]))
        per_member, with_extra = divmod(count, len(members))
        start = 0
        for index, member in enumerate(members):
            size = per_member + (1 if index < with_extra else 0)
            assigned[member].extend(TopicPartition(topic, p) for p in range(start, start + size))
            start += size
    return finish(subscriptions, assigned)
