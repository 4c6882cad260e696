"""Helpers for the assignor tests: compact partition lists and the validity check Kafka's tests use."""

from __future__ import annotations

from collections.abc import Mapping

from kafkalab.clients.assignors import Subscription, TopicPartition


def tp(topic: str, partition: int) -> TopicPartition:
    return TopicPartition(topic, partition)


def tps(spec: str) -> list[TopicPartition]:
    """Parse Kafka-test style ``"t1-0, t1-3, t2-0"`` into sorted partitions."""
    if not spec.strip():
        return []
    parsed = []
    for item in spec.split(","):
        topic, _, partition = item.strip().rpartition("-")
        parsed.append(TopicPartition(topic, int(partition)))
    return sorted(parsed)


def sub(*topics: str, owned: str | list[TopicPartition] = (), generation: int = -1,
        instance: str | None = None) -> Subscription:
    owned_list = tps(owned) if isinstance(owned, str) else list(owned)
    return Subscription(tuple(topics), tuple(owned_list), generation, instance)


def assert_valid(assignment: Mapping[str, list[TopicPartition]], partitions_per_topic: Mapping[str, int],
                 subscriptions: Mapping[str, Subscription]) -> None:
    """Every member present; each partition of a subscribed topic given exactly once, to a subscriber."""
    assert set(assignment) == set(subscriptions)
    owners: dict[TopicPartition, str] = {}
    for member, partitions in assignment.items():
        for partition in partitions:
            assert partition not in owners, f"{partition} given to {owners[partition]} and {member}"
            assert partition.topic in subscriptions[member].topics, f"{member} got {partition} without subscribing"
            assert 0 <= partition.partition < partitions_per_topic[partition.topic]
            owners[partition] = member
    subscribed = {t for s in subscriptions.values() for t in s.topics}
    expected = {tp(t, p) for t, n in partitions_per_topic.items() if t in subscribed for p in range(n)}
    assert set(owners) == expected


def owned_from(assignment: Mapping[str, list[TopicPartition]], subscriptions: Mapping[str, Subscription],
               generation: int) -> dict[str, Subscription]:
    """The next JoinGroup: each member reports what it was assigned, at ``generation``."""
    return {m: Subscription(s.topics, tuple(assignment[m]), generation, s.group_instance_id)
            for m, s in subscriptions.items()}
