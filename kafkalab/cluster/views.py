"""Frozen read models of the cluster for the TUI, scenarios and lessons.

Views are built on the engine thread and never change afterwards, so another thread
may read them freely; nothing in a view points back into engine objects.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReplicaView:
    """One broker's replica of a partition as that broker sees it."""

    broker_id: int
    online: bool
    is_leader: bool
    in_isr: bool
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    size_bytes: int


@dataclass(frozen=True)
class PartitionView:
    """A partition: the committed state in ZooKeeper plus each replica's offsets."""

    topic: str
    partition: int
    leader: int | None
    leader_epoch: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    replica_views: tuple[ReplicaView, ...]

    @property
    def offline(self) -> bool:
        """True when the partition has no leader."""
        return self.leader is None

    @property
    def name(self) -> str:
        return f"{self.topic}-{self.partition}"


@dataclass(frozen=True)
class TopicView:
    """A topic, its partitions and config overrides."""

    name: str
    topic_id: str
    internal: bool
    partitions: tuple[PartitionView, ...]
    config_overrides: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class BrokerView:
    """A broker card: up or down, controller or not, what it leads and stores."""

    broker_id: int
    state: str
    registered: bool
    is_controller: bool
    zk_link_up: bool
    leader_count: int
    follower_count: int
    bytes_on_disk: int
    records_in: int


@dataclass(frozen=True)
class ClusterView:
    """Everything the screens draw, at one virtual instant."""

    time_ms: float
    cluster_id: str
    controller_id: int
    brokers: tuple[BrokerView, ...]
    topics: tuple[TopicView, ...]
    cut_links: tuple[tuple[str, str], ...]
    latencies: tuple[tuple[str, str, float], ...]
    last_event_seq: int

    def topic(self, name: str) -> TopicView | None:
        """The topic named ``name``, if it exists."""
        for topic in self.topics:
            if topic.name == name:
                return topic
        return None

    def partition(self, topic: str, partition: int) -> PartitionView | None:
        """One partition, if it exists."""
        view = self.topic(topic)
        if view is None:
            return None
        for candidate in view.partitions:
            if candidate.partition == partition:
                return candidate
        return None

    def broker(self, broker_id: int) -> BrokerView | None:
        """One broker, if it exists."""
        for broker in self.brokers:
            if broker.broker_id == broker_id:
                return broker
        return None
