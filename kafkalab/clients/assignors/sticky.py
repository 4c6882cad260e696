"""Kafka's ``sticky`` assignor (``StickyAssignor``/``AbstractStickyAssignor``): balanced, moving little."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kafkalab.clients.assignors.common import assignable_topics, finish
from kafkalab.clients.assignors.javacompat import java_member_order
from kafkalab.clients.assignors.sticky_constrained import constrained_assign
from kafkalab.clients.assignors.sticky_general import general_assign
from kafkalab.clients.assignors.types import DEFAULT_GENERATION, GroupAssignment, Subscription, TopicPartition


@dataclass(frozen=True)
class OwnedPartitions:
    """Previously owned partitions each member may keep, after settling conflicting claims."""

    by_member: dict[str, list[TopicPartition]]
    claimed_by_several: frozenset[TopicPartition]
    all_subscriptions_equal: bool
    max_generation: int


def collect_owned_partitions(counts: Mapping[str, int], members: Sequence[str],
                             subscriptions: Mapping[str, Subscription]) -> OwnedPartitions:
    """``allSubscriptionsEqual``: settle who owns what and whether all members subscribe alike.

    A partition claimed by two members goes to the newer generation; two claims in
    the same generation void it for both. ``members`` must be in Java's HashMap
    order, which decides these settlements. Deliberate difference: partitions beyond
    a topic's current count are ignored, where Kafka would keep (or duplicate) them.
    """
    first_topics: set[str] = set()
    all_equal = True
    max_generation = DEFAULT_GENERATION
    claimed_by: dict[TopicPartition, str] = {}
    by_member: dict[str, list[TopicPartition]] = {}
    several: set[TopicPartition] = set()
    for member in members:
        subscription = subscriptions[member]
        if not first_topics:  # Kafka (re)starts from any member while the set is still empty
            first_topics.update(subscription.topics)
        elif all_equal and (len(subscription.topics) != len(first_topics)
                            or not first_topics.issuperset(subscription.topics)):
            all_equal = False
        generation = subscription.generation
        max_generation = max(max_generation, generation)
        mine = by_member[member] = []
        for tp in subscription.owned_partitions:
            if tp.partition >= counts.get(tp.topic, 0):
                continue
            other = claimed_by.get(tp)
            if other is not None:
                other_generation = subscriptions[other].generation
                if generation < other_generation:
                    continue
                if tp in by_member[other]:
                    by_member[other].remove(tp)
                if generation == other_generation:
                    several.add(tp)
                    claimed_by[tp] = member
                    continue
            mine.append(tp)
            claimed_by[tp] = member
    return OwnedPartitions(by_member, frozenset(several), all_equal, max_generation)


def sticky_assignment(partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Subscription],
                      ) -> tuple[dict[str, list[TopicPartition]], dict[TopicPartition, str] | None]:
    """The sticky assignment and, when the constrained algorithm ran, the partitions changing owner."""
    counts = assignable_topics(partitions_per_topic, subscriptions)
    members = java_member_order(subscriptions)
    owned = collect_owned_partitions(counts, members, subscriptions)
    if owned.all_subscriptions_equal:
        return constrained_assign(counts, owned.by_member, owned.claimed_by_several)
    return general_assign(counts, members, subscriptions, owned.by_member, owned.max_generation), None


def assign_sticky(partitions_per_topic: Mapping[str, int],
                  subscriptions: Mapping[str, Subscription]) -> GroupAssignment:
    """Kafka's eager ``sticky`` assignment; ``owned_partitions``/``generation`` stand for its user data."""
    if not subscriptions:
        return {}
    assignment, _ = sticky_assignment(partitions_per_topic, subscriptions)
    return finish(subscriptions, assignment)
