"""A broker's copy of the cluster layout, kept current by the controller's UpdateMetadata.

Clients ask any broker for metadata; what they get is this cache, so after a failover a
broker that has not yet heard from the controller still reports the old leader — exactly
the stale-metadata window Kafka clients handle with NOT_LEADER_OR_FOLLOWER and a refresh.
"""

from __future__ import annotations

from kafkalab.errors import Errors
from kafkalab.protocol.controller_api import (
    BrokerEndpoint,
    ControlRequestType,
    PartitionState,
    UpdateMetadataRequest,
)
from kafkalab.protocol.metadata import (
    DescribeClusterResponse,
    MetadataResponse,
    PartitionMetadata,
    TopicMetadata,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.validation import INTERNAL_TOPICS, is_internal, topic_name_problem


class MetadataCache:
    """Partition states, live brokers and the controller id as last told by the controller."""

    def __init__(self) -> None:
        self.controller_id = -1
        self.controller_epoch = -1
        self.brokers: dict[int, BrokerEndpoint] = {}
        self.states: dict[TopicPartition, PartitionState] = {}
        self.partition_counts: dict[str, int] = {}
        #: Topic name to topic id (KIP-516), as the controller's UpdateMetadata carries them.
        self.topic_ids: dict[str, str] = {}
        self.cluster_id = ""
        #: KRaft mode: the active controller's node id as this broker's quorum replica knows it (None in
        #: ZooKeeper mode, where the controller is the broker ``controller_id``).
        self.kraft_controller: int | None = None
        self.kraft = False

    def controller_node(self) -> str | None:
        """Where this broker sends what only the controller serves: ``controller-N`` in KRaft mode, else ``broker-N``."""
        if self.kraft:
            return None if self.kraft_controller is None else f"controller-{self.kraft_controller}"
        return f"broker-{self.controller_id}" if self.controller_id >= 0 else None

    def update(self, request: UpdateMetadataRequest) -> None:
        """Apply an UpdateMetadata from the controller; a FULL one replaces every partition state."""
        self.controller_id = request.controller_id
        self.controller_epoch = request.controller_epoch
        self.brokers = {b.broker_id: b for b in request.live_brokers}
        if request.update_type is ControlRequestType.FULL:
            self.states.clear()
            self.partition_counts.clear()
            self.topic_ids.clear()
        self.topic_ids.update(request.topic_ids)
        for topic in request.deleted_topics:
            self.topic_ids.pop(topic, None)
            for partition in range(self.partition_counts.pop(topic, 0)):
                self.states.pop(TopicPartition(topic, partition), None)
        for state in request.partition_states:
            self.states[state.tp] = state
            count = self.partition_counts.get(state.topic, 0)
            self.partition_counts[state.topic] = max(count, state.partition + 1)

    def topics(self) -> list[str]:
        """Every topic the cache knows, sorted."""
        return sorted(self.partition_counts)

    def topic_named(self, topic_id: str) -> str | None:
        """The name of the topic with this id, or None (Kafka's UNKNOWN_TOPIC_ID)."""
        for name, known_id in self.topic_ids.items():
            if known_id == topic_id:
                return name
        return None

    def leader_of(self, tp: TopicPartition) -> int:
        """The leader broker of ``tp`` or -1."""
        state = self.states.get(tp)
        return state.leader if state else -1

    def response(self, topics: tuple[str, ...] | None) -> MetadataResponse:
        """A Metadata response for ``topics`` (None: all), Kafka-style."""
        names = self.topics() if topics is None else list(topics)
        topic_metadata = []
        for name in names:
            count = self.partition_counts.get(name)
            if count is None:
                # KafkaApis.getTopicMetadata: a name Kafka would never accept is INVALID_TOPIC_EXCEPTION.
                error = Errors.INVALID_TOPIC_EXCEPTION if topic_name_problem(name) else Errors.UNKNOWN_TOPIC_OR_PARTITION
                topic_metadata.append(TopicMetadata(error, name, is_internal(name), ()))
                continue
            partitions = []
            for partition in range(count):
                state = self.states.get(TopicPartition(name, partition))
                if state is None:
                    continue
                offline = tuple(r for r in state.replicas if r not in self.brokers)
                error = Errors.LEADER_NOT_AVAILABLE if state.leader not in self.brokers else Errors.NONE
                partitions.append(PartitionMetadata(error, partition, state.leader, state.leader_epoch,
                                                    state.replicas, state.isr, offline))
            topic_metadata.append(TopicMetadata(Errors.NONE, name, name in INTERNAL_TOPICS, tuple(partitions),
                                                self.topic_ids.get(name, "")))
        return MetadataResponse(self.live_endpoints(), self.cluster_id, self.controller_id, tuple(topic_metadata))

    def live_endpoints(self) -> tuple[BrokerEndpoint, ...]:
        """Every live broker's endpoint, by broker id."""
        return tuple(self.brokers[b] for b in sorted(self.brokers))

    def describe_cluster(self) -> DescribeClusterResponse:
        """A DescribeCluster response (KIP-700): the same brokers and controller Metadata reports."""
        return DescribeClusterResponse(Errors.NONE, self.cluster_id, self.controller_id, self.live_endpoints())
