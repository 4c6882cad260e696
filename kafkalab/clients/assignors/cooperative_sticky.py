"""Kafka's ``cooperative-sticky`` assignor: the sticky assignment minus partitions still to be revoked."""

from __future__ import annotations

from collections.abc import Mapping

from kafkalab.clients.assignors.common import finish
from kafkalab.clients.assignors.sticky import sticky_assignment
from kafkalab.clients.assignors.types import GroupAssignment, Subscription, TopicPartition


def partitions_changing_owner(subscriptions: Mapping[str, Subscription],
                              assignment: Mapping[str, list[TopicPartition]]) -> dict[TopicPartition, str]:
    """Partitions given to a member that did not own them while some other member gives them up."""
    added: dict[TopicPartition, str] = {}
    revoked: set[TopicPartition] = set()
    for member, assigned in assignment.items():
        owned = set(subscriptions[member].owned_partitions)
        added.update((tp, member) for tp in assigned if tp not in owned)
        revoked.update(owned.difference(assigned))
    return {tp: member for tp, member in added.items() if tp in revoked}


def assign_cooperative_sticky(partitions_per_topic: Mapping[str, int],
                              subscriptions: Mapping[str, Subscription]) -> GroupAssignment:
    """The sticky assignment without partitions whose current owner must revoke them first.

    ``CooperativeStickyAssignor``: with the cooperative protocol (KIP-429) a partition
    cannot move straight from one member to another; it is left out now, its owner
    revokes it, and the follow-up rebalance assigns it.
    """
    if not subscriptions:
        return {}
    assignment, transferring = sticky_assignment(partitions_per_topic, subscriptions)
    if transferring is None:
        transferring = partitions_changing_owner(subscriptions, assignment)
    for tp, member in transferring.items():
        assignment[member].remove(tp)
    return finish(subscriptions, assignment)
