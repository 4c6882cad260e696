"""Consumer group invariants, checked against the running engine at any instant (like ``cluster/invariants.py``).

In a Stable group every partition has at most one owner, and a committed offset never
passes the partition's log end offset when consumers commit what they read. Across the
consumers of one group, no partition is owned by two of them at the same moment: eager
members revoke everything before rejoining and cooperative ones revoke what moves first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kafkalab.clients.consumer import Consumer
    from kafkalab.cluster.cluster import Cluster


def check_group_invariants(cluster: Cluster, consumers: Iterable[Consumer] = ()) -> list[str]:
    """Every broken group invariant right now, one sentence each."""
    broken: list[str] = []
    snapshot = cluster.snapshot()
    for group in snapshot.groups:
        owners: dict[str, str] = {}
        for member in group.members:
            for name in member.assignment:
                if name in owners:
                    broken.append(f"group {group.group_id}: {name} assigned to {owners[name]} and {member.client_id}")
                owners[name] = member.client_id
        for row in group.partitions:
            partition = snapshot.partition(row.topic, row.partition)
            if row.current_offset is not None and partition is not None and \
                    row.current_offset > partition.log_end_offset:
                broken.append(f"group {group.group_id}: committed offset {row.current_offset} of "
                              f"{row.topic}-{row.partition} is past its log end offset {partition.log_end_offset}")
    held: dict[tuple[str | None, str], str] = {}
    for consumer in consumers:
        for tp in consumer.assignment():
            key = (consumer.group_id, str(tp))
            if consumer.group_id is not None and key in held and consumer.subscription():
                broken.append(f"group {consumer.group_id}: {tp} owned by {held[key]} and {consumer.client_id} at once")
            held[key] = consumer.client_id
    return broken


def assert_group_invariants(cluster: Cluster, consumers: Iterable[Consumer] = ()) -> None:
    """Raise AssertionError listing every broken group invariant."""
    broken = check_group_invariants(cluster, consumers)
    if broken:
        raise AssertionError("group invariants broken:\n  " + "\n  ".join(broken))
