"""The records of ``__consumer_offsets``: Kafka's key and value schemas for commits and group metadata.

Each record's key starts with an int16 version that says what it is: 0 or 1 an
``OffsetCommitKey`` (group, topic, partition), 2 a ``GroupMetadataKey`` (group). Values
are ``OffsetCommitValue`` v3 and ``GroupMetadataValue`` v3, the non-flexible versions
Kafka 3.x writes; a null value is a tombstone that compaction eventually removes.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.errors import Errors, KafkaError
from kafkalab.groups.group import CommittedOffset
from kafkalab.protocol.schema_io import Reader, Writer
from kafkalab.protocol.types import TopicPartition

OFFSET_COMMIT_KEY_VERSION = 1
GROUP_METADATA_KEY_VERSION = 2
OFFSET_COMMIT_VALUE_VERSION = 3
GROUP_METADATA_VALUE_VERSION = 3


@dataclass(frozen=True)
class OffsetKey:
    group_id: str
    tp: TopicPartition


@dataclass(frozen=True)
class GroupKey:
    group_id: str


@dataclass(frozen=True)
class StoredMember:
    """``GroupMetadataValue.MemberMetadata``: a member as the coordinator persists it."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    subscription: bytes
    assignment: bytes


@dataclass(frozen=True)
class StoredGroup:
    """``GroupMetadataValue``: a group's generation, protocol, leader and members."""

    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    current_state_timestamp_ms: int
    members: tuple[StoredMember, ...]


def offset_commit_key(group_id: str, tp: TopicPartition) -> bytes:
    return Writer().int16(OFFSET_COMMIT_KEY_VERSION).string(group_id).string(tp.topic).int32(tp.partition).getvalue()


def group_metadata_key(group_id: str) -> bytes:
    return Writer().int16(GROUP_METADATA_KEY_VERSION).string(group_id).getvalue()


def offset_commit_value(offset: CommittedOffset) -> bytes:
    return (Writer().int16(OFFSET_COMMIT_VALUE_VERSION).int64(offset.offset).int32(offset.leader_epoch)
            .string(offset.metadata).int64(offset.commit_timestamp_ms).getvalue())


def _write_member(writer: Writer, member: StoredMember) -> None:
    (writer.string(member.member_id).string(member.group_instance_id).string(member.client_id)
     .string(member.client_host).int32(member.rebalance_timeout_ms).int32(member.session_timeout_ms)
     .bytes_(member.subscription).bytes_(member.assignment))


def group_metadata_value(group: StoredGroup) -> bytes:
    writer = (Writer().int16(GROUP_METADATA_VALUE_VERSION).string(group.protocol_type).int32(group.generation)
              .string(group.protocol).string(group.leader).int64(group.current_state_timestamp_ms))
    writer.array(list(group.members), _write_member)
    return writer.getvalue()


def decode_key(data: bytes) -> OffsetKey | GroupKey:
    """Which record this is; CORRUPT_MESSAGE for a key version Kafka never wrote here."""
    reader = Reader(data, "__consumer_offsets key")
    version = reader.int16()
    group_id = reader.string() or ""
    if version in (0, 1):
        topic = reader.string() or ""
        return OffsetKey(group_id, TopicPartition(topic, reader.int32()))
    if version == GROUP_METADATA_KEY_VERSION:
        return GroupKey(group_id)
    raise KafkaError(Errors.CORRUPT_MESSAGE, f"Unknown __consumer_offsets key version {version}.")


def decode_offset_value(data: bytes) -> CommittedOffset:
    """An ``OffsetCommitValue`` of any version 0-3."""
    reader = Reader(data, "OffsetCommitValue")
    version = reader.int16()
    offset = reader.int64()
    leader_epoch = reader.int32() if version >= 3 else -1
    metadata = reader.string() or ""
    return CommittedOffset(offset, leader_epoch, metadata, reader.int64())


def _read_member(reader: Reader, version: int) -> StoredMember:
    member_id = reader.string() or ""
    instance_id = reader.string() if version >= 3 else None
    client_id = reader.string() or ""
    client_host = reader.string() or ""
    rebalance_timeout = reader.int32() if version >= 1 else -1
    session_timeout = reader.int32()
    subscription = reader.bytes_() or b""
    assignment = reader.bytes_() or b""
    return StoredMember(member_id, instance_id, client_id, client_host, rebalance_timeout, session_timeout,
                        subscription, assignment)


def decode_group_value(data: bytes) -> StoredGroup:
    """A ``GroupMetadataValue`` of any version 0-3."""
    reader = Reader(data, "GroupMetadataValue")
    version = reader.int16()
    protocol_type = reader.string() or ""
    generation = reader.int32()
    protocol = reader.string()
    leader = reader.string()
    timestamp = reader.int64() if version >= 2 else -1
    members = tuple(reader.array(lambda r: _read_member(r, version)))
    return StoredGroup(protocol_type, generation, protocol, leader, timestamp, members)
