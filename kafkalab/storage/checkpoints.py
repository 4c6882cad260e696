"""Kafka's checkpoint files: a version line, a count line, then one entry per line (``CheckpointFile``).

A broker's log dir holds ``recovery-point-offset-checkpoint``,
``replication-offset-checkpoint`` (high watermarks), ``log-start-offset-checkpoint``
and ``cleaner-offset-checkpoint``, each with ``<topic> <partition> <offset>`` lines; a
partition dir holds ``leader-epoch-checkpoint`` with ``<epoch> <offset>`` lines. Writes
go to a temp file that is fsynced and renamed over the old one, so a crash leaves either
the old or the new file, never half of one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.files import KafkaStorageError, fsync_directory, storage_errors, write_durably

VERSION = 0
RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint"
HIGH_WATERMARK_CHECKPOINT = "replication-offset-checkpoint"
LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint"
CLEANER_OFFSET_CHECKPOINT = "cleaner-offset-checkpoint"


def _malformed(path: Path, line_number: int, line: str, why: str) -> KafkaError:
    return KafkaError(Errors.KAFKA_STORAGE_ERROR,
                      f"Malformed line {line_number} in checkpoint file {path}: {line!r} ({why}).")


def write_checkpoint(path: Path, lines: Sequence[str], sync: bool = True) -> None:
    """Atomically replace ``path`` with a version-0 checkpoint holding ``lines``.

    With ``sync`` the file and the rename are fsynced before returning; without, a killed
    process still leaves a whole file and the caller fsyncs later with ``sync_file``.
    """
    text = "".join(f"{line}\n" for line in (str(VERSION), str(len(lines)), *lines))
    with storage_errors(path, "write the checkpoint file"):
        write_durably(path, text.encode("utf-8"), sync)


def sync_file(path: Path) -> None:
    """fsync a file written without ``sync`` and the directory entry that names it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_directory(path.parent)


def read_checkpoint(path: Path, fields: int) -> list[list[str]]:
    """The entries of a checkpoint, each split into ``fields`` words; empty if the file is missing.

    Raises KAFKA_STORAGE_ERROR naming the file and line when it is malformed, and
    KafkaStorageError when the file system refuses to read it.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise KafkaStorageError(path, "read the checkpoint file", exc) from None
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Checkpoint file {path} is not text: byte {exc.start} "
                                                     f"is not UTF-8.") from None
    if not lines:
        return []
    if lines[0].strip() != str(VERSION):
        raise _malformed(path, 1, lines[0], f"expected version {VERSION}")
    if len(lines) < 2:
        return []
    try:
        expected = int(lines[1])
    except ValueError:
        raise _malformed(path, 2, lines[1], "expected the number of entries") from None
    entries = []
    for number, line in enumerate(lines[2:], start=3):
        words = line.split()
        if len(words) != fields:
            raise _malformed(path, number, line, f"expected {fields} fields")
        entries.append(words)
    if len(entries) != expected:
        raise KafkaError(Errors.KAFKA_STORAGE_ERROR,
                         f"Expected {expected} entries in checkpoint file {path}, but found {len(entries)}.")
    return entries


def parse_int(path: Path, entry: Sequence[str], index: int) -> int:
    """Field ``index`` of a checkpoint entry as an integer, or KAFKA_STORAGE_ERROR."""
    try:
        return int(entry[index])
    except ValueError:
        raise KafkaError(Errors.KAFKA_STORAGE_ERROR,
                         f"Malformed entry in checkpoint file {path}: {' '.join(entry)!r} "
                         f"(field {index + 1} is not an integer).") from None


def read_offsets(path: Path) -> dict[tuple[str, int], int]:
    """A ``<topic> <partition> <offset>`` checkpoint as ``{(topic, partition): offset}``."""
    return {(entry[0], parse_int(path, entry, 1)): parse_int(path, entry, 2) for entry in read_checkpoint(path, 3)}


def write_offsets(path: Path, offsets: Mapping[tuple[str, int], int]) -> None:
    """Atomically write ``{(topic, partition): offset}`` as a checkpoint, sorted for stable diffs."""
    write_checkpoint(path, [f"{topic} {partition} {offset}" for (topic, partition), offset in sorted(offsets.items())])
