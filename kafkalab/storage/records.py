"""Kafka's record batch format v2 (magic 2): encode, decode and patch batches in place.

The layout is Kafka's ``DefaultRecordBatch`` / ``DefaultRecord`` byte for byte, so a
segment written here can be read by ``kafka-dump-log.sh`` and vice versa. The broker's
hot path never decodes records: it walks batch headers, checks the CRC and rewrites the
base offset and partition leader epoch, which sit outside the CRC for exactly that
reason (see the ``DefaultRecordBatch`` javadoc).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.compression import CompressionType, compress, decompress
from kafkalab.storage.crc import crc32c
from kafkalab.storage.varint import encode_varint, read_varint, varint_table

MAGIC = 2
#: Bytes before a batch's length field ends: baseOffset (8) + batchLength (4) (Kafka's ``LOG_OVERHEAD``).
LOG_OVERHEAD = 12
#: Size of a v2 batch header, i.e. of a batch without records (``RECORD_BATCH_OVERHEAD``).
BATCH_OVERHEAD = 61
NO_TIMESTAMP = -1
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
NO_PARTITION_LEADER_EPOCH = -1

_HEADER = struct.Struct(">qiibIhiqqqhii")
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_U32 = struct.Struct(">I")
_PARTITION_LEADER_EPOCH_OFFSET = 12
_CRC_OFFSET = 17
#: The CRC covers everything from the attributes to the end of the batch.
_ATTRIBUTES_OFFSET = 21
_MAX_TIMESTAMP_OFFSET = 35
#: Batches up to this size are checksummed from a copy (``compute_crc``): callgrind puts a copy of 4 KB at par with
#: a memoryview, a copy of 16 KB at three times its cost.
_CRC_COPY_LIMIT = 4096

_COMPRESSION_MASK = 0x07
_TIMESTAMP_TYPE_MASK = 0x08
_TRANSACTIONAL_MASK = 0x10
_CONTROL_MASK = 0x20
_DELETE_HORIZON_MASK = 0x40

_NULL = encode_varint(-1)
_NO_HEADERS = encode_varint(0)
_RECORD_ATTRIBUTES = b"\x00"


def _corrupt(message: str) -> KafkaError:
    return KafkaError(Errors.CORRUPT_MESSAGE, message)


class TimestampType(IntEnum):
    """Bit 3 of a batch's attributes: who chose the records' timestamps."""

    CREATE_TIME = 0
    LOG_APPEND_TIME = 1

    @property
    def kafka_name(self) -> str:
        """Kafka's spelling, as in ``message.timestamp.type`` and dump output."""
        return "CreateTime" if self is TimestampType.CREATE_TIME else "LogAppendTime"

    @classmethod
    def from_config(cls, name: str) -> TimestampType:
        """The type named by a ``message.timestamp.type`` value."""
        return cls.LOG_APPEND_TIME if name == "LogAppendTime" else cls.CREATE_TIME


@dataclass(frozen=True, slots=True)
class Header:
    """A record header: a UTF-8 key and an optional byte value."""

    key: str
    value: bytes | None


@dataclass(frozen=True, slots=True)
class Record:
    """One decoded record with its absolute offset and timestamp."""

    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()


#: What a producer hands the encoder per record: ``(key, value, headers, timestamp)``.
RecordInput = tuple[bytes | None, bytes | None, Sequence[Header], int]


class BatchHeader(NamedTuple):
    """The 61-byte header of a v2 record batch, field for field.

    A named tuple rather than a dataclass: the broker reads one per batch on every
    append, fetch and recovery, and a tuple is built several times faster.
    """

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    @property
    def last_offset(self) -> int:
        """Offset of the batch's last record (kept even when compaction removed it)."""
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        """The offset right after this batch."""
        return self.base_offset + self.last_offset_delta + 1

    @property
    def size_in_bytes(self) -> int:
        """Size of the whole batch on disk: ``batchLength`` counts the bytes after itself."""
        return self.batch_length + LOG_OVERHEAD

    @property
    def compression(self) -> CompressionType:
        """The codec of the records section."""
        return CompressionType.from_id(self.attributes & _COMPRESSION_MASK)

    @property
    def timestamp_type(self) -> TimestampType:
        """CreateTime or LogAppendTime."""
        return TimestampType.LOG_APPEND_TIME if self.attributes & _TIMESTAMP_TYPE_MASK else TimestampType.CREATE_TIME

    @property
    def is_transactional(self) -> bool:
        """True for batches written inside a transaction."""
        return bool(self.attributes & _TRANSACTIONAL_MASK)

    @property
    def is_control(self) -> bool:
        """True for control batches (transaction markers)."""
        return bool(self.attributes & _CONTROL_MASK)

    @property
    def delete_horizon_ms(self) -> int | None:
        """When the cleaner may drop this batch's tombstones (KIP-534), if it has set one."""
        return self.base_timestamp if self.attributes & _DELETE_HORIZON_MASK else None

    @property
    def last_sequence(self) -> int:
        """Producer sequence of the last record, wrapping like Kafka's ``incrementSequence``."""
        if self.base_sequence == NO_SEQUENCE:
            return NO_SEQUENCE
        return (self.base_sequence + self.last_offset_delta) % (2**31)


#: ``BatchHeader._make`` without its Python frame (the struct's 13 fields are the header's 13): every
#: append, fetch and recovery reads one per batch.
_header_from_fields = functools.partial(tuple.__new__, BatchHeader)


def read_batch_header(buf: bytes | bytearray | memoryview, pos: int = 0, whole: bool = False, *,
                      file_position: int | None = None) -> BatchHeader:
    """Parse the batch header at ``buf[pos]`` without reading its records.

    Raises CORRUPT_MESSAGE when fewer than 61 bytes remain, the size is below the header
    size, or the magic is not 2, and with ``whole`` when the buffer ends inside the batch;
    messages name ``file_position`` (default ``pos``).
    """
    where = pos if file_position is None else file_position
    remaining = len(buf) - pos
    if remaining < BATCH_OVERHEAD:
        raise _corrupt(f"Record batch at position {where} is truncated: only {remaining} of its "
                       f"{BATCH_OVERHEAD} header bytes are present.")
    header = _header_from_fields(_HEADER.unpack_from(buf, pos))
    if header.batch_length + LOG_OVERHEAD < BATCH_OVERHEAD:
        raise _corrupt(f"Record batch at position {where} has size {header.batch_length + LOG_OVERHEAD}, "
                       f"smaller than the minimum batch size of {BATCH_OVERHEAD} bytes.")
    if header.magic != MAGIC:
        raise _corrupt(f"Record batch at position {where} has magic {header.magic}; "
                       f"kafkalab reads only record batch format v2 (magic 2).")
    if whole and header.batch_length + LOG_OVERHEAD > remaining:
        raise _corrupt(f"Record batch at position {where} is truncated: it is {header.batch_length + LOG_OVERHEAD} "
                       f"bytes but only {remaining} remain.")
    return header


def iter_batch_headers(buf: bytes | bytearray | memoryview, pos: int = 0) -> Iterator[tuple[int, BatchHeader]]:
    """Yield ``(position, header)`` for every batch in ``buf[pos:]`` without decoding records.

    Raises CORRUPT_MESSAGE if a batch is malformed or the buffer ends inside one.
    """
    end = len(buf)
    while pos < end:
        header = read_batch_header(buf, pos, True)
        yield pos, header
        pos += header.batch_length + LOG_OVERHEAD


def compute_crc(buf: bytes | bytearray | memoryview, pos: int, size: int) -> int:
    """CRC32C of the batch at ``buf[pos:pos+size]``, over its attributes to its end.

    A batch up to ``_CRC_COPY_LIMIT`` bytes is checksummed from a copy of those bytes, which costs less
    than a memoryview (the one or two records of most produce requests); a larger one through a view,
    released as soon as the checksum is taken (no reference outlives the call), so a bytearray stays resizable.
    """
    start, end = pos + _ATTRIBUTES_OFFSET, pos + size
    return crc32c(buf[start:end] if size <= _CRC_COPY_LIMIT else memoryview(buf)[start:end])


def crc_matches(buf: bytes | bytearray | memoryview, pos: int, header: BatchHeader) -> bool:
    """True when the stored CRC of the batch at ``buf[pos]`` matches its bytes."""
    return compute_crc(buf, pos, header.batch_length + LOG_OVERHEAD) == header.crc


def crc_problem(buf: bytes | bytearray | memoryview, pos: int, header: BatchHeader) -> str | None:
    """Kafka's ``DefaultRecordBatch.ensureValid`` sentence when the batch at ``buf[pos]`` fails its CRC, else None."""
    computed = compute_crc(buf, pos, header.batch_length + LOG_OVERHEAD)
    if computed == header.crc:
        return None
    return f"Record is corrupt (stored crc = {header.crc}, computed crc = {computed})"


def set_offset_and_epoch(buf: bytearray, pos: int, header: BatchHeader, base_offset: int,
                         partition_leader_epoch: int) -> BatchHeader:
    """Overwrite the base offset and partition leader epoch (both outside the CRC) of the batch at ``buf[pos]``,
    whose header is ``header``, in place; return its header as it now reads.

    The leader stamps every produced batch so: the header comes from the one it validated, not from
    parsing the 61 bytes again.
    """
    _I64.pack_into(buf, pos, base_offset)
    _I32.pack_into(buf, pos + _PARTITION_LEADER_EPOCH_OFFSET, partition_leader_epoch)
    return _header_from_fields((base_offset, header.batch_length, partition_leader_epoch, *header[3:]))


def set_log_append_time(buf: bytearray, pos: int, header: BatchHeader, timestamp: int) -> BatchHeader:
    """Stamp a batch with the broker's append time and re-seal its CRC (Kafka's ``setMaxTimestamp``); return
    its header as it now reads.

    With LogAppendTime every record's timestamp reads as the batch's max timestamp, so the
    records themselves are left untouched.
    """
    attributes = header.attributes | _TIMESTAMP_TYPE_MASK
    _I16.pack_into(buf, pos + _ATTRIBUTES_OFFSET, attributes)
    _I64.pack_into(buf, pos + _MAX_TIMESTAMP_OFFSET, timestamp)
    crc = compute_crc(buf, pos, header.batch_length + LOG_OVERHEAD)
    _U32.pack_into(buf, pos + _CRC_OFFSET, crc)
    return header._replace(attributes=attributes, max_timestamp=timestamp, crc=crc)


def _encode_headers(headers: Sequence[Header]) -> bytes:
    parts = [encode_varint(len(headers))]
    for header in headers:
        key = header.key.encode("utf-8")
        parts.append(encode_varint(len(key)))
        parts.append(key)
        if header.value is None:
            parts.append(_NULL)
        else:
            parts.append(encode_varint(len(header.value)))
            parts.append(header.value)
    return b"".join(parts)


_VARINTS, _VARINT_MIN, _VARINT_MAX = varint_table()
#: The length of each of ``_VARINTS``.
_VARINT_SIZES = tuple(map(len, _VARINTS))
#: The encodings of 0, 1, ... and their lengths, indexed by the value itself (lengths, counts and offset deltas).
_UVARINTS, _UVARINT_SIZES = _VARINTS[-_VARINT_MIN:], _VARINT_SIZES[-_VARINT_MIN:]
_UVARINT_END = len(_UVARINTS)
#: A record's attributes (0) and a timestamp delta of 0.
_ZERO_ATTRIBUTES_AND_DELTA = _RECORD_ATTRIBUTES + encode_varint(0)


class RecordsBuilder:
    """The records of one v2 batch, encoded as they are appended (Kafka's ``MemoryRecordsBuilder``).

    A producer appends each record here as it is sent, so a batch is bytes from the start and
    no record is kept as a Python object; ``encode_batch`` and the cleaner build batches the
    same way. ``seal`` adds the header.

    The records are written into one ``bytearray``, as Kafka's builder writes into its buffer,
    not kept as a list of their parts: such a list holds eight references a record (the
    caller's keys and values among them), and the garbage collector's young and middle
    collections visited every one of them, a cache miss apiece, for every batch being filled
    or waiting to be sent (30,000 queued records made a middle collection take 13 ms of CPU).
    A ``bytearray`` refers to nothing.
    """

    __slots__ = ("_buffer", "_timestamps", "base_timestamp", "count", "max_timestamp")

    def __init__(self, base_timestamp: int) -> None:
        self.base_timestamp = base_timestamp
        self.max_timestamp = NO_TIMESTAMP
        self.count = 0
        self._buffer = bytearray()
        #: Each record's timestamp, kept only once one differs from the base timestamp.
        self._timestamps: list[int] | None = None

    def append(self, key: bytes | None, value: bytes | None, headers: Sequence[Header], timestamp: int,
               offset_delta: int | None = None) -> None:
        """Encode a record after the others; its offset delta is its index unless given (the cleaner's gaps).

        Every produced record passes here: its length is summed from its parts rather than measured
        on a joined body, and its parts are joined once and added to the batch's buffer.
        """
        index = self.count
        self.count = index + 1
        if timestamp > self.max_timestamp:  # noqa: PLR1730 (a comparison costs less than calling max per record)
            self.max_timestamp = timestamp
        if offset_delta is None and timestamp == self.base_timestamp and self._timestamps is None and not headers \
                and key is not None and value is not None:
            # A producer's usual record: the batch's timestamp, a key and a value, no headers. Its attributes and
            # timestamp delta are two zero bytes, and every varint and its length come from the tables.
            key_length, value_length = len(key), len(value)
            if index < _UVARINT_END and key_length < _UVARINT_END and value_length < _UVARINT_END:
                table, sizes = _UVARINTS, _UVARINT_SIZES
                size = (3 + sizes[index] + sizes[key_length] + key_length + sizes[value_length]
                        + value_length)  # 3: attributes, timestamp delta and headers count, one byte each
                self._buffer += b"".join((table[size] if size < _UVARINT_END else encode_varint(size),
                                          _ZERO_ATTRIBUTES_AND_DELTA, table[index], table[key_length], key,
                                          table[value_length], value, _NO_HEADERS))
                return
        if offset_delta is None:
            offset_delta = index
        delta = timestamp - self.base_timestamp
        if delta and self._timestamps is None:
            self._timestamps = [self.base_timestamp] * index
        if self._timestamps is not None:
            self._timestamps.append(timestamp)
        # A null key or value is written as length -1 and no bytes; rebinding keeps the parts below branch-free.
        if key is None:
            key, key_length = b"", -1
        else:
            key_length = len(key)
        if value is None:
            value, value_length = b"", -1
        else:
            value_length = len(value)
        table, sizes, lo, hi = _VARINTS, _VARINT_SIZES, _VARINT_MIN, _VARINT_MAX
        if not headers and lo <= delta <= hi and offset_delta <= hi and key_length <= hi and value_length <= hi:
            # Every varint from the table, and the record's length from the table's sizes: no len() per part.
            size = (2 + sizes[delta - lo] + sizes[offset_delta - lo] + sizes[key_length - lo] + len(key)
                    + sizes[value_length - lo] + len(value))  # 2: the attributes byte and the headers count (0)
            self._buffer += b"".join((table[size - lo] if size <= hi else encode_varint(size), _RECORD_ATTRIBUTES,
                                      table[delta - lo], table[offset_delta - lo], table[key_length - lo], key,
                                      table[value_length - lo], value, _NO_HEADERS))
            return
        parts = (_RECORD_ATTRIBUTES, encode_varint(delta), encode_varint(offset_delta), encode_varint(key_length),
                 key, encode_varint(value_length), value, _encode_headers(headers) if headers else _NO_HEADERS)
        self._buffer += b"".join((encode_varint(sum(map(len, parts))), *parts))

    def timestamp(self, index: int) -> int:
        """The timestamp of record ``index``."""
        return self.base_timestamp if self._timestamps is None else self._timestamps[index]

    def seal(self, compression: CompressionType, *, base_offset: int, partition_leader_epoch: int, attributes: int,
             last_offset_delta: int, producer_id: int, producer_epoch: int, base_sequence: int,
             max_timestamp: int | None = None) -> bytes:
        """The whole batch: the header (``max_timestamp``: the records' unless given) and the records."""
        return _seal(self._buffer, compression, base_offset=base_offset,
                     partition_leader_epoch=partition_leader_epoch, attributes=attributes,
                     last_offset_delta=last_offset_delta, base_timestamp=self.base_timestamp,
                     max_timestamp=self.max_timestamp if max_timestamp is None else max_timestamp,
                     producer_id=producer_id, producer_epoch=producer_epoch, base_sequence=base_sequence,
                     record_count=self.count)


def _seal(records: bytes | bytearray, compression: CompressionType, *, base_offset: int, partition_leader_epoch: int,
          attributes: int, last_offset_delta: int, base_timestamp: int, max_timestamp: int, producer_id: int,
          producer_epoch: int, base_sequence: int, record_count: int) -> bytes:
    """The batch of the records section ``records``: compressed if asked, after its header and CRC.

    The CRC runs over the header's tail and then the records, so the records are copied once, into the batch.
    """
    if compression is not CompressionType.NONE and record_count:
        records = compress(compression, records)
        attributes |= int(compression)
    header = bytearray(_HEADER.pack(base_offset, BATCH_OVERHEAD + len(records) - LOG_OVERHEAD, partition_leader_epoch,
                                    MAGIC, 0, attributes, last_offset_delta, base_timestamp, max_timestamp, producer_id,
                                    producer_epoch, base_sequence, record_count))
    _U32.pack_into(header, _CRC_OFFSET, crc32c(records, crc32c(header[_ATTRIBUTES_OFFSET:])))
    return b"".join((header, records))


def encode_batch(records: Sequence[RecordInput], *, base_offset: int = 0,
                 partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH, producer_id: int = NO_PRODUCER_ID,
                 producer_epoch: int = NO_PRODUCER_EPOCH, base_sequence: int = NO_SEQUENCE,
                 timestamp_type: TimestampType = TimestampType.CREATE_TIME,
                 compression: CompressionType = CompressionType.NONE, is_transactional: bool = False,
                 is_control: bool = False) -> bytes:
    """Encode ``(key, value, headers, timestamp)`` records as one v2 batch, offsets counting from ``base_offset``.

    ``is_control`` sets bit 5 of the attributes: the records are control records (transaction
    markers, or KRaft's LeaderChange and snapshot header/footer), keyed by their type.
    """
    if not records:
        raise ValueError("a record batch needs at least one record")
    builder = RecordsBuilder(records[0][3])
    for key, value, headers, timestamp in records:
        builder.append(key, value, headers, timestamp)
    return builder.seal(compression, base_offset=base_offset, partition_leader_epoch=partition_leader_epoch,
                        attributes=batch_attributes(timestamp_type=timestamp_type, is_transactional=is_transactional,
                                                    is_control=is_control),
                        last_offset_delta=len(records) - 1, producer_id=producer_id, producer_epoch=producer_epoch,
                        base_sequence=base_sequence)


def batch_attributes(*, timestamp_type: TimestampType = TimestampType.CREATE_TIME, is_transactional: bool = False,
                     is_control: bool = False) -> int:
    """The attributes of a batch with no compression (``seal`` adds the codec's bits)."""
    return (_TIMESTAMP_TYPE_MASK if timestamp_type is TimestampType.LOG_APPEND_TIME else 0) | (
        _TRANSACTIONAL_MASK if is_transactional else 0) | (_CONTROL_MASK if is_control else 0)


def encode_retained_batch(original: BatchHeader, records: Sequence[Record], delete_horizon_ms: int | None) -> bytes:
    """Re-encode the records compaction kept from ``original``, preserving its offsets and producer fields.

    As Kafka's ``MemoryRecords.buildRetainedRecordsInto`` does, the base offset and last
    offset delta stay those of the original batch (so producer sequences survive), and a
    delete horizon, when given, becomes the base timestamp with bit 6 set (KIP-534).
    With no records this writes Kafka's empty batch (``writeEmptyHeader``).
    """
    flags = original.attributes & (_TIMESTAMP_TYPE_MASK | _TRANSACTIONAL_MASK | _CONTROL_MASK)
    if not records:
        return _seal(b"", CompressionType.NONE, base_offset=original.base_offset,
                     partition_leader_epoch=original.partition_leader_epoch, attributes=flags,
                     last_offset_delta=original.last_offset_delta, base_timestamp=NO_TIMESTAMP,
                     max_timestamp=original.max_timestamp, producer_id=original.producer_id,
                     producer_epoch=original.producer_epoch, base_sequence=original.base_sequence, record_count=0)
    if delete_horizon_ms is not None:
        flags |= _DELETE_HORIZON_MASK
        base_timestamp = delete_horizon_ms
    else:
        base_timestamp = records[0].timestamp
    builder = RecordsBuilder(base_timestamp)
    base = original.base_offset
    for r in records:
        builder.append(r.key, r.value, r.headers, r.timestamp, r.offset - base)
    # With LogAppendTime the batch's max timestamp is the broker's append time, not the records'.
    log_append_time = original.timestamp_type is TimestampType.LOG_APPEND_TIME
    return builder.seal(original.compression, base_offset=base, partition_leader_epoch=original.partition_leader_epoch,
                        attributes=flags, last_offset_delta=original.last_offset_delta,
                        max_timestamp=original.max_timestamp if log_append_time else None,
                        producer_id=original.producer_id, producer_epoch=original.producer_epoch,
                        base_sequence=original.base_sequence)


def _read_bytes(data: bytes, pos: int, what: str) -> tuple[bytes | None, int]:
    length, pos = read_varint(data, pos)
    if length < 0:
        if length != -1:
            raise _corrupt(f"Record has invalid {what} size {length}.")
        return None, pos
    end = pos + length
    if end > len(data):
        raise _corrupt(f"Record {what} of {length} bytes runs past the end of the batch.")
    return data[pos:end], end


def _read_headers(data: bytes, pos: int) -> tuple[tuple[Header, ...], int]:
    count, pos = read_varint(data, pos)
    if count < 0:
        raise _corrupt(f"Record has invalid header count {count}.")
    headers = []
    for _ in range(count):
        key, pos = _read_bytes(data, pos, "header key")
        if key is None:
            raise _corrupt("Record has a header with a null key.")
        value, pos = _read_bytes(data, pos, "header value")
        try:
            headers.append(Header(key.decode("utf-8"), value))
        except UnicodeDecodeError:
            raise _corrupt("Record has a header key that is not valid UTF-8.") from None
    return tuple(headers), pos


def _records_section(buf: bytes | bytearray | memoryview, pos: int, header: BatchHeader) -> tuple[bytes, int, int]:
    """``(bytes, start, end)`` of the batch's records, decompressed if need be."""
    end = pos + header.batch_length + LOG_OVERHEAD
    if isinstance(buf, bytes) and header.compression is CompressionType.NONE:
        return buf, pos + BATCH_OVERHEAD, end
    with memoryview(buf) as view:
        data = bytes(decompress(header.compression, view[pos + BATCH_OVERHEAD:end]))
    return data, 0, len(data)


def all_records_have_keys(buf: bytes | bytearray | memoryview, pos: int, header: BatchHeader) -> bool:
    """True when no record of the batch has a null key; reads only each record's framing and key length.

    The leader of a compacted topic checks this on every append, so it builds no record objects.
    """
    data, cursor, _ = _records_section(buf, pos, header)
    try:
        for _ in range(header.record_count):
            size, cursor = read_varint(data, cursor)
            _, field = read_varint(data, cursor + 1)
            _, field = read_varint(data, field)
            if read_varint(data, field)[0] < 0:
                return False
            cursor += size
    except (IndexError, ValueError):
        raise _corrupt(f"Record in batch at offset {header.base_offset} is truncated or has a malformed varint.") from None
    return True


def iter_record_keys(buf: bytes | bytearray | memoryview, pos: int,
                     header: BatchHeader) -> Iterator[tuple[int, bytes | None]]:
    """``(offset, key)`` of each record of the batch, reading only each record's framing, offset delta and key.

    What Kafka's ``DefaultRecord.readPartiallyFrom`` does for callers that skip the rest: the TUI's lanes
    read the key of every new record for each frame, and building whole records cost them 6 us a record.
    """
    data, cursor, end = _records_section(buf, pos, header)
    base_offset = header.base_offset
    read = read_varint
    try:
        for _ in range(header.record_count):
            size, cursor = read(data, cursor)
            record_end = cursor + size
            if size <= 0 or record_end > end:
                raise _corrupt(f"Record in batch at offset {base_offset} has invalid size {size}.")
            _, field = read(data, cursor + 1)  # the attributes byte, then the timestamp delta
            offset_delta, field = read(data, field)
            key, _ = _read_bytes(data, field, "key")
            yield base_offset + offset_delta, key
            cursor = record_end
    except (IndexError, ValueError):
        raise _corrupt(f"Record in batch at offset {base_offset} is truncated or has a malformed varint.") from None


def iter_records(buf: bytes | bytearray | memoryview, pos: int, header: BatchHeader) -> Iterator[Record]:
    """Decode the records of the batch at ``buf[pos]`` (whose header is ``header``).

    Raises CORRUPT_MESSAGE when a record does not parse exactly (Kafka's ``DefaultRecord.readFrom``).
    """
    data, cursor, end = _records_section(buf, pos, header)
    base_offset = header.base_offset
    log_append_time = header.max_timestamp if header.timestamp_type is TimestampType.LOG_APPEND_TIME else None
    base_timestamp = header.base_timestamp
    read, read_bytes, make = read_varint, _read_bytes, Record
    headers: tuple[Header, ...]
    try:
        for _ in range(header.record_count):
            size, cursor = read(data, cursor)
            record_end = cursor + size
            if size <= 0 or record_end > end:
                raise _corrupt(f"Record in batch at offset {base_offset} has invalid size {size}.")
            timestamp_delta, cursor = read(data, cursor + 1)
            offset_delta, cursor = read(data, cursor)
            key, cursor = read_bytes(data, cursor, "key")
            value, cursor = read_bytes(data, cursor, "value")
            if data[cursor] == 0:
                headers, cursor = (), cursor + 1
            else:
                headers, cursor = _read_headers(data, cursor)
            if cursor != record_end:
                raise _corrupt(f"Record in batch at offset {base_offset} declares {size} bytes "
                               f"but its fields take {size + cursor - record_end}.")
            yield make(base_offset + offset_delta,
                       base_timestamp + timestamp_delta if log_append_time is None else log_append_time,
                       key, value, headers)
    except (IndexError, ValueError):
        raise _corrupt(f"Record in batch at offset {base_offset} is truncated or has a malformed varint.") from None
    if cursor != end:
        raise _corrupt(f"Batch at offset {base_offset} has {end - cursor} bytes after its {header.record_count} records.")


def decode_batch(buf: bytes | bytearray | memoryview, pos: int = 0) -> tuple[BatchHeader, tuple[Record, ...]]:
    """Decode the batch at ``buf[pos]`` into its header and records; CORRUPT_MESSAGE if it does not parse."""
    header = read_batch_header(buf, pos)
    if pos + header.size_in_bytes > len(buf):
        raise _corrupt(f"Record batch at position {pos} is truncated.")
    return header, tuple(iter_records(buf, pos, header))
