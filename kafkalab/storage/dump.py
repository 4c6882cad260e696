"""``kafkalab dump-log``: print a segment file the way Kafka's ``kafka-dump-log.sh`` does (``DumpLogSegments``).

``.log`` files print one line per batch and, with data, one ``|`` line per record (for a
transaction marker its type and coordinator epoch instead of key and payload);
``.index``, ``.timeindex`` and ``.txnindex`` files print their entries, and producer
``.snapshot`` files one line per producer. The wording and field order are
Kafka's, so output can be compared line by line with the real tool. Given a payload decoder
(``--cluster-metadata-decoder``, which the command line passes for ``__cluster_metadata-0``),
record values print decoded and control records by their type, and KRaft snapshots
(``.checkpoint`` files) print like segments.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from kafkalab.errors import KafkaError
from kafkalab.storage import producer_snapshot
from kafkalab.storage.control_records import (
    ControlRecordType,
    control_message_json,
    control_type_name,
    decode_control_record,
    decode_end_txn_marker,
)
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.files import INDEX_SUFFIX, LOG_SUFFIX, TXN_INDEX_SUFFIX, parse_segment_file_name
from kafkalab.storage.offset_index import OffsetIndex
from kafkalab.storage.records import NO_SEQUENCE, BatchHeader, Record, crc_matches, iter_batch_headers, iter_records
from kafkalab.storage.segment import LogSegment
from kafkalab.storage.sparse_index import CorruptIndexError
from kafkalab.storage.time_index import TimeIndex
from kafkalab.storage.txn_index import TransactionIndex

#: A KRaft snapshot file's suffix (``<offset>-<epoch>.checkpoint``, KIP-630).
SNAPSHOT_SUFFIX = ".checkpoint"


def _java_bool(value: bool) -> str:
    return "true" if value else "false"


def _batch_line(header: BatchHeader, position: int, valid: bool) -> str:
    horizon = header.delete_horizon_ms
    return (f"baseOffset: {header.base_offset} lastOffset: {header.last_offset} count: {header.record_count} "
            f"baseSequence: {header.base_sequence} lastSequence: {header.last_sequence} "
            f"producerId: {header.producer_id} producerEpoch: {header.producer_epoch} "
            f"partitionLeaderEpoch: {header.partition_leader_epoch} "
            f"isTransactional: {_java_bool(header.is_transactional)} isControl: {_java_bool(header.is_control)} "
            f"deleteHorizonMs: {'OptionalLong.empty' if horizon is None else f'OptionalLong[{horizon}]'} "
            f"position: {position} {header.timestamp_type.kafka_name}: {header.max_timestamp} "
            f"size: {header.size_in_bytes} magic: {header.magic} compresscodec: {header.compression.codec_name} "
            f"crc: {header.crc} isvalid: {_java_bool(valid)}")


#: Turns a record value into text (KRaft metadata records into Kafka's JSON).
PayloadDecoder = Callable[[bytes], str]


def _metadata_control_text(record: Record) -> str:
    """A control record as Kafka's metadata decoder names it: ``LeaderChange: {...}``."""
    record_type, message = decode_control_record(record)
    return f" {control_type_name(record_type)}: {control_message_json(message)}"


def _record_lines(header: BatchHeader, data: bytes, decoder: PayloadDecoder | None = None) -> list[str]:
    lines = []
    for record in iter_records(data, 0, header):
        delta = record.offset - header.base_offset
        sequence = NO_SEQUENCE if header.base_sequence < 0 else (header.base_sequence + delta) % (2**31)
        line = (f"| offset: {record.offset} {header.timestamp_type.kafka_name}: {record.timestamp} "
                f"keySize: {-1 if record.key is None else len(record.key)} "
                f"valueSize: {-1 if record.value is None else len(record.value)} sequence: {sequence} "
                f"headerKeys: [{','.join(h.key for h in record.headers)}]")
        if header.is_control:
            lines.append(line + (_metadata_control_text(record) if decoder is not None else _control_text(record)))
            continue
        if decoder is not None:
            line += f" payload: {decoder(record.value or b'')}"
        else:
            if record.key is not None:
                line += f" key: {record.key.decode('utf-8', errors='replace')}"
            if record.value is not None:
                line += f" payload: {record.value.decode('utf-8', errors='replace')}"
        lines.append(line)
    return lines


def _control_text(record: Record) -> str:
    """What Kafka prints for a control record: a marker's type and coordinator epoch, else the type."""
    marker = decode_end_txn_marker(record)
    if marker is not None:
        return f" endTxnMarker: {'COMMIT' if marker[0] else 'ABORT'} coordinatorEpoch: {marker[1].coordinator_epoch}"
    type_id = int.from_bytes((record.key or b"\0\0\0\0")[2:4], "big", signed=True)
    name = ControlRecordType(type_id).name if type_id in set(ControlRecordType) else "UNKNOWN"
    return f" controlType: {name}({type_id})"


def _dump_txn_index(path: Path, out: TextIO) -> None:
    for txn in TransactionIndex(path).entries:
        out.write(f"version: 0 producerId: {txn.producer_id} firstOffset: {txn.first_offset} "
                  f"lastOffset: {txn.last_offset} lastStableOffset: {txn.last_stable_offset}\n")


def _dump_producer_snapshot(path: Path, out: TextIO) -> None:
    """``DumpLogSegments.dumpProducerIdSnapshot``: each producer, and its last batch if it has one."""
    for e in producer_snapshot.decode(path.read_bytes(), path):
        txn = f"OptionalLong[{e.current_txn_first_offset}]" if e.current_txn_first_offset >= 0 else "OptionalLong.empty"
        line = (f"producerId: {e.producer_id} producerEpoch: {e.epoch} coordinatorEpoch: {e.coordinator_epoch} "
                f"currentTxnFirstOffset: {txn} lastTimestamp: {e.timestamp} ")
        if e.last_offset >= 0:
            line += (f"firstSequence: {e.last_sequence - e.offset_delta} lastSequence: {e.last_sequence} "
                     f"lastOffset: {e.last_offset} offsetDelta: {e.offset_delta} timestamp: {e.timestamp}")
        out.write(line + "\n")


def _dump_snapshot(path: Path, print_data: bool, decoder: PayloadDecoder | None, out: TextIO) -> None:
    """A KRaft snapshot: batches back to back, from its first byte."""
    data = path.read_bytes()
    valid_bytes = 0
    try:
        for position, header in iter_batch_headers(data):
            batch = data[position:position + header.size_in_bytes]
            out.write(_batch_line(header, position, crc_matches(batch, 0, header)) + "\n")
            if print_data:
                out.write("".join(f"{line}\n" for line in _record_lines(header, batch, decoder)))
            valid_bytes = position + header.size_in_bytes
    except KafkaError:
        pass
    if len(data) > valid_bytes:
        out.write(f"Found {len(data) - valid_bytes} invalid bytes at the end of {path.name}\n")


def _dump_log(path: Path, base_offset: int, print_data: bool, out: TextIO,
              decoder: PayloadDecoder | None = None) -> None:
    out.write(f"Log starting offset: {base_offset}\n")
    handles = FileHandles(capacity=1)
    segment = LogSegment.open_existing(path.parent, base_offset, handles=handles, index_interval_bytes=0, now_ms=0)
    valid_bytes = 0
    try:
        for position, header, data in segment.batches():
            out.write(_batch_line(header, position, crc_matches(data, 0, header)) + "\n")
            if print_data:
                try:
                    out.write("".join(f"{line}\n" for line in _record_lines(header, data, decoder)))
                except KafkaError as exc:
                    out.write(f"| records could not be decoded: {exc.message}\n")
            valid_bytes = position + header.size_in_bytes
    except KafkaError:
        pass
    finally:
        segment.close_abruptly()
    if segment.size > valid_bytes:
        out.write(f"Found {segment.size - valid_bytes} invalid bytes at the end of {path.name}\n")


def _dump_index(path: Path, index: OffsetIndex | TimeIndex, out: TextIO) -> None:
    if isinstance(index, OffsetIndex):
        lines = [(offset, f"offset: {offset} position: {position}") for offset, position in index.entries()]
        if not lines:
            out.write(f"{path} is empty.\n")
    else:
        lines = [(offset, f"timestamp: {timestamp} offset: {offset}") for timestamp, offset in index.entries()]
    for number, (offset, line) in enumerate(lines):
        # A crashed broker's preallocated index ends in zero entries; Kafka stops at the first one.
        if number > 0 and offset == index.base_offset:
            break
        out.write(line + "\n")


def dump_log_command(path: str, print_data: bool, out: TextIO, decoder: PayloadDecoder | None = None) -> int:
    """Print the segment, index, time index or (with a decoder) snapshot file at ``path``; the exit status (2 for a bad path)."""
    file = Path(path)
    parsed = parse_segment_file_name(file.name)
    if not file.is_file():
        print(f"kafkalab dump-log: {path}: {'not a file' if file.exists() else 'no such file'}", file=sys.stderr)
        return 2
    if decoder is not None and file.name.endswith(SNAPSHOT_SUFFIX):
        out.write(f"Dumping {path}\n")
        try:
            _dump_snapshot(file, print_data, decoder, out)
        except OSError as exc:
            print(f"kafkalab dump-log: {path}: {exc}", file=sys.stderr)
            return 1
        return 0
    if file.name.endswith(producer_snapshot.SNAPSHOT_SUFFIX):
        out.write(f"Dumping {path}\n")
        try:
            _dump_producer_snapshot(file, out)
        except (OSError, KafkaError) as exc:
            print(f"kafkalab dump-log: {path}: {exc}", file=sys.stderr)
            return 1
        return 0
    if parsed is None or parsed[2]:
        print(f"kafkalab dump-log: {path} is not a segment file "
              f"(expected <20-digit offset>.log, .index, .timeindex, .txnindex or .snapshot)", file=sys.stderr)
        return 2
    base_offset, extension, _ = parsed
    out.write(f"Dumping {path}\n")
    try:
        if extension == LOG_SUFFIX:
            _dump_log(file, base_offset, print_data, out, decoder)
        elif extension == TXN_INDEX_SUFFIX:
            _dump_txn_index(file, out)
        else:
            index = (OffsetIndex if extension == INDEX_SUFFIX else TimeIndex)(file, base_offset, on_disk=True)
            index.load()
            _dump_index(file, index, out)
    except BrokenPipeError:
        raise  # the reader of our output left (``| head``): not a problem with the file
    except (OSError, CorruptIndexError, KafkaError) as exc:
        print(f"kafkalab dump-log: {path}: {exc}", file=sys.stderr)
        return 1
    return 0
