"""Steps every assignor shares: which topics are assignable, member order, result shape."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kafkalab.clients.assignors.types import GroupAssignment, Subscription, TopicPartition
from kafkalab.clients.java_strings import java_string_key


def assignable_topics(partitions_per_topic: Mapping[str, int],
                      subscriptions: Mapping[str, Subscription]) -> dict[str, int]:
    """Partition counts of the topics some member subscribes to and that have partitions.

    ``AbstractPartitionAssignor.assign`` hands its assignors only these topics.
    """
    subscribed = {topic for subscription in subscriptions.values() for topic in subscription.topics}
    return {topic: count for topic, count in partitions_per_topic.items() if topic in subscribed and count > 0}


def member_sort_key(member_id: str, subscription: Subscription) -> tuple[int, bytes]:
    """``MemberInfo`` order: static members first by group.instance.id (KIP-345), then the rest by member id."""
    if subscription.group_instance_id is not None:
        return 0, java_string_key(subscription.group_instance_id)
    return 1, java_string_key(member_id)


def partition_sort_key(tp: TopicPartition) -> tuple[bytes, int]:
    """Order partitions by topic (as Java compares strings), then partition number."""
    return java_string_key(tp.topic), tp.partition


def finish(member_ids: Iterable[str], assigned: Mapping[str, Iterable[TopicPartition]]) -> GroupAssignment:
    """Every member's partitions as a sorted list, with an empty list for members given nothing."""
    return {member: sorted(assigned.get(member, ()), key=partition_sort_key) for member in member_ids}
