"""Values shared by the consumer partition assignors: partitions, subscriptions, protocols."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from kafkalab.protocol.types import TopicPartition


#: Kafka's ``AbstractStickyAssignor.DEFAULT_GENERATION``: the member has no known generation.
DEFAULT_GENERATION = -1


@dataclass(frozen=True)
class Subscription:
    """What one member sent in its JoinGroup: topics, what it owns and its identity.

    ``owned_partitions`` and ``generation`` stand for the ConsumerProtocol v1+/v2+
    fields (for the eager ``sticky`` assignor: its user data). ``rack_id`` is carried
    but rack-aware assignment (KIP-881) is not implemented.
    """

    topics: tuple[str, ...]
    owned_partitions: tuple[TopicPartition, ...] = ()
    generation: int = DEFAULT_GENERATION
    group_instance_id: str | None = None
    rack_id: str | None = None


class RebalanceProtocol(Enum):
    """Kafka's ``ConsumerPartitionAssignor.RebalanceProtocol``."""

    EAGER = "eager"
    COOPERATIVE = "cooperative"


#: member id -> the partitions assigned to it, each list sorted by (topic, partition).
GroupAssignment = dict[str, list[TopicPartition]]

#: ``assign(partitions_per_topic, subscriptions)``; subscriptions in JoinGroup member order.
AssignFn = Callable[[Mapping[str, int], Mapping[str, Subscription]], GroupAssignment]


@dataclass(frozen=True)
class Assignor:
    """A named assignment strategy and the rebalance protocols it supports, preferred first."""

    name: str
    supported_protocols: tuple[RebalanceProtocol, ...]
    assign: AssignFn
