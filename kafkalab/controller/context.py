"""What the active controller knows: live brokers, topics, assignments and partition states.

Like Kafka's ``ControllerContext``, this is a cache of ZooKeeper's contents that only the
controller's event thread (here: its serial queue) reads and writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kafkalab.protocol.controller_api import PartitionState
from kafkalab.protocol.types import TopicPartition


@dataclass
class TopicInfo:
    """A topic's replica assignment, id and config overrides as read from ZooKeeper."""

    assignment: dict[int, tuple[int, ...]]
    topic_id: str
    config: dict[str, str] = field(default_factory=dict)


@dataclass
class ControllerContext:
    """The controller's in-memory view of the cluster."""

    controller_epoch: int = 0
    epoch_zk_version: int = -1
    live_brokers: dict[int, int] = field(default_factory=dict)  # broker id -> broker epoch (czxid)
    #: Where each live broker said it listens, from its registration (Kafka's ``Broker.endPoints``).
    endpoints: dict[int, tuple[str, int]] = field(default_factory=dict)
    shutting_down: set[int] = field(default_factory=set)
    topics: dict[str, TopicInfo] = field(default_factory=dict)
    states: dict[TopicPartition, PartitionState] = field(default_factory=dict)
    #: Topics marked in /admin/delete_topics (their states are dropped: no election touches them).
    topics_to_delete: set[str] = field(default_factory=set)
    #: Replicas of those topics asked to delete themselves, and those that confirmed, as (partition, broker).
    replicas_deleting: set[tuple[TopicPartition, int]] = field(default_factory=set)
    replicas_deleted: set[tuple[TopicPartition, int]] = field(default_factory=set)

    def replicas(self, tp: TopicPartition) -> tuple[int, ...]:
        """The assigned replicas of ``tp``, preferred leader first."""
        return self.topics[tp.topic].assignment[tp.partition]

    def partitions(self) -> list[TopicPartition]:
        """Every partition of every known topic, in topic and partition order."""
        return [TopicPartition(topic, p) for topic in sorted(self.topics) for p in sorted(self.topics[topic].assignment)]

    def partitions_of(self, topic: str) -> list[TopicPartition]:
        return [TopicPartition(topic, p) for p in sorted(self.topics[topic].assignment)]

    def unclean_enabled(self, topic: str, broker_default: bool) -> bool:
        """The topic's ``unclean.leader.election.enable`` or the broker default."""
        value = self.topics[topic].config.get("unclean.leader.election.enable")
        return broker_default if value is None else str(value).lower() == "true"

    def live(self) -> set[int]:
        """Live broker ids."""
        return set(self.live_brokers)
