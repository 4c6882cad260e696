"""The frozen results a partition log returns; the broker layer turns them into journal events.

The storage layer never emits events itself, so every operation that changes what is on
disk says exactly what it changed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from kafkalab.storage.leader_epoch import EpochEntry


@dataclass(frozen=True)
class SegmentRecovery:
    """What validating a segment found: how much is intact, what was cut and why."""

    valid_bytes: int
    bytes_truncated: int
    problem: str | None
    next_offset: int
    #: ``(leader epoch, first offset)`` wherever the batches' partition leader epoch changes.
    epoch_starts: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SegmentInfo:
    """One segment as the disk view shows it."""

    base_offset: int
    #: The offset after the segment: the next segment's base offset, or the log end offset for the active one.
    next_offset: int
    size_bytes: int
    #: Largest record timestamp in the segment, -1 when it has none.
    largest_timestamp: int
    log_file: str
    index_file: str
    time_index_file: str
    is_active: bool


@dataclass(frozen=True)
class RolledSegment:
    """The active segment was closed and a new one started."""

    closed_base_offset: int
    new_base_offset: int
    #: Which limit was reached: ``segment.bytes``, ``segment.ms``, ``segment.index.bytes``, ``offset overflow``,
    #: or a retention limit (``retention.ms``, ``retention.bytes``) when retention rolled it to delete it.
    reason: str


class LogAppendInfo(NamedTuple):
    """What an append wrote (Kafka's ``LogAppendInfo``).

    A named tuple, immutable as the frozen results here are: a frozen dataclass sets each of its
    fields through ``object.__setattr__``, and every append of every replica returns one.
    """

    first_offset: int
    last_offset: int
    #: The broker's time stamped on the batches with ``message.timestamp.type=LogAppendTime``, else -1.
    log_append_time: int
    log_start_offset: int
    record_count: int
    rolled: tuple[RolledSegment, ...]
    epochs_started: tuple[EpochEntry, ...]
    #: True when ``flush.messages`` unflushed records forced an fsync.
    flushed: bool
    #: True when a batch carries a producer id (idempotent or transactional): only those change producer state.
    producer_batches: bool


@dataclass(frozen=True)
class TruncationResult:
    """What a truncation removed from the end (or the whole) of a log."""

    old_log_end_offset: int
    new_log_end_offset: int
    bytes_removed: int
    deleted_segments: tuple[int, ...]


@dataclass(frozen=True)
class DeletedSegment:
    """A closed segment removed by retention."""

    base_offset: int
    next_offset: int
    size_bytes: int
    #: Offsets the segment covered: its record count unless compaction had removed some.
    records: int
    largest_timestamp: int
    #: ``retention.ms``, ``retention.bytes`` or ``log.start.offset``.
    reason: str


@dataclass(frozen=True)
class RetentionResult:
    """Segments deleted by one retention pass and how the log start offset moved."""

    deleted: tuple[DeletedSegment, ...]
    old_log_start_offset: int
    new_log_start_offset: int
    #: The active segment rolled so that it could be deleted too (its reason: the retention limit).
    rolled: tuple[RolledSegment, ...] = ()


@dataclass(frozen=True)
class RecoveryReport:
    """How a partition log was opened: what was checked, what was cut and why."""

    topic: str
    partition: int
    #: True when the clean-shutdown fast path was used and no segment data was read.
    clean_shutdown: bool
    segments_checked: int
    bytes_checked: int
    bytes_truncated: int
    #: Base offset of the segment that was cut, if any.
    truncated_segment: int | None
    #: Byte position in that segment where the intact data ends.
    truncated_at_position: int | None
    #: Why it was cut: a sentence naming the first bad batch.
    truncation_reason: str | None
    #: Segments after the damage that were deleted.
    deleted_segments: tuple[int, ...]
    #: Offsets at and above this were lost (None when nothing was lost); exactly how many
    #: cannot be read from damaged bytes, compare with the high-watermark checkpoint.
    offsets_lost_from: int | None
    log_start_offset: int
    log_end_offset: int
    recovery_point: int
    #: Other repairs, one sentence each (stray temp files, an interrupted compaction swap ...).
    notes: tuple[str, ...]


@dataclass(frozen=True)
class CheckpointReset:
    """A broker-wide checkpoint file that could not be read, and what the broker uses instead."""

    file: str
    problem: str
    #: What replaces it, in a sentence: Kafka treats an unreadable checkpoint like a missing one.
    fallback: str
