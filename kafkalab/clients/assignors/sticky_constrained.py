"""The sticky assignment when every member subscribes to the same topics (``ConstrainedAssignmentBuilder``)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from kafkalab.clients.assignors.types import TopicPartition
from kafkalab.clients.java_strings import java_string_key


def constrained_assign(counts: Mapping[str, int], owned_by_member: Mapping[str, list[TopicPartition]],
                       claimed_by_several: frozenset[TopicPartition],
                       ) -> tuple[dict[str, list[TopicPartition]], dict[TopicPartition, str]]:
    """Assign so every member gets the floor or ceiling of the fair share, keeping owned partitions first.

    Returns the assignment and the partitions handed to a member other than their
    current owner (what the cooperative assignor must hold back). Members are
    visited in ``owned_by_member`` order, which must be Java's HashMap order: it
    decides which members may keep the ceiling share.
    """
    total = sum(counts.values())
    min_quota, with_extra = divmod(total, len(owned_by_member))
    max_quota = min_quota + (1 if with_extra else 0)
    members_over_min = 0
    assignment: dict[str, list[TopicPartition]] = {member: [] for member in owned_by_member}
    kept: set[TopicPartition] = set()
    revoked_from: dict[TopicPartition, str] = {}
    under_min: list[str] = []
    at_min: list[str] = []

    # Step 1: each member keeps owned partitions up to its quota (lowest partition numbers first).
    for member, owned_partitions in owned_by_member.items():
        owned = [tp for tp in sorted(owned_partitions, key=lambda tp: (tp.partition, java_string_key(tp.topic)))
                 if tp not in claimed_by_several]
        if len(owned) < min_quota:
            keep = len(owned)
            under_min.append(member)
        elif len(owned) >= max_quota and members_over_min < with_extra:
            keep = max_quota
            members_over_min += 1
            if members_over_min == with_extra:
                at_min.clear()
        else:
            keep = min_quota
            if members_over_min < with_extra:
                at_min.append(member)
        assignment[member].extend(owned[:keep])
        kept.update(owned[:keep])
        for tp in owned[keep:]:
            revoked_from[tp] = member

    # Step 2: deal the rest round robin, first to members under the floor, then up to the ceiling.
    under_min.sort(key=java_string_key)
    waiting_for_extra = deque(sorted(at_min, key=java_string_key))
    unassigned = [TopicPartition(topic, p) for topic in sorted(counts, key=java_string_key)
                  for p in range(counts[topic]) if TopicPartition(topic, p) not in kept]
    transferring: dict[TopicPartition, str] = {}
    cursor = 0  # a Java iterator over under_min that restarts when exhausted
    for tp in unassigned:
        if cursor < len(under_min):
            member = under_min[cursor]
            cursor += 1
        elif under_min:
            member = under_min[0]
            cursor = 1
        else:
            member = waiting_for_extra.popleft()
        assignment[member].append(tp)
        if (tp in revoked_from and revoked_from[tp] != member) or tp in claimed_by_several:
            transferring[tp] = member
        if len(assignment[member]) == min_quota:  # reached the floor: may now wait for one more
            cursor -= 1
            del under_min[cursor]
            waiting_for_extra.append(member)
    return assignment, transferring

