"""Consumer group partition assignors giving Apache Kafka's exact assignments.

Each is an ``Assignor`` whose ``assign(partitions_per_topic, subscriptions)`` takes
the topic partition counts and each member's ``Subscription`` (in JoinGroup member
order) and returns every member's sorted partition list. Look them up by Kafka's
``partition.assignment.strategy`` names with ``get_assignor``.
"""

from __future__ import annotations

import difflib

from kafkalab.clients.assignors.cooperative_sticky import assign_cooperative_sticky
from kafkalab.clients.assignors.range import assign_range
from kafkalab.clients.assignors.roundrobin import assign_roundrobin
from kafkalab.clients.assignors.sticky import assign_sticky
from kafkalab.clients.assignors.types import (
    DEFAULT_GENERATION,
    Assignor,
    GroupAssignment,
    RebalanceProtocol,
    Subscription,
    TopicPartition,
)
from kafkalab.errors import Errors, KafkaError

_EAGER = (RebalanceProtocol.EAGER,)

#: Kafka's built-in assignors by name; only cooperative-sticky supports COOPERATIVE (KIP-429).
ASSIGNORS: dict[str, Assignor] = {
    "range": Assignor("range", _EAGER, assign_range),
    "roundrobin": Assignor("roundrobin", _EAGER, assign_roundrobin),
    "sticky": Assignor("sticky", _EAGER, assign_sticky),
    "cooperative-sticky": Assignor("cooperative-sticky", (RebalanceProtocol.COOPERATIVE, RebalanceProtocol.EAGER),
                                   assign_cooperative_sticky),
}


def get_assignor(name: str) -> Assignor:
    """The assignor called ``name``; an unknown name is an INVALID_CONFIG naming the valid ones."""
    assignor = ASSIGNORS.get(name)
    if assignor is not None:
        return assignor
    valid = ", ".join(ASSIGNORS)
    close = difflib.get_close_matches(name, list(ASSIGNORS), n=1, cutoff=0.0)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise KafkaError(Errors.INVALID_CONFIG,
                     f"Unknown partition.assignment.strategy '{name}'; valid assignors are {valid}.{hint}")


__all__ = [
    "ASSIGNORS",
    "DEFAULT_GENERATION",
    "Assignor",
    "GroupAssignment",
    "RebalanceProtocol",
    "Subscription",
    "TopicPartition",
    "get_assignor",
]
