"""The sticky assignment when members subscribe to different topics (``GeneralAssignmentBuilder``)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from kafkalab.clients.assignors.sticky_movements import PartitionMovements
from kafkalab.clients.assignors.types import Subscription, TopicPartition
from kafkalab.clients.java_strings import java_string_key


@dataclass(frozen=True)
class _PreviousOwner:
    """Who owned a partition in the newest generation older than the current one."""

    member: str
    generation: int


class _MembersBySize:
    """Members ordered by how many partitions they hold, then by member id (Kafka's ``SubscriptionComparator``)."""

    def __init__(self, current: Mapping[str, list[TopicPartition]]) -> None:
        self._current = current
        self._keys: dict[str, tuple[int, bytes, str]] = {}
        self._ordered: list[tuple[int, bytes, str]] = []

    def add(self, member: str) -> None:
        key = (len(self._current[member]), java_string_key(member), member)
        self._keys[member] = key
        bisect.insort(self._ordered, key)

    def remove(self, member: str) -> None:
        self._ordered.remove(self._keys.pop(member))

    def __iter__(self) -> Iterator[str]:
        return (key[2] for key in self._ordered)

    def first(self) -> str:
        return self._ordered[0][2]

    def last(self) -> str:
        return self._ordered[-1][2]


class _GeneralAssignment:
    """One run of the general sticky algorithm over mutable working state."""

    def __init__(self, counts: Mapping[str, int], members: Sequence[str],
                 subscriptions: Mapping[str, Subscription], owned_by_member: Mapping[str, list[TopicPartition]],
                 max_generation: int) -> None:
        self.counts = counts
        self.members = members
        self.subscriptions = subscriptions
        self.max_generation = max_generation
        self.topic_members: dict[str, list[str]] = {topic: [] for topic in counts}
        self.member_topics: dict[str, list[str]] = {}
        for member in members:
            topics = [topic for topic in subscriptions[member].topics if topic in counts]
            self.member_topics[member] = topics
            for topic in topics:
                self.topic_members[topic].append(member)
        self.current: dict[str, list[TopicPartition]] = {m: list(owned_by_member[m]) for m in members}
        self.owner: dict[TopicPartition, str] = {tp: m for m, tps in self.current.items() for tp in tps}
        sorted_topics = sorted(counts, key=lambda t: (len(self.topic_members[t]), java_string_key(t)))
        self.sorted_partitions = [TopicPartition(t, p) for t in sorted_topics for p in range(counts[t])]
        self.by_size = _MembersBySize(self.current)
        self.movements = PartitionMovements()
        self.revocation_required = False

    def previous_owners(self) -> dict[TopicPartition, _PreviousOwner]:
        """Owners from older generations: the newest claim below the group's maximum generation wins."""
        previous: dict[TopicPartition, _PreviousOwner] = {}
        for member in self.members:
            subscription = self.subscriptions[member]
            if subscription.generation >= self.max_generation:
                continue
            for tp in subscription.owned_partitions:
                known = previous.get(tp)
                if known is None or subscription.generation > known.generation:
                    previous[tp] = _PreviousOwner(member, subscription.generation)
        return previous

    def keep_owned_partitions(self) -> set[TopicPartition]:
        """Drop owned partitions of topics a member no longer subscribes to; return the kept ones."""
        kept: set[TopicPartition] = set()
        for member, partitions in self.current.items():
            subscribed = self.subscriptions[member].topics
            still = [tp for tp in partitions if tp.topic in subscribed]
            if len(still) < len(partitions):
                self.revocation_required = True
            partitions[:] = still
            kept.update(still)
        return kept

    def max_assignment_size(self, member: str) -> int:
        return sum(self.counts[topic] for topic in self.member_topics[member])

    def is_balanced(self) -> bool:
        """True when no member could take a partition from one holding two or more partitions more."""
        if len(self.current[self.by_size.first()]) >= len(self.current[self.by_size.last()]) - 1:
            return True
        # Kafka checks every partition a member lacks; the size of each topic's biggest holder is equivalent.
        biggest_owner: dict[str, int] = {}
        for partitions in self.current.values():
            for tp in partitions:
                biggest_owner[tp.topic] = max(biggest_owner.get(tp.topic, 0), len(partitions))
        for member in self.by_size:
            size = len(self.current[member])
            if size == self.max_assignment_size(member):
                continue
            if any(size + 1 < biggest_owner.get(topic, 0) for topic in self.member_topics[member]):
                return False
        return True

    def topic_can_move(self, topic: str) -> bool:
        return len(self.topic_members[topic]) >= 2

    def member_can_change(self, member: str) -> bool:
        partitions = self.current[member]
        if len(partitions) < self.max_assignment_size(member):
            return True
        return any(self.topic_can_move(tp.topic) for tp in partitions)

    def give_to_smallest(self, tp: TopicPartition) -> None:
        """``maybeAssignPartition``: the least-loaded subscriber of the topic takes ``tp``."""
        for member in self.by_size:
            if tp.topic in self.member_topics[member]:
                self.by_size.remove(member)
                self.current[member].append(tp)
                self.owner[tp] = member
                self.by_size.add(member)
                return

    def move(self, tp: TopicPartition, new_owner: str) -> None:
        """Move ``tp`` (or the partition that undoes an earlier opposite move) to ``new_owner``."""
        tp = self.movements.partition_to_move(tp, self.owner[tp], new_owner)
        old_owner = self.owner[tp]
        self.by_size.remove(old_owner)
        self.by_size.remove(new_owner)
        self.movements.record_move(tp, old_owner, new_owner)
        self.current[old_owner].remove(tp)
        self.current[new_owner].append(tp)
        self.owner[tp] = new_owner
        self.by_size.add(new_owner)
        self.by_size.add(old_owner)

    def reassign(self, partitions: list[TopicPartition], previous: Mapping[TopicPartition, _PreviousOwner]) -> bool:
        """``performReassignments``: move partitions to better-suited members until balanced."""
        performed = False
        modified = True
        while modified:
            modified = False
            for tp in partitions:
                if self.is_balanced():
                    break
                owner = self.owner[tp]
                before = previous.get(tp)
                # Kafka hands a partition back to its older-generation owner without checking that owner
                # still subscribes to the topic; we do the same. Where that owner cannot change at all
                # Kafka throws a NullPointerException; we skip the rule instead.
                if (before is not None and before.member in self.current
                        and len(self.current[owner]) > len(self.current[before.member]) + 1):
                    self.move(tp, before.member)
                    performed = modified = True
                    continue
                owner_size = len(self.current[owner])
                if any(owner_size > len(self.current[other]) + 1 for other in self.topic_members[tp.topic]):
                    self.move(tp, next(m for m in self.by_size if tp.topic in self.member_topics[m]))
                    performed = modified = True
        return performed

    def run(self) -> dict[str, list[TopicPartition]]:
        previous = self.previous_owners()
        kept = self.keep_owned_partitions()
        unassigned = [tp for tp in self.sorted_partitions if tp not in kept]
        for member in self.members:
            self.by_size.add(member)
        initializing = not self.current[self.by_size.last()]
        for tp in unassigned:
            if self.topic_members[tp.topic]:
                self.give_to_smallest(tp)

        movable = [tp for tp in self.sorted_partitions if self.topic_can_move(tp.topic)]
        unassigned = [tp for tp in unassigned if self.topic_can_move(tp.topic)]
        fixed = {m: self.current.pop(m) for m in self.members if not self.member_can_change(m)}
        for member in fixed:
            self.by_size.remove(member)
        before = {m: list(tps) for m, tps in self.current.items()}
        if not self.revocation_required:
            self.reassign(unassigned, previous)  # first try moving only the newly assigned partitions
        performed = self.reassign(movable, previous)
        if not initializing and performed and _balance_score(self.current) >= _balance_score(before):
            self.current = before  # not better balanced: keep the assignment from before the moves
        return {**self.current, **fixed}


def _balance_score(assignment: Mapping[str, list[TopicPartition]]) -> int:
    """Sum of size differences over all member pairs; 0 is perfectly even (``getBalanceScore``)."""
    sizes = [len(partitions) for partitions in assignment.values()]
    return sum(abs(a - b) for i, a in enumerate(sizes) for b in sizes[i + 1:])


def general_assign(counts: Mapping[str, int], members: Sequence[str], subscriptions: Mapping[str, Subscription],
                   owned_by_member: Mapping[str, list[TopicPartition]], max_generation: int,
                   ) -> dict[str, list[TopicPartition]]:
    """Keep owned partitions, hand out the rest to the least loaded, then move partitions until balanced.

    ``members`` must be in Java's HashMap order; it breaks ties between equally
    recent previous owners. Rack-aware steps (KIP-881) are not implemented.
    """
    return _GeneralAssignment(counts, members, subscriptions, owned_by_member, max_generation).run()
