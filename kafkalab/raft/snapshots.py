"""Snapshot files of the metadata log (KIP-630; Kafka's ``Snapshots``, ``FileRawSnapshotWriter``, ``RecordsSnapshotWriter``).

A snapshot holds the whole metadata state up to an end offset, so the log before it can
be deleted and a replica far behind can load it instead of replaying. It is a sequence
of v2 record batches in ``<end offset, 20 digits>-<epoch, 10 digits>.checkpoint``: a
control batch with a SnapshotHeaderRecord at offset 0, the state's records from offset 1,
and a control batch with a SnapshotFooterRecord last; every batch carries the snapshot's
epoch. It is written to a ``.checkpoint.part`` file and renamed once whole ("frozen"), so
a crash never leaves a half snapshot under a real name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.raft import OffsetAndEpoch
from kafkalab.storage.control_records import (
    SnapshotFooter,
    SnapshotHeader,
    decode_control_record,
    encode_control_batch,
)
from kafkalab.storage.files import fsync_directory
from kafkalab.storage.records import BatchHeader, crc_matches, encode_batch, iter_batch_headers, iter_records

SUFFIX = ".checkpoint"
PARTIAL_SUFFIX = ".checkpoint.part"
DELETE_SUFFIX = ".checkpoint.deleted"
#: Kafka's ``KafkaRaftClient.MAX_BATCH_SIZE_BYTES``: records are packed into batches of at most this size.
MAX_BATCH_SIZE_BYTES = 8 * 1024 * 1024
_NAME = re.compile(r"^(\d{20})-(\d{10})(?:-\d+)?(\.checkpoint(?:\.part|\.deleted)?)$")


def snapshot_file_name(snapshot_id: OffsetAndEpoch) -> str:
    """``00000000000000000042-0000000003.checkpoint`` for end offset 42 in epoch 3."""
    return f"{snapshot_id.offset:020d}-{snapshot_id.epoch:010d}{SUFFIX}"


@dataclass(frozen=True)
class SnapshotPath:
    """A snapshot file found in the log directory (Kafka's ``SnapshotPath``)."""

    path: Path
    snapshot_id: OffsetAndEpoch
    partial: bool
    deleted: bool


def parse_snapshot_path(path: Path) -> SnapshotPath | None:
    """The snapshot a file name denotes, or None for any other file."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    suffix = match.group(3)
    return SnapshotPath(path, OffsetAndEpoch(int(match.group(1)), int(match.group(2))),
                        partial=suffix == PARTIAL_SUFFIX, deleted=suffix == DELETE_SUFFIX)


@dataclass(frozen=True)
class SnapshotContents:
    """A snapshot read back: its header's timestamp and the state's records in order."""

    snapshot_id: OffsetAndEpoch
    last_contained_log_timestamp: int
    records: tuple[bytes, ...]
    size_in_bytes: int


def encode_snapshot(snapshot_id: OffsetAndEpoch, records: Sequence[bytes], last_contained_log_timestamp: int,
                    now_ms: int) -> bytes:
    """The bytes of a whole snapshot: header batch, record batches (values only, no keys), footer batch."""
    epoch = snapshot_id.epoch
    parts = [encode_control_batch(SnapshotHeader(last_contained_log_timestamp), base_offset=0, timestamp=now_ms,
                                  partition_leader_epoch=epoch)]
    offset = 1
    start = 0
    while start < len(records):
        end, size = start, 0
        while end < len(records) and (end == start or size + len(records[end]) < MAX_BATCH_SIZE_BYTES):
            size += len(records[end])
            end += 1
        parts.append(encode_batch([(None, value, (), now_ms) for value in records[start:end]], base_offset=offset,
                                  partition_leader_epoch=epoch))
        offset += end - start
        start = end
    parts.append(encode_control_batch(SnapshotFooter(), base_offset=offset, timestamp=now_ms,
                                      partition_leader_epoch=epoch))
    return b"".join(parts)


def _corrupt(snapshot_id: OffsetAndEpoch, why: str) -> KafkaError:
    return KafkaError(Errors.CORRUPT_MESSAGE, f"Snapshot {snapshot_file_name(snapshot_id)} is corrupt: {why}.")


def decode_snapshot(snapshot_id: OffsetAndEpoch, data: bytes) -> SnapshotContents:
    """Read a snapshot's records, checking every CRC and the header and footer; CORRUPT_MESSAGE otherwise."""
    batches: list[tuple[int, BatchHeader]] = list(iter_batch_headers(data))
    if len(batches) < 2:
        raise _corrupt(snapshot_id, "it has no header and footer batches")
    records: list[bytes] = []
    header_timestamp = -1
    for index, (position, header) in enumerate(batches):
        if not crc_matches(data, position, header):
            raise _corrupt(snapshot_id, f"the batch at position {position} fails its CRC check")
        decoded = list(iter_records(data, position, header))
        message = decode_control_record(decoded[0])[1] if header.is_control and decoded else None
        if index == 0:
            if not isinstance(message, SnapshotHeader):
                raise _corrupt(snapshot_id, "it does not start with a SnapshotHeader")
            header_timestamp = message.last_contained_log_timestamp
        elif index == len(batches) - 1:
            if not isinstance(message, SnapshotFooter):
                raise _corrupt(snapshot_id, "it does not end with a SnapshotFooter (it was not written whole)")
        elif header.is_control:
            raise _corrupt(snapshot_id, f"a control batch sits among its records at position {position}")
        else:
            records.extend(record.value or b"" for record in decoded)
    return SnapshotContents(snapshot_id, header_timestamp, tuple(records), len(data))


def write_file_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and fsync the file and its directory."""
    with open(path, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    fsync_directory(path.parent)


def freeze(partial: Path, snapshot_id: OffsetAndEpoch) -> Path:
    """Make a whole ``.checkpoint.part`` file the snapshot (fsync, rename, fsync the directory)."""
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    final = partial.with_name(snapshot_file_name(snapshot_id))
    os.replace(partial, final)
    fsync_directory(final.parent)
    return final


def delete_snapshot(directory: Path, snapshot_id: OffsetAndEpoch) -> None:
    """Remove a snapshot: renamed ``.checkpoint.deleted`` first, as Kafka's ``markForDelete``, then deleted."""
    path = directory / snapshot_file_name(snapshot_id)
    doomed = path.with_name(path.name.replace(SUFFIX, DELETE_SUFFIX))
    os.replace(path, doomed)
    doomed.unlink()
