"""Control records: the typed records of control batches (Kafka's ``ControlRecordType`` and ``ControlRecordUtils``).

A control batch has bit 5 of its attributes set. Each of its records has a 4-byte key,
``version`` (int16, 0) then ``type`` (int16), and a value that is a Kafka message in its
flexible encoding (compact arrays and a trailing tagged-field count). KRaft writes
LeaderChangeMessage at the start of every leader epoch of ``__cluster_metadata`` and
brackets every snapshot with SnapshotHeaderRecord and SnapshotFooterRecord (KIP-595,
KIP-630); the message schemas are Kafka's ``LeaderChangeMessage.json``,
``SnapshotHeaderRecord.json`` and ``SnapshotFooterRecord.json`` at version 0.

A transaction coordinator ends a transaction in each of its partitions with a COMMIT or
ABORT marker (KIP-98): a control batch of the producer's id and epoch, marked
transactional, whose one record's value is Kafka's ``EndTransactionMarker``: version
(int16, 0) and the coordinator epoch (int32), in the classic non-flexible encoding.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.records import NO_PARTITION_LEADER_EPOCH, Record, encode_batch

_KEY = struct.Struct(">hh")
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
#: Version of the control record key, and of every message written here.
CURRENT_VERSION = 0


class ControlRecordType(IntEnum):
    """What a control record is (Kafka's ``ControlRecordType``)."""

    ABORT = 0
    COMMIT = 1
    LEADER_CHANGE = 2
    SNAPSHOT_HEADER = 3
    SNAPSHOT_FOOTER = 4
    KRAFT_VERSION = 5
    KRAFT_VOTERS = 6


@dataclass(frozen=True)
class LeaderChangeMessage:
    """A new leader's first record: who leads, the voters, and who voted for it (KIP-595)."""

    leader_id: int
    voters: tuple[int, ...]
    granting_voters: tuple[int, ...]


@dataclass(frozen=True)
class SnapshotHeader:
    """A snapshot's first record: the append time of the last log record it contains (KIP-630)."""

    last_contained_log_timestamp: int


@dataclass(frozen=True)
class SnapshotFooter:
    """A snapshot's last record: present only when the snapshot was written whole."""


@dataclass(frozen=True)
class EndTransactionMarker:
    """A COMMIT or ABORT marker's value: the epoch of the coordinator that wrote it (``EndTransactionMarker``)."""

    coordinator_epoch: int


ControlMessage = LeaderChangeMessage | SnapshotHeader | SnapshotFooter
_END_TXN_VALUE = struct.Struct(">hi")


def _corrupt(message: str) -> KafkaError:
    return KafkaError(Errors.CORRUPT_MESSAGE, message)


def _uvarint(value: int) -> bytes:
    """Kafka's unsigned varint (``ByteUtils.writeUnsignedVarint``), used for compact lengths."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_uvarint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 28:
            raise _corrupt("Control record value has a truncated or overlong unsigned varint.")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


_NO_TAGGED_FIELDS = _uvarint(0)


def _voters(ids: Sequence[int]) -> bytes:
    """A compact array of ``Voter`` structs: length + 1, then each voter id and its (empty) tagged fields."""
    return _uvarint(len(ids) + 1) + b"".join(_I32.pack(voter) + _NO_TAGGED_FIELDS for voter in ids)


def encode_control_value(message: ControlMessage) -> bytes:
    """The value bytes of ``message`` in Kafka's flexible version-0 encoding."""
    if isinstance(message, LeaderChangeMessage):
        body = (_I16.pack(CURRENT_VERSION) + _I32.pack(message.leader_id) + _voters(message.voters)
                + _voters(message.granting_voters))
    elif isinstance(message, SnapshotHeader):
        body = _I16.pack(CURRENT_VERSION) + _I64.pack(message.last_contained_log_timestamp)
    else:
        body = _I16.pack(CURRENT_VERSION)
    return body + _NO_TAGGED_FIELDS


def control_type(message: ControlMessage) -> ControlRecordType:
    """The control record type that carries ``message``."""
    if isinstance(message, LeaderChangeMessage):
        return ControlRecordType.LEADER_CHANGE
    if isinstance(message, SnapshotHeader):
        return ControlRecordType.SNAPSHOT_HEADER
    return ControlRecordType.SNAPSHOT_FOOTER


def control_type_name(record_type: ControlRecordType) -> str:
    """The type as Kafka's metadata decoder prints it: ``LeaderChange``, ``SnapshotHeader`` ..."""
    return "".join(part.capitalize() for part in record_type.name.split("_"))


def control_message_json(message: ControlMessage | None) -> str:
    """A control message's fields as Kafka's metadata decoder prints them: ``{"leaderId":101,"voters":[...]}``."""
    fields = vars(message).items() if message is not None else ()
    body = {_camel(key): list(value) if isinstance(value, tuple) else value for key, value in fields}
    return json.dumps(body, separators=(",", ":"))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def encode_control_key(record_type: ControlRecordType) -> bytes:
    """The 4-byte key of a control record: key version 0 and the type."""
    return _KEY.pack(CURRENT_VERSION, int(record_type))


def encode_control_batch(message: ControlMessage, *, base_offset: int, timestamp: int,
                         partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH) -> bytes:
    """One control batch holding ``message`` (Kafka's ``MemoryRecords.withLeaderChangeMessage`` and kin)."""
    record = (encode_control_key(control_type(message)), encode_control_value(message), (), timestamp)
    return encode_batch([record], base_offset=base_offset, partition_leader_epoch=partition_leader_epoch,
                        is_control=True)


def encode_end_txn_marker(*, producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int,
                          timestamp: int, base_offset: int = 0) -> bytes:
    """A transaction marker batch (Kafka's ``MemoryRecords.withEndTransactionMarker``)."""
    record_type = ControlRecordType.COMMIT if commit else ControlRecordType.ABORT
    record = (encode_control_key(record_type), _END_TXN_VALUE.pack(CURRENT_VERSION, coordinator_epoch), (), timestamp)
    return encode_batch([record], base_offset=base_offset, producer_id=producer_id, producer_epoch=producer_epoch,
                        is_transactional=True, is_control=True)


def _read_voters(value: bytes, pos: int) -> tuple[tuple[int, ...], int]:
    length, pos = _read_uvarint(value, pos)
    if length == 0:
        raise _corrupt("LeaderChangeMessage has a null voter array.")
    voters = []
    for _ in range(length - 1):
        if pos + 4 > len(value):
            raise _corrupt("LeaderChangeMessage ends inside its voter array.")
        voters.append(_I32.unpack_from(value, pos)[0])
        pos = _skip_tagged_fields(value, pos + 4)
    return tuple(voters), pos


def _skip_tagged_fields(value: bytes, pos: int) -> int:
    count, pos = _read_uvarint(value, pos)
    for _ in range(count):
        _, pos = _read_uvarint(value, pos)
        size, pos = _read_uvarint(value, pos)
        pos += size
    if pos > len(value):
        raise _corrupt("Control record value ends inside a tagged field.")
    return pos


def decode_end_txn_marker(record: Record) -> tuple[bool, EndTransactionMarker] | None:
    """``(commit, marker)`` of a COMMIT or ABORT control record, None for another control type.

    Raises CORRUPT_MESSAGE when the key or the value does not parse.
    """
    if record.key is None or len(record.key) < _KEY.size:
        raise _corrupt(f"Control record at offset {record.offset} has a key of fewer than {_KEY.size} bytes.")
    type_id = _KEY.unpack_from(record.key)[1]
    if type_id not in (ControlRecordType.ABORT, ControlRecordType.COMMIT):
        return None
    try:
        return type_id == ControlRecordType.COMMIT, EndTransactionMarker(_END_TXN_VALUE.unpack_from(record.value or b"")[1])
    except struct.error:
        raise _corrupt(f"Transaction marker at offset {record.offset} is truncated.") from None


def decode_control_record(record: Record) -> tuple[ControlRecordType, ControlMessage | None]:
    """The type of a control record and, for the KRaft types kafkalab writes, its message.

    Raises CORRUPT_MESSAGE when the key or a known value does not parse; ABORT, COMMIT (see
    ``decode_end_txn_marker``) and the KIP-853 voter records are returned with no message.
    """
    if record.key is None or len(record.key) < _KEY.size:
        raise _corrupt(f"Control record at offset {record.offset} has a key of fewer than {_KEY.size} bytes.")
    _, type_id = _KEY.unpack_from(record.key)
    try:
        record_type = ControlRecordType(type_id)
    except ValueError:
        raise _corrupt(f"Control record at offset {record.offset} has unknown type {type_id}.") from None
    value = record.value or b""
    try:
        if record_type is ControlRecordType.LEADER_CHANGE:
            leader_id = _I32.unpack_from(value, 2)[0]
            voters, pos = _read_voters(value, 6)
            granting, pos = _read_voters(value, pos)
            _skip_tagged_fields(value, pos)
            return record_type, LeaderChangeMessage(leader_id, voters, granting)
        if record_type is ControlRecordType.SNAPSHOT_HEADER:
            timestamp = _I64.unpack_from(value, 2)[0]
            _skip_tagged_fields(value, 10)
            return record_type, SnapshotHeader(timestamp)
        if record_type is ControlRecordType.SNAPSHOT_FOOTER:
            _I16.unpack_from(value, 0)
            _skip_tagged_fields(value, 2)
            return record_type, SnapshotFooter()
    except struct.error:
        raise _corrupt(f"{record_type.name} control record at offset {record.offset} is truncated.") from None
    return record_type, None
