"""The cluster state that metadata records build (Kafka's ``MetadataImage`` with its ``MetadataDelta``).

The active controller, the standby controllers and every broker replay the same committed
records into a ``MetadataImage``, so all agree on it up to the offset each has applied. A
snapshot is the image written back as records (``MetadataImage.write``): replaying them
into an empty image gives the same image.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from kafkalab.errors import Errors, KafkaError
from kafkalab.metadata.records import (
    FENCE,
    NO_LEADER_CHANGE,
    TOPIC_RESOURCE,
    UNFENCE,
    BrokerEndpoint,
    BrokerRegistrationChangeRecord,
    ConfigRecord,
    FeatureLevelRecord,
    FenceBrokerRecord,
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
    UnfenceBrokerRecord,
    UnregisterBrokerRecord,
)


@dataclass(frozen=True)
class BrokerRegistration:
    """A registered broker as the quorum knows it (Kafka's ``BrokerRegistration``)."""

    broker_id: int
    epoch: int
    incarnation_id: str
    end_points: tuple[BrokerEndpoint, ...]
    rack: str | None
    fenced: bool
    in_controlled_shutdown: bool

    @property
    def active(self) -> bool:
        """Unfenced and not shutting down: it may lead partitions (``ClusterControlManager.isActive``)."""
        return not self.fenced and not self.in_controlled_shutdown


@dataclass(frozen=True)
class PartitionRegistration:
    """A partition as the quorum knows it (Kafka's ``PartitionRegistration``)."""

    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader: int
    leader_epoch: int
    partition_epoch: int
    elr: tuple[int, ...] = ()
    last_known_elr: tuple[int, ...] = ()
    leader_recovery_state: int = 0

    @classmethod
    def from_record(cls, record: PartitionRecord) -> PartitionRegistration:
        return cls(record.replicas, record.isr, record.leader, record.leader_epoch, record.partition_epoch,
                   record.eligible_leader_replicas or (), record.last_known_elr or (), record.leader_recovery_state)

    def merge(self, change: PartitionChangeRecord) -> PartitionRegistration:
        """``PartitionRegistration.merge``: the partition epoch always moves; the leader epoch only with the leader."""
        leader, leader_epoch = self.leader, self.leader_epoch
        if change.leader != NO_LEADER_CHANGE:
            leader, leader_epoch = change.leader, self.leader_epoch + 1
        return PartitionRegistration(
            change.replicas if change.replicas is not None else self.replicas,
            change.isr if change.isr is not None else self.isr, leader, leader_epoch, self.partition_epoch + 1,
            change.eligible_leader_replicas if change.eligible_leader_replicas is not None else self.elr,
            change.last_known_elr if change.last_known_elr is not None else self.last_known_elr,
            change.leader_recovery_state if change.leader_recovery_state != -1 else self.leader_recovery_state)

    def to_record(self, topic_id: str, partition: int) -> PartitionRecord:
        return PartitionRecord(partition, topic_id, self.replicas, self.isr, self.leader, self.leader_epoch,
                               self.partition_epoch, directories=tuple("" for _ in self.replicas),
                               leader_recovery_state=self.leader_recovery_state,
                               eligible_leader_replicas=self.elr or None, last_known_elr=self.last_known_elr or None)


@dataclass
class TopicImage:
    """A topic: its id and its partitions by index."""

    name: str
    topic_id: str
    partitions: dict[int, PartitionRegistration] = field(default_factory=dict)


class MetadataImage:
    """Everything the metadata log says, as of ``offset`` (the last record applied; -1 for none)."""

    def __init__(self) -> None:
        self.features: dict[str, int] = {}
        self.brokers: dict[int, BrokerRegistration] = {}
        self.topics: dict[str, TopicImage] = {}
        self.topic_names: dict[str, str] = {}  # topic id -> name
        self.configs: dict[tuple[int, str], dict[str, str]] = {}
        self.next_producer_id = 0
        self.offset = -1
        #: Bumped on every applied record, so readers can tell the image changed.
        self.version = 0

    def copy(self) -> MetadataImage:
        """An independent copy (registrations are frozen, so only the containers are copied)."""
        other = MetadataImage()
        other.features = dict(self.features)
        other.brokers = dict(self.brokers)
        other.topics = {name: TopicImage(t.name, t.topic_id, dict(t.partitions)) for name, t in self.topics.items()}
        other.topic_names = dict(self.topic_names)
        other.configs = {key: dict(values) for key, values in self.configs.items()}
        other.next_producer_id = self.next_producer_id
        other.offset = self.offset
        other.version = self.version
        return other

    # -- replay --------------------------------------------------------------------

    def replay(self, record: MetadataRecord) -> None:
        """Apply one committed record (``MetadataDelta.replay``); a record naming what is not there is CORRUPT_MESSAGE."""
        self.version += 1
        if isinstance(record, PartitionChangeRecord):
            topic = self._topic_by_id(record.topic_id)
            current = topic.partitions.get(record.partition_id)
            if current is None:
                raise KafkaError(Errors.CORRUPT_MESSAGE, f"PartitionChangeRecord for unknown partition "
                                                         f"{topic.name}-{record.partition_id}.")
            topic.partitions[record.partition_id] = current.merge(record)
        elif isinstance(record, PartitionRecord):
            self._topic_by_id(record.topic_id).partitions[record.partition_id] = PartitionRegistration.from_record(record)
        elif isinstance(record, TopicRecord):
            self.topics[record.name] = TopicImage(record.name, record.topic_id)
            self.topic_names[record.topic_id] = record.name
        elif isinstance(record, RemoveTopicRecord):
            name = self._topic_by_id(record.topic_id).name
            del self.topics[name]
            del self.topic_names[record.topic_id]
            self.configs.pop((TOPIC_RESOURCE, name), None)
        elif isinstance(record, ConfigRecord):
            configs = self.configs.setdefault((record.resource_type, record.resource_name), {})
            if record.value is None:
                configs.pop(record.name, None)
            else:
                configs[record.name] = record.value
        elif isinstance(record, RegisterBrokerRecord):
            self.brokers[record.broker_id] = BrokerRegistration(
                record.broker_id, record.broker_epoch, record.incarnation_id, record.end_points, record.rack,
                record.fenced, record.in_controlled_shutdown)
        elif isinstance(record, BrokerRegistrationChangeRecord):
            self._change_broker(record.broker_id, record.broker_epoch, fenced=record.fenced,
                                controlled_shutdown=record.in_controlled_shutdown)
        elif isinstance(record, FenceBrokerRecord):
            self._change_broker(record.id, record.epoch, fenced=FENCE)
        elif isinstance(record, UnfenceBrokerRecord):
            self._change_broker(record.id, record.epoch, fenced=UNFENCE)
        elif isinstance(record, UnregisterBrokerRecord):
            self.brokers.pop(record.broker_id, None)
        elif isinstance(record, FeatureLevelRecord):
            self.features[record.name] = record.feature_level
        elif isinstance(record, ProducerIdsRecord):
            self.next_producer_id = record.next_producer_id

    def replay_all(self, records: Iterable[MetadataRecord]) -> None:
        for record in records:
            self.replay(record)

    def _topic_by_id(self, topic_id: str) -> TopicImage:
        name = self.topic_names.get(topic_id)
        if name is None:
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"A metadata record names topic id {topic_id}, which is unknown.")
        return self.topics[name]

    def _change_broker(self, broker_id: int, epoch: int, fenced: int = 0, controlled_shutdown: int = 0) -> None:
        current = self.brokers.get(broker_id)
        if current is None or current.epoch != epoch:
            return  # meant for an earlier registration (Kafka's ClusterControlManager ignores it too)
        if fenced:
            current = replace(current, fenced=fenced == FENCE,
                              in_controlled_shutdown=current.in_controlled_shutdown and fenced != UNFENCE)
        if controlled_shutdown:
            current = replace(current, in_controlled_shutdown=True)
        self.brokers[broker_id] = current

    # -- reading -------------------------------------------------------------------

    def partition(self, topic: str, partition: int) -> PartitionRegistration | None:
        image = self.topics.get(topic)
        return image.partitions.get(partition) if image is not None else None

    def topic_config(self, topic: str) -> dict[str, str]:
        """The topic's config overrides."""
        return dict(self.configs.get((TOPIC_RESOURCE, topic), {}))

    def is_active(self, broker_id: int) -> bool:
        registration = self.brokers.get(broker_id)
        return registration is not None and registration.active

    # -- snapshots -----------------------------------------------------------------

    def write(self) -> Iterator[MetadataRecord]:
        """The image as records (``MetadataImage.write``): features first, then brokers, topics, configs, ids."""
        for name, level in sorted(self.features.items(), key=lambda kv: (kv[0] != "metadata.version", kv[0])):
            yield FeatureLevelRecord(name, level)
        for broker in (self.brokers[b] for b in sorted(self.brokers)):
            yield RegisterBrokerRecord(broker.broker_id, broker.incarnation_id, broker.epoch, broker.end_points,
                                       rack=broker.rack, fenced=broker.fenced,
                                       in_controlled_shutdown=broker.in_controlled_shutdown)
        for topic in (self.topics[t] for t in sorted(self.topics)):
            yield TopicRecord(topic.name, topic.topic_id)
            for index, partition in sorted(topic.partitions.items()):
                yield partition.to_record(topic.topic_id, index)
        for (resource_type, name), values in sorted(self.configs.items()):
            for key, value in sorted(values.items()):
                yield ConfigRecord(resource_type, name, key, value)
        if self.next_producer_id:
            yield ProducerIdsRecord(-1, -1, self.next_producer_id)
