"""Produce and Fetch responses written without kio: the answers every record waits for.

kio reads natively but writes in Python, field by field through its generated classes: a
one-partition Produce response cost 8 us to build kio's entities from the adapter's tree
and 24 us to write them, a Fetch response 15 + 27 us (``benchmarks/README.md``), on every
request a producer or consumer sends. These write the same bytes with ``struct`` straight
from the trees the adapters build (``kafkalab/wire/adapters/records.py``). Layouts are Kafka
3.9's ``ProduceResponse.json`` (v3-v11 served) and ``FetchResponse.json`` (v4-v17) in
``clients/src/main/resources/common/message/``. A tree with a field the adapter does not
set (record errors, a current leader, a diverging epoch, throttling, node endpoints ...) is
left to kio, as every other response is; the tests compare both writers byte for byte at
every version.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from kio.schema.errors import ErrorCode

from kafkalab.errors import Errors
from kafkalab.wire.build import TOPIC_IDS_KEPT, uuid_of

#: ProduceResponse.json's ``flexibleVersions``: compact lengths and tagged fields (KIP-482).
PRODUCE_FLEXIBLE_VERSION = 9
#: ``LogStartOffset`` came with v5 (KIP-107's DeleteRecords), in Produce and Fetch responses.
LOG_START_OFFSET_VERSION = 5
#: ``RecordErrors`` and ``ErrorMessage`` came with v8 (KIP-467).
RECORD_ERRORS_VERSION = 8
#: FetchResponse.json's ``flexibleVersions``.
FETCH_FLEXIBLE_VERSION = 12
#: The top-level ``ErrorCode`` and ``SessionId`` came with v7 (KIP-227's fetch sessions).
FETCH_SESSION_VERSION = 7
#: ``PreferredReadReplica`` came with v11 (KIP-392).
PREFERRED_READ_REPLICA_VERSION = 11
#: Topics are named by ``TopicId`` instead of ``Topic`` from v13 (KIP-516).
FETCH_TOPIC_ID_VERSION = 13

_TOPIC_FIELDS = frozenset({"name", "partition_responses"})
_PARTITION_FIELDS = frozenset({"index", "error_code", "base_offset", "log_start_offset", "error_message"})
_FETCH_FIELDS = frozenset({"error_code", "session_id", "responses"})
_FETCH_TOPIC_FIELDS = frozenset({"topic", "topic_id", "partitions"})
_FETCH_PARTITION_FIELDS = frozenset({"partition_index", "error_code", "high_watermark", "last_stable_offset",
                                     "log_start_offset", "aborted_transactions", "records"})
_ABORTED_FIELDS = frozenset({"producer_id", "first_offset"})
#: What kio can write as an error code; any other becomes UNKNOWN_SERVER_ERROR, as ``build.materialize`` does.
_KIO_ERROR_CODES = frozenset(int(code) for code in ErrorCode)
_UNKNOWN_SERVER_ERROR = int(ErrorCode.unknown_server_error)
#: Index, error code, base offset and ``LogAppendTimeMs`` (-1: the adapter reports CreateTime).
_PARTITION_HEAD = struct.Struct(">ihqq")
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")
_NO_APPEND_TIME = -1
#: Partition index, error code, high watermark, last stable offset.
_FETCH_PARTITION_HEAD = struct.Struct(">ihqq")
_ABORTED = struct.Struct(">qq")
#: Lengths below this (plus one) are written as a single varint byte.
_ONE_BYTE_VARINT = 0x7F


def encode_produce_response(version: int, tree: Mapping[str, Any]) -> bytes | None:
    """The body of a Produce response at ``version``, or None when ``tree`` has a field only kio writes."""
    if tree.keys() != {"responses"}:
        return None
    flexible = version >= PRODUCE_FLEXIBLE_VERSION
    out = bytearray()
    topics = tree["responses"] or ()
    _length(out, len(topics), flexible)
    for topic in topics:
        if not isinstance(topic, dict) or not topic.keys() <= _TOPIC_FIELDS:
            return None
        name = topic.get("name")
        _string(out, "" if name is None else str(name), flexible)
        partitions = topic.get("partition_responses") or ()
        _length(out, len(partitions), flexible)
        for partition in partitions:
            if not isinstance(partition, dict) or not partition.keys() <= _PARTITION_FIELDS:
                return None
            out += _PARTITION_HEAD.pack(int(partition.get("index", 0)), _error_code(partition.get("error_code", 0)),
                                        int(partition.get("base_offset", 0)), _NO_APPEND_TIME)
            if version >= LOG_START_OFFSET_VERSION:
                out += _INT64.pack(int(partition.get("log_start_offset", -1)))
            if version >= RECORD_ERRORS_VERSION:
                _length(out, 0, flexible)  # no record errors
                message = partition.get("error_message")
                _string(out, None if message is None else str(message), flexible)
            if flexible:
                out.append(0)  # no tagged fields: CurrentLeader is left at its default
        if flexible:
            out.append(0)
    out += _INT32.pack(0)  # ThrottleTimeMs: no quotas
    if flexible:
        out.append(0)  # no tagged fields: no NodeEndpoints
    return bytes(out)


def encode_fetch_response(version: int, tree: Mapping[str, Any]) -> bytes | None:
    """The body of a Fetch response at ``version``, or None when ``tree`` has a field only kio writes."""
    if not tree.keys() <= _FETCH_FIELDS:
        return None
    flexible = version >= FETCH_FLEXIBLE_VERSION
    out = bytearray(_INT32.pack(0))  # ThrottleTimeMs: no quotas
    if version >= FETCH_SESSION_VERSION:
        out += _INT16.pack(_error_code(tree.get("error_code", 0)))
        out += _INT32.pack(int(tree.get("session_id", 0)))
    topics = tree.get("responses") or ()
    _length(out, len(topics), flexible)
    for topic in topics:
        if not isinstance(topic, dict) or not topic.keys() <= _FETCH_TOPIC_FIELDS:
            return None
        if version >= FETCH_TOPIC_ID_VERSION:
            out += _topic_id_bytes(str(topic.get("topic_id") or ""))
        else:
            name = topic.get("topic")
            _string(out, "" if name is None else str(name), flexible)
        partitions = topic.get("partitions") or ()
        _length(out, len(partitions), flexible)
        for partition in partitions:
            if not isinstance(partition, dict) or not partition.keys() <= _FETCH_PARTITION_FIELDS \
                    or not _fetch_partition(out, version, flexible, partition):
                return None
        if flexible:
            out.append(0)
    if flexible:
        out.append(0)  # no tagged fields: no NodeEndpoints
    return bytes(out)


def _fetch_partition(out: bytearray, version: int, flexible: bool, partition: Mapping[str, Any]) -> bool:
    """Write one partition's data; False when an aborted transaction has a field only kio writes."""
    out += _FETCH_PARTITION_HEAD.pack(int(partition.get("partition_index", 0)),
                                      _error_code(partition.get("error_code", 0)),
                                      int(partition.get("high_watermark", 0)),
                                      int(partition.get("last_stable_offset", -1)))
    if version >= LOG_START_OFFSET_VERSION:
        out += _INT64.pack(int(partition.get("log_start_offset", -1)))
    aborted = partition.get("aborted_transactions")
    _length(out, -1 if aborted is None else len(aborted), flexible)
    if aborted is not None:
        for txn in aborted:
            if not isinstance(txn, dict) or not txn.keys() <= _ABORTED_FIELDS:
                return False
            out += _ABORTED.pack(int(txn.get("producer_id", 0)), int(txn.get("first_offset", 0)))
            if flexible:
                out.append(0)
    if version >= PREFERRED_READ_REPLICA_VERSION:
        out += _INT32.pack(-1)  # no preferred read replica (KIP-392's rack-aware fetching is not modelled)
    records = partition.get("records")
    _length(out, -1 if records is None else len(records), flexible)
    if records is not None:
        out += records
    if flexible:
        out.append(0)  # no tagged fields: DivergingEpoch, CurrentLeader and SnapshotId at their defaults
    return True


def _writable(code: int) -> int:
    return code if code in _KIO_ERROR_CODES else _UNKNOWN_SERVER_ERROR


#: Each of kafkalab's errors as written, looked up once: ``Errors.code`` is a property over the enum's ``value``
#: property, two Python calls for every partition of every answer.
_WRITTEN_CODES: dict[Any, int] = {error: _writable(error.code) for error in Errors}
_NO_ERROR = Errors.NONE


def _error_code(value: Any) -> int:
    if value is _NO_ERROR:  # nearly every answer: no dict look-up, whose hash of an Enum member is a Python call
        return 0
    code = _WRITTEN_CODES.get(value)
    return code if code is not None else _writable(int(value))


@lru_cache(maxsize=TOPIC_IDS_KEPT)
def _topic_id_bytes(topic_id: str) -> bytes:
    """A topic id's 16 bytes as written, kept: every Fetch answer (v13+) names its topics by id, and ``UUID.bytes``
    is a property converting the UUID's int on each read."""
    return uuid_of(topic_id).bytes


def _length(out: bytearray, length: int, flexible: bool) -> None:
    """An array's or bytes' length (-1: null): a compact unsigned varint of length + 1, or an int32 before flexible
    versions."""
    if not flexible:
        out += _INT32.pack(length)
    elif length < _ONE_BYTE_VARINT:  # a varint under 0x80 is that one byte: nearly every array, without a call
        out.append(length + 1)
    else:
        _unsigned_varint(out, length + 1)


def _string(out: bytearray, value: str | None, flexible: bool) -> None:
    """A (nullable) string: compact (length + 1, 0 for null) or int16 length (-1 for null), then UTF-8."""
    if value is None:
        if flexible:
            out.append(0)
        else:
            out += _INT16.pack(-1)
        return
    data = value.encode()
    if flexible:
        _unsigned_varint(out, len(data) + 1)
    else:
        out += _INT16.pack(len(data))
    out += data


def _unsigned_varint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
