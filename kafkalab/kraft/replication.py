"""The active controller's decisions about topics and partitions: Kafka 4.1's ``ReplicationControlManager``.

Each method reads the controller's working ``MetadataImage`` (committed records plus those
it has written and not yet seen committed) and returns the records that carry out the
request, with the answer to give once they are committed. Nothing here writes: the
controller appends the records and replays them into its working image at once, as
Kafka's controller does with its timeline data structures.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from kafkalab.config import BrokerConfig, TopicConfig, format_config_value, parse_topic_configs
from kafkalab.errors import Errors, KafkaError, quoted
from kafkalab.kraft.partition_change import Election, PartitionChangeBuilder
from kafkalab.kraft.placement import UsableBroker, place_replicas
from kafkalab.metadata.image import MetadataImage, PartitionRegistration
from kafkalab.metadata.records import (
    TOPIC_RESOURCE,
    ConfigRecord,
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    RemoveTopicRecord,
    TopicRecord,
)
from kafkalab.protocol.admin import AlterConfigOp, ApiResult, CreatableTopic, IncrementalAlterConfigsRequest
from kafkalab.protocol.controller_api import AlterPartitionRequest
from kafkalab.protocol.types import TopicPartition
from kafkalab.validation import (
    MAX_RECORDS_PER_USER_OP,
    is_internal,
    validate_partition_increase,
    validate_topic_is_new,
    validate_topic_name,
)

#: A partition whose registration a change record produced, with the record.
Change = tuple[TopicPartition, PartitionChangeRecord]


@dataclass(frozen=True)
class Outcome:
    """Records to write and what they do to each partition (for narration)."""

    records: tuple[MetadataRecord, ...]
    changes: tuple[Change, ...] = ()


def _result(exc: KafkaError) -> ApiResult:
    return ApiResult(exc.error, exc.message)


class ReplicationControl:
    """Topic creation and deletion, configs, leader election, ISR changes and broker fencing."""

    def __init__(self, image: Callable[[], MetadataImage], config: BrokerConfig, rng: random.Random) -> None:
        self._image = image
        self.config = config
        self.rng = rng

    @property
    def image(self) -> MetadataImage:
        return self._image()

    def topic_config(self, topic: str) -> TopicConfig:
        return TopicConfig.build(self.image.topic_config(topic), self.config)

    # -- topics --------------------------------------------------------------------

    def create_topic(self, topic: CreatableTopic, internal_allowed: bool) -> list[MetadataRecord]:
        """TopicRecord, a PartitionRecord per partition and a ConfigRecord per override (``createTopic``)."""
        image = self.image
        validate_topic_name(topic.name)
        if is_internal(topic.name) and not internal_allowed:
            raise KafkaError(Errors.INVALID_REQUEST, f"Creation of internal topic {topic.name} is prohibited.")
        validate_topic_is_new(topic.name, image.topics)
        partitions = self.config["num.partitions"] if topic.num_partitions == -1 else topic.num_partitions
        factor = (self.config["default.replication.factor"] if topic.replication_factor == -1
                  else topic.replication_factor)
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
            raise KafkaError(Errors.INVALID_PARTITIONS, f"Number of partitions must be at least 1, not {quoted(partitions)}.")
        parsed = parse_topic_configs(topic.configs)
        if 1 + partitions + len(parsed) > MAX_RECORDS_PER_USER_OP:
            raise KafkaError(Errors.POLICY_VIOLATION,
                             f"Unable to perform excessively large batch operation: {partitions:,} partitions are more "
                             f"than one request may create ({MAX_RECORDS_PER_USER_OP - 1 - len(parsed):,}).")
        assignment = place_replicas(partitions, factor, self._usable_brokers(), self.rng)
        topic_id = base64.urlsafe_b64encode(self.rng.getrandbits(128).to_bytes(16, "big")).decode().rstrip("=")
        records: list[MetadataRecord] = [TopicRecord(topic.name, topic_id)]
        records += [self._new_partition(topic_id, index, replicas) for index, replicas in enumerate(assignment)]
        records += [ConfigRecord(TOPIC_RESOURCE, topic.name, key, format_config_value(value))
                    for key, value in sorted(parsed.items())]
        return records

    def _usable_brokers(self) -> list[UsableBroker]:
        """Registered brokers not shutting down (``ClusterControlManager.usableBrokers``)."""
        return [UsableBroker(b.broker_id, b.rack, b.fenced) for b in self.image.brokers.values()
                if not b.in_controlled_shutdown]

    def _new_partition(self, topic_id: str, index: int, replicas: tuple[int, ...]) -> PartitionRecord:
        """The ISR is the active replicas; the first of them leads, at leader epoch 0."""
        isr = tuple(r for r in replicas if self.image.is_active(r))
        return PartitionRecord(index, topic_id, replicas, isr, isr[0] if isr else -1, 0, 0,
                               directories=tuple("" for _ in replicas))

    def create_partitions(self, name: str, count: int) -> list[MetadataRecord]:
        """PartitionRecords for the new partitions of ``name``, with its replication factor."""
        topic = self.image.topics.get(name)
        if topic is None:
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"The topic '{name}' does not exist.")
        current = len(topic.partitions)
        validate_partition_increase(current, count)
        factor = len(topic.partitions[0].replicas)
        assignment = place_replicas(count - current, factor, self._usable_brokers(), self.rng)
        return [self._new_partition(topic.topic_id, current + i, replicas) for i, replicas in enumerate(assignment)]

    def delete_topic(self, name: str) -> list[MetadataRecord]:
        """One RemoveTopicRecord: the topic, its partitions and configs go at once (no deletion protocol in KRaft)."""
        topic = self.image.topics.get(name)
        if topic is None:
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {quoted(name)} does not exist.")
        return [RemoveTopicRecord(topic.topic_id)]

    def alter_configs(self, request: IncrementalAlterConfigsRequest) -> list[MetadataRecord]:
        """ConfigRecords for KIP-339 set/delete operations, validated as a whole (``ConfigurationControlManager``)."""
        if request.topic not in self.image.topics:
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{request.topic}' does not exist.")
        updated = self.image.topic_config(request.topic)
        for key, op, value in request.changes:
            if op == AlterConfigOp.DELETE:
                updated.pop(key, None)
            else:
                updated[key] = "" if value is None else str(value)
        parsed = parse_topic_configs(updated)
        records: list[MetadataRecord] = []
        for key, _, _ in request.changes:
            value = format_config_value(parsed[key]) if key in parsed else None
            records.append(ConfigRecord(TOPIC_RESOURCE, request.topic, key, value))
        return records

    # -- partition changes ---------------------------------------------------------------

    def _builder(self, topic: str, partition: int, registration: PartitionRegistration,
                 acceptable: Callable[[int], bool]) -> PartitionChangeBuilder:
        config = self.topic_config(topic)
        return PartitionChangeBuilder(registration, self.image.topics[topic].topic_id, partition, acceptable,
                                      config.min_insync_replicas, elr_enabled=self.elr_enabled,
                                      election=Election.UNCLEAN if config.unclean_leader_election_enable
                                      else Election.ONLINE)

    @property
    def elr_enabled(self) -> bool:
        """``eligible.leader.replicas.version`` >= 1 (KIP-966; on for clusters made by Kafka 4.1)."""
        return self.image.features.get("eligible.leader.replicas.version", 0) >= 1

    def leader_and_isr_updates(self, partitions: Iterable[TopicPartition], broker_to_remove: int = -1,
                               broker_to_add: int = -1, unclean_shutdown: int = -1) -> list[Change]:
        """``generateLeaderAndIsrUpdates``: take a broker out of ISRs (and leadership) or let one lead again."""
        image = self.image

        def acceptable(replica: int) -> bool:
            return replica not in (broker_to_remove, unclean_shutdown) and (
                replica == broker_to_add or image.is_active(replica))

        changes: list[Change] = []
        for tp in partitions:
            registration = image.partition(tp.topic, tp.partition)
            if registration is None:
                continue
            builder = self._builder(tp.topic, tp.partition, registration, acceptable)
            builder.target_isr = tuple(r for r in registration.isr if r not in (broker_to_remove, unclean_shutdown))
            if unclean_shutdown >= 0:
                builder.unclean_shutdown_replicas = (unclean_shutdown,)
            record = builder.build()
            if record is not None:
                changes.append((tp, record))
        return changes

    def partitions_where(self, test: Callable[[PartitionRegistration], bool]) -> list[TopicPartition]:
        """Every partition whose registration passes ``test``, in topic and partition order."""
        return [TopicPartition(name, index) for name in sorted(self.image.topics)
                for index, registration in sorted(self.image.topics[name].partitions.items()) if test(registration)]

    def alter_partition(self, request: AlterPartitionRequest,
                        broker_epochs: Mapping[int, int]) -> tuple[Errors, PartitionChangeRecord | None]:
        """A leader's ISR change (KIP-497), checked as Kafka 4.1 checks it (``alterPartition``)."""
        tp = request.tp
        registration = self.image.partition(tp.topic, tp.partition)
        if registration is None:
            return Errors.UNKNOWN_TOPIC_OR_PARTITION, None
        if broker_epochs.get(request.broker_id) != request.broker_epoch:
            return Errors.STALE_BROKER_EPOCH, None
        if registration.leader != request.broker_id:
            return Errors.INVALID_REQUEST, None
        if request.leader_epoch > registration.leader_epoch:
            return Errors.UNKNOWN_LEADER_EPOCH, None
        if request.leader_epoch < registration.leader_epoch:
            return Errors.FENCED_LEADER_EPOCH, None
        if request.partition_epoch != registration.partition_epoch:
            return Errors.INVALID_UPDATE_VERSION, None
        if any(r not in registration.replicas for r in request.new_isr) or request.broker_id not in request.new_isr:
            return Errors.INVALID_REQUEST, None
        # KIP-903: only an unfenced broker not shutting down may join the ISR.
        if any(r not in registration.isr and not self.image.is_active(r) for r in request.new_isr):
            return Errors.INELIGIBLE_REPLICA, None
        builder = self._builder(tp.topic, tp.partition, registration, self.image.is_active)
        builder.target_isr = tuple(request.new_isr)
        return Errors.NONE, builder.build()

    def elect_preferred(self, tp: TopicPartition) -> tuple[ApiResult, PartitionChangeRecord | None]:
        """A preferred leader election for one partition (``electLeader`` with Election.PREFERRED)."""
        registration = self.image.partition(tp.topic, tp.partition)
        if registration is None:
            return ApiResult(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Partition {tp} does not exist."), None
        preferred = registration.replicas[0]
        if registration.leader == preferred:
            return ApiResult(Errors.ELECTION_NOT_NEEDED, f"Broker {preferred} is already the preferred leader of {tp}."), None
        builder = self._builder(tp.topic, tp.partition, registration, self.image.is_active)
        builder.election = Election.PREFERRED
        record = builder.build()
        if record is None or record.leader != preferred:
            return ApiResult(Errors.PREFERRED_LEADER_NOT_AVAILABLE,
                             f"Preferred replica {preferred} of {tp} is not alive and in the ISR "
                             f"{list(registration.isr)}."), None
        return ApiResult(Errors.NONE), record

    @staticmethod
    def result(exc: KafkaError) -> ApiResult:
        return _result(exc)
