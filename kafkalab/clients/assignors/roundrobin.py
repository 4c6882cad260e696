"""Kafka's ``roundrobin`` assignor: deal all partitions to members in turn."""

from __future__ import annotations

from collections.abc import Mapping

from kafkalab.clients.assignors.common import assignable_topics, finish, member_sort_key
from kafkalab.clients.assignors.types import GroupAssignment, Subscription, TopicPartition
from kafkalab.clients.java_strings import java_string_key


def assign_roundrobin(partitions_per_topic: Mapping[str, int],
                      subscriptions: Mapping[str, Subscription]) -> GroupAssignment:
    """Deal partitions (topics in name order) around the member circle, skipping non-subscribers.

    Follows ``RoundRobinAssignor``: the circle is ordered static-first by
    group.instance.id (KIP-345), then by member id, and keeps turning across topics.
    """
    counts = assignable_topics(partitions_per_topic, subscriptions)
    circle = sorted(subscriptions, key=lambda m: member_sort_key(m, subscriptions[m]))
    assigned: dict[str, list[TopicPartition]] = {member: [] for member in subscriptions}
    position = 0
    for topic in sorted(counts, key=java_string_key):
        for partition in range(counts[topic]):
            while topic not in subscriptions[circle[position]].topics:
                position = (position + 1) % len(circle)
            assigned[circle[position]].append(TopicPartition(topic, partition))
            position = (position + 1) % len(circle)
    return finish(subscriptions, assigned)
