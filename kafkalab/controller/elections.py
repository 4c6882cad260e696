"""Leader election rules, exactly as Kafka's controller applies them.

These mirror ``PartitionLeaderElectionAlgorithms`` in Apache Kafka: the new leader is
the first replica *in assignment order* that satisfies the rule, never the "most
caught-up" one. Each function returns the new leader and ISR, or None when no replica
qualifies (the partition goes offline).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Election:
    """The outcome of an election: who leads, the new ISR, and whether it was unclean."""

    leader: int
    isr: tuple[int, ...]
    unclean: bool = False


def offline_partition_election(assignment: Sequence[int], isr: Sequence[int], live: Collection[int],
                               unclean_enabled: bool) -> Election | None:
    """A partition whose leader died: first live ISR replica; else, if allowed, any live replica.

    An unclean leader was not in the ISR, so it may lack records the old leader
    acknowledged; its ISR restarts as just itself.
    """
    for replica in assignment:
        if replica in live and replica in isr:
            return Election(replica, tuple(r for r in isr if r in live))
    if unclean_enabled:
        for replica in assignment:
            if replica in live:
                return Election(replica, (replica,), unclean=True)
    return None


def preferred_replica_election(assignment: Sequence[int], isr: Sequence[int], live: Collection[int]) -> Election | None:
    """Move leadership to the preferred (first assigned) replica if it is alive and in sync."""
    if not assignment:
        return None
    preferred = assignment[0]
    if preferred in live and preferred in isr:
        return Election(preferred, tuple(isr))
    return None


def controlled_shutdown_election(assignment: Sequence[int], isr: Sequence[int], live: Collection[int],
                                 shutting_down: Collection[int]) -> Election | None:
    """Move leadership off brokers that are shutting down, to the first live ISR replica staying up."""
    for replica in assignment:
        if replica in live and replica in isr and replica not in shutting_down:
            return Election(replica, tuple(r for r in isr if r not in shutting_down))
    return None


def new_partition_election(assignment: Sequence[int], live: Collection[int]) -> Election | None:
    """A brand-new partition: the first live replica leads and every live replica is in sync."""
    live_replicas = tuple(r for r in assignment if r in live)
    if not live_replicas:
        return None
    return Election(live_replicas[0], live_replicas)


def isr_without(isr: Sequence[int], leader: int, replica: int) -> tuple[int, tuple[int, ...]]:
    """Leader and ISR after ``replica`` goes offline (Kafka keeps the last ISR member, leader -1)."""
    new_leader = -1 if replica == leader else leader
    new_isr = tuple(isr) if len(isr) == 1 else tuple(r for r in isr if r != replica)
    return new_leader, new_isr
