"""Producer snapshot files, ``<offset>.snapshot`` (Kafka's ``ProducerStateManager.writeSnapshot``/``readSnapshot``).

A snapshot holds the producer state of a partition as of the offset in its name: version
(int16, 1), a CRC32C (uint32) of what follows, then an array (int32 count) of entries:
producer id (int64), epoch (int16), last sequence (int32), last offset (int64), offset
delta of the last batch (int32), its max timestamp (int64), the coordinator epoch of the
last marker (int32) and the first offset of the open transaction (int64, -1 if none).
Rebuilding state reads the newest snapshot and replays only the log after it.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.crc import crc32c
from kafkalab.storage.files import storage_errors, write_durably

SNAPSHOT_SUFFIX = ".snapshot"
#: ``PRODUCER_SNAPSHOT_VERSION``.
VERSION = 1
_HEAD = struct.Struct(">hIi")
_ENTRY = struct.Struct(">qhiqiqiq")
_ENTRIES_OFFSET = 6  # entries (with their count) start after the version and the CRC


@dataclass(frozen=True, slots=True)
class SnapshotEntry:
    """One producer as a snapshot stores it: its epoch, last batch and open transaction."""

    producer_id: int
    epoch: int
    last_sequence: int
    last_offset: int
    offset_delta: int
    timestamp: int
    coordinator_epoch: int
    current_txn_first_offset: int


def snapshot_path(directory: Path, offset: int) -> Path:
    return directory / f"{offset:020d}{SNAPSHOT_SUFFIX}"


def snapshot_offsets(directory: Path) -> list[int]:
    """The offsets of the snapshots in a partition directory, oldest first."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(int(name[:20]) for name in names
                  if name.endswith(SNAPSHOT_SUFFIX) and len(name) == 20 + len(SNAPSHOT_SUFFIX) and name[:20].isdigit())


def encode(entries: Iterable[SnapshotEntry]) -> bytes:
    rows = list(entries)
    body = struct.pack(">i", len(rows)) + b"".join(
        _ENTRY.pack(e.producer_id, e.epoch, e.last_sequence, e.last_offset, e.offset_delta, e.timestamp,
                    e.coordinator_epoch, e.current_txn_first_offset) for e in rows)
    return struct.pack(">hI", VERSION, crc32c(body)) + body


def decode(data: bytes, path: Path) -> list[SnapshotEntry]:
    """The entries of a snapshot; CORRUPT_MESSAGE for a wrong version, a CRC mismatch or a torn file."""
    if len(data) < _HEAD.size:
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"Snapshot {path} is truncated.")
    version, crc, count = _HEAD.unpack_from(data)
    if version != VERSION:
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"Snapshot {path} has version {version}, not {VERSION}.")
    if crc32c(data[_ENTRIES_OFFSET:]) != crc:
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"Snapshot {path} failed its CRC check.")
    if len(data) != _HEAD.size + count * _ENTRY.size:
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"Snapshot {path} does not hold {count} entries.")
    return [SnapshotEntry(*row) for row in _ENTRY.iter_unpack(data[_HEAD.size:])]


def write(directory: Path, offset: int, entries: Iterable[SnapshotEntry]) -> None:
    """Write the snapshot of ``offset`` atomically (a crash leaves the old files or the new one)."""
    path = snapshot_path(directory, offset)
    with storage_errors(path, "write"):
        write_durably(path, encode(entries), sync=False)


def read(directory: Path, offset: int) -> list[SnapshotEntry]:
    path = snapshot_path(directory, offset)
    with storage_errors(path, "read"):
        data = path.read_bytes()
    return decode(data, path)


def delete(directory: Path, offset: int) -> None:
    path = snapshot_path(directory, offset)
    with storage_errors(path, "delete"):
        path.unlink(missing_ok=True)
