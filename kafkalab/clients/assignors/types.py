"""Values shared by the consumer partition assignors: partitions, subscriptions, protocols."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from kafkalab.protocol.consumer_protocol import DEFAULT_GENERATION, Subscription
from kafkalab.protocol.types import TopicPartition

__all__ = ["DEFAULT_GENERATION", "AssignFn", "Assignor", "GroupAssignment", "RebalanceProtocol", "Subscription",
           "TopicPartition"]


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
