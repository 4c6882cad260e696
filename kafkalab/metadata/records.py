"""Kafka's metadata records, with Kafka's names, api keys, versions and byte layouts.

Each class mirrors ``metadata/src/main/resources/common/metadata/<Name>.json`` at the
version Kafka 4.1 writes (metadata.version 4.1-IV1, with ELR enabled). A record in the
log is an ``ApiMessageAndVersion`` framed by ``MetadataRecordSerde``: an unsigned varint
frame version (1), the api key and the record version, then the message in its flexible
encoding. That frame is the value of one record of a ``__cluster_metadata`` batch.

Uuids (topic ids, incarnation ids) are kept as kafkalab prints them: 22 url-safe base64
characters; brokers and partitions by their int ids. Kafka's "no change" sentinels are
kept too: -2 for an unchanged leader, None for an unchanged list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from kafkalab.errors import Errors, KafkaError
from kafkalab.metadata.message_io import Field, MessageReader, encode_message, read_message, write_uvarint

#: ``AbstractApiMessageSerde.DEFAULT_FRAME_VERSION``.
FRAME_VERSION = 1
#: ``PartitionChangeRecord.Leader``: the leader did not change.
NO_LEADER_CHANGE = -2
#: No leader.
NO_LEADER = -1
#: ``DirectoryId.UNASSIGNED`` (Uuid 0): a replica whose log directory the controller has not been told.
UNASSIGNED_DIRECTORY = ""
#: ``SecurityProtocol.PLAINTEXT``.
PLAINTEXT = 0
#: ``ConfigResource.Type``: the resource types a ConfigRecord names.
TOPIC_RESOURCE = 2
BROKER_RESOURCE = 4


class MetadataRecord:
    """A metadata record type: its api key, the version written, and its fields in schema order."""

    API_KEY: ClassVar[int]
    VERSION: ClassVar[int]
    FIELDS: ClassVar[tuple[Field, ...]]


@dataclass(frozen=True)
class BrokerEndpoint:
    """``RegisterBrokerRecord.EndPoints``: a listener's name, host, port and security protocol."""

    name: str
    host: str
    port: int
    security_protocol: int = PLAINTEXT
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("name", "string"), Field("host", "string"),
                                           Field("port", "uint16"), Field("security_protocol", "int16"))


@dataclass(frozen=True)
class BrokerFeature:
    """``RegisterBrokerRecord.Features``: a feature and the levels this broker supports."""

    name: str
    min_supported_version: int
    max_supported_version: int
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("name", "string"), Field("min_supported_version", "int16"),
                                           Field("max_supported_version", "int16"))


@dataclass(frozen=True)
class RegisterBrokerRecord(MetadataRecord):
    """A broker registered (or registered again, with a new epoch): it starts fenced."""

    broker_id: int
    incarnation_id: str
    broker_epoch: int
    end_points: tuple[BrokerEndpoint, ...]
    features: tuple[BrokerFeature, ...] = ()
    rack: str | None = None
    fenced: bool = True
    in_controlled_shutdown: bool = False
    is_migrating_zk_broker: bool = False
    log_dirs: tuple[str, ...] = ()
    API_KEY: ClassVar[int] = 0
    VERSION: ClassVar[int] = 3
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("broker_id", "int32"), Field("is_migrating_zk_broker", "bool"), Field("incarnation_id", "uuid"),
        Field("broker_epoch", "int64"), Field("end_points", "[]struct", struct=BrokerEndpoint),
        Field("features", "[]struct", struct=BrokerFeature), Field("rack", "string"), Field("fenced", "bool"),
        Field("in_controlled_shutdown", "bool"), Field("log_dirs", "[]uuid", tag=0, default=()))


@dataclass(frozen=True)
class UnregisterBrokerRecord(MetadataRecord):
    """A broker's registration was removed."""

    broker_id: int
    broker_epoch: int
    API_KEY: ClassVar[int] = 1
    VERSION: ClassVar[int] = 0
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("broker_id", "int32"), Field("broker_epoch", "int64"))


@dataclass(frozen=True)
class TopicRecord(MetadataRecord):
    """A topic was created; its partitions follow as PartitionRecords."""

    name: str
    topic_id: str
    API_KEY: ClassVar[int] = 2
    VERSION: ClassVar[int] = 0
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("name", "string"), Field("topic_id", "uuid"))


@dataclass(frozen=True)
class PartitionRecord(MetadataRecord):
    """A partition's whole registration: replicas, ISR, leader and epochs (version 2 carries ELR, KIP-966)."""

    partition_id: int
    topic_id: str
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader: int
    leader_epoch: int = 0
    partition_epoch: int = 0
    removing_replicas: tuple[int, ...] = ()
    adding_replicas: tuple[int, ...] = ()
    directories: tuple[str, ...] = ()
    leader_recovery_state: int = 0
    eligible_leader_replicas: tuple[int, ...] | None = None
    last_known_elr: tuple[int, ...] | None = None
    API_KEY: ClassVar[int] = 3
    VERSION: ClassVar[int] = 2
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("partition_id", "int32"), Field("topic_id", "uuid"), Field("replicas", "[]int32"),
        Field("isr", "[]int32"), Field("removing_replicas", "[]int32"), Field("adding_replicas", "[]int32"),
        Field("leader", "int32"), Field("leader_recovery_state", "int8", tag=0, default=0),
        Field("leader_epoch", "int32"), Field("partition_epoch", "int32"), Field("directories", "[]uuid"),
        Field("eligible_leader_replicas", "[]int32", tag=1), Field("last_known_elr", "[]int32", tag=2))


@dataclass(frozen=True)
class ConfigRecord(MetadataRecord):
    """A config of a topic or broker was set (``value`` None: deleted)."""

    resource_type: int
    resource_name: str
    name: str
    value: str | None
    API_KEY: ClassVar[int] = 4
    VERSION: ClassVar[int] = 0
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("resource_type", "int8"), Field("resource_name", "string"),
                                           Field("name", "string"), Field("value", "string"))


@dataclass(frozen=True)
class PartitionChangeRecord(MetadataRecord):
    """What changed in a partition: only the fields set (tagged) changed; ``leader`` -2 means unchanged.

    Every change bumps the partition epoch; a change of leader also bumps the leader epoch.
    """

    partition_id: int
    topic_id: str
    isr: tuple[int, ...] | None = None
    leader: int = NO_LEADER_CHANGE
    replicas: tuple[int, ...] | None = None
    removing_replicas: tuple[int, ...] | None = None
    adding_replicas: tuple[int, ...] | None = None
    leader_recovery_state: int = -1
    eligible_leader_replicas: tuple[int, ...] | None = None
    last_known_elr: tuple[int, ...] | None = None
    directories: tuple[str, ...] | None = None
    API_KEY: ClassVar[int] = 5
    VERSION: ClassVar[int] = 2
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("partition_id", "int32"), Field("topic_id", "uuid"), Field("isr", "[]int32", tag=0),
        Field("leader", "int32", tag=1, default=NO_LEADER_CHANGE), Field("replicas", "[]int32", tag=2),
        Field("removing_replicas", "[]int32", tag=3), Field("adding_replicas", "[]int32", tag=4),
        Field("leader_recovery_state", "int8", tag=5, default=-1), Field("directories", "[]uuid", tag=8),
        Field("eligible_leader_replicas", "[]int32", tag=6), Field("last_known_elr", "[]int32", tag=7))


@dataclass(frozen=True)
class FenceBrokerRecord(MetadataRecord):
    """A broker was fenced (before metadata.version 3.3; Kafka 4.1 writes BrokerRegistrationChangeRecord)."""

    id: int
    epoch: int
    API_KEY: ClassVar[int] = 7
    VERSION: ClassVar[int] = 0
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("id", "int32"), Field("epoch", "int64"))


@dataclass(frozen=True)
class UnfenceBrokerRecord(MetadataRecord):
    """A broker was unfenced (before metadata.version 3.3; Kafka 4.1 writes BrokerRegistrationChangeRecord)."""

    id: int
    epoch: int
    API_KEY: ClassVar[int] = 8
    VERSION: ClassVar[int] = 0
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("id", "int32"), Field("epoch", "int64"))


@dataclass(frozen=True)
class RemoveTopicRecord(MetadataRecord):
    """A topic and all its partitions were deleted."""

    topic_id: str
    API_KEY: ClassVar[int] = 9
    VERSION: ClassVar[int] = 0
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("topic_id", "uuid"),)


@dataclass(frozen=True)
class FeatureLevelRecord(MetadataRecord):
    """A finalized feature level (``metadata.version``, ``eligible.leader.replicas.version`` ...)."""

    name: str
    feature_level: int
    API_KEY: ClassVar[int] = 12
    VERSION: ClassVar[int] = 0
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("name", "string"), Field("feature_level", "int16"))


@dataclass(frozen=True)
class ProducerIdsRecord(MetadataRecord):
    """A block of producer ids was handed to a broker; the next block starts at ``next_producer_id``."""

    broker_id: int
    broker_epoch: int
    next_producer_id: int
    API_KEY: ClassVar[int] = 15
    VERSION: ClassVar[int] = 0
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("broker_id", "int32"), Field("broker_epoch", "int64"),
                                           Field("next_producer_id", "int64"))


@dataclass(frozen=True)
class BrokerRegistrationChangeRecord(MetadataRecord):
    """A registered broker was fenced (``fenced`` 1), unfenced (-1) or began a controlled shutdown."""

    broker_id: int
    broker_epoch: int
    fenced: int = 0
    in_controlled_shutdown: int = 0
    log_dirs: tuple[str, ...] = ()
    API_KEY: ClassVar[int] = 17
    VERSION: ClassVar[int] = 2
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("broker_id", "int32"), Field("broker_epoch", "int64"), Field("fenced", "int8", tag=0, default=0),
        Field("in_controlled_shutdown", "int8", tag=1, default=0), Field("log_dirs", "[]uuid", tag=2, default=()))


#: ``BrokerRegistrationFencingChange``.
FENCE = 1
UNFENCE = -1

RECORD_TYPES: dict[int, type[MetadataRecord]] = {cls.API_KEY: cls for cls in (
    RegisterBrokerRecord, UnregisterBrokerRecord, TopicRecord, PartitionRecord, ConfigRecord, PartitionChangeRecord,
    FenceBrokerRecord, UnfenceBrokerRecord, RemoveTopicRecord, FeatureLevelRecord, ProducerIdsRecord,
    BrokerRegistrationChangeRecord)}


def encode_record(record: MetadataRecord) -> bytes:
    """``record`` as an ApiMessageAndVersion frame: the value of one record in ``__cluster_metadata``."""
    out = bytearray()
    write_uvarint(out, FRAME_VERSION)
    write_uvarint(out, record.API_KEY)
    write_uvarint(out, record.VERSION)
    out += encode_message(record, record.FIELDS)
    return bytes(out)


def decode_record(value: bytes) -> MetadataRecord:
    """The record in one ApiMessageAndVersion frame; CORRUPT_MESSAGE for an unknown type or bad bytes."""
    reader = MessageReader(value)
    frame_version = reader.uvarint()
    if frame_version != FRAME_VERSION:
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"Metadata record frame version {frame_version} is not 1.")
    api_key, version = reader.uvarint(), reader.uvarint()
    record_type = RECORD_TYPES.get(api_key)
    if record_type is None:
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"Unknown metadata record type {api_key}.")
    if version > record_type.VERSION:
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"{record_type.__name__} version {version} is newer than "
                                                 f"{record_type.VERSION}, the newest kafkalab reads.")
    record: MetadataRecord = read_message(reader, record_type)
    if reader.pos != len(value):
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"{record_type.__name__} has {len(value) - reader.pos} bytes too many.")
    return record


def decode_records(values: tuple[bytes, ...]) -> Iterator[MetadataRecord]:
    """Each frame of a committed batch, decoded."""
    return (decode_record(value) for value in values)
