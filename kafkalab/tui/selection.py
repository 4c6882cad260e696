"""The user's selection shared by every screen: a topic, one of its partitions and a broker."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kafkalab.views import ClusterView, PartitionView, TopicView


@dataclass(frozen=True)
class Selection:
    """What the screens focus on; forms start from it (``k`` offers the selected partition's leader)."""

    topic: str | None = None
    partition: int = 0
    #: The replica the record inspector reads; None means the partition's leader.
    broker: int | None = None

    def topic_view(self, view: ClusterView) -> TopicView | None:
        return view.topic(self.topic) if self.topic is not None else None

    def partition_view(self, view: ClusterView) -> PartitionView | None:
        return view.partition(self.topic, self.partition) if self.topic is not None else None

    def replica(self, view: ClusterView) -> int | None:
        """The broker whose replica of the selected partition to read: the chosen one, else the leader."""
        partition = self.partition_view(view)
        if partition is None:
            return None
        if self.broker in partition.replicas:
            return self.broker
        return partition.leader if partition.leader is not None else partition.replicas[0]

    def settled(self, view: ClusterView) -> Selection:
        """This selection made valid for ``view``: an existing topic (user topics first) and partition."""
        topic = self.topic_view(view)
        if topic is None:
            candidates = [t for t in view.topics if not t.internal] or list(view.topics)
            if not candidates:
                return Selection(None, 0, self.broker)
            return Selection(candidates[0].name, 0, self.broker)
        if not 0 <= self.partition < len(topic.partitions):
            return replace(self, partition=0)
        return self

    def moved(self, view: ClusterView, partitions: int = 0, topics: int = 0) -> Selection:
        """The selection stepped by ``partitions`` within the topic or ``topics`` along the topic list."""
        if not view.topics:
            return self
        names = [t.name for t in view.topics]
        index = names.index(self.topic) if self.topic in names else 0
        if topics:
            index = (index + topics) % len(names)
            return Selection(names[index], 0, self.broker)
        count = len(view.topics[index].partitions)
        return replace(self, topic=names[index], partition=(self.partition + partitions) % max(1, count))
