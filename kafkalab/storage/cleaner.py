"""Log compaction for ``cleanup.policy=compact``: keep the latest record per key (Kafka's ``LogCleaner``).

One pass follows ``Cleaner.doClean``: build a key -> latest offset map from the dirty
section (closed segments from the first dirty offset up to the first uncleanable one),
then recopy every closed segment up to there, dropping records whose key appears later.
Offsets never change: retained records keep their offsets and each rewritten batch keeps
its base offset, last offset delta and producer fields.

Tombstones (null values) follow KIP-534, as ``Cleaner.shouldRetainRecord`` does for v2
batches: the first clean that retains a tombstone stamps its batch with a delete horizon
of ``now + delete.retention.ms`` (the batch's base timestamp, attribute bit 6); a later
clean drops the tombstone once ``now >= horizon``. Consumers that read the log within
``delete.retention.ms`` of that first clean therefore see the delete.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import BatchHeader, encode_retained_batch, iter_records, read_batch_header
from kafkalab.storage.segment import LogSegment


@dataclass(frozen=True)
class CleanResult:
    """What one compaction pass did, or why it did nothing."""

    #: Why nothing was cleaned (None when the pass ran).
    skipped_reason: str | None
    #: Dirty bytes / (clean + dirty bytes) before the pass (Kafka's ``cleanableRatio``).
    dirty_ratio: float
    #: Base offsets of the segments that were rewritten, and of the segments that replaced them.
    cleaned_segments: tuple[int, ...]
    new_segments: tuple[int, ...]
    records_read: int
    records_removed: int
    tombstones_removed: int
    bytes_before: int
    bytes_after: int
    #: Where the next pass's dirty section starts (the ``cleaner-offset-checkpoint`` value).
    next_dirty_offset: int


def _skip(reason: str, ratio: float, first_dirty: int) -> CleanResult:
    return CleanResult(reason, ratio, (), (), 0, 0, 0, 0, 0, first_dirty)


def _first_uncleanable_offset(log: PartitionLog, segments: tuple[LogSegment, ...], first_dirty: int, now_ms: int,
                              high_watermark: int) -> int:
    """Base offset of the first segment that may not be cleaned (Kafka's ``cleanableOffsets``).

    Never the active segment, nothing at or above the high watermark, and no segment whose
    newest record is younger than ``min.compaction.lag.ms``.
    """
    limit = min(high_watermark, segments[-1].base_offset)
    lag = log.config.min_compaction_lag_ms
    if lag > 0:
        for segment in segments[:-1]:
            if segment.base_offset >= first_dirty and segment.largest_timestamp > now_ms - lag:
                limit = min(limit, segment.base_offset)
                break
    limit = max(first_dirty, limit)
    floor = max(0, bisect.bisect_right(segments, limit, key=lambda s: s.base_offset) - 1)
    return segments[floor].base_offset


def _must_compact_now(log: PartitionLog, dirty: list[LogSegment], now_ms: int) -> bool:
    """True when a dirty segment's first record is older than ``max.compaction.lag.ms`` (``maxCompactionDelay``)."""
    deadline = now_ms - log.config.max_compaction_lag_ms
    return deadline > 0 and any(0 < s.first_batch_timestamp < deadline for s in dirty)


def _build_offset_map(dirty: list[LogSegment], first_dirty: int, first_uncleanable: int) -> dict[bytes, int]:
    """Key -> latest offset over the dirty records (Kafka's ``buildOffsetMap``, without its memory bound)."""
    offsets: dict[bytes, int] = {}
    for segment in dirty:
        for _, header, data in segment.batches():
            for record in iter_records(data, 0, header):
                if record.key is not None and first_dirty <= record.offset < first_uncleanable:
                    offsets[record.key] = record.offset
    return offsets


def _group_by_size(segments: list[LogSegment], max_bytes: int) -> list[list[LogSegment]]:
    """Consecutive segments merged while their total stays within ``segment.bytes`` (``groupSegmentsBySize``)."""
    groups: list[list[LogSegment]] = []
    for segment in segments:
        if groups and sum(s.size for s in groups[-1]) + segment.size <= max_bytes:
            groups[-1].append(segment)
        else:
            groups.append([segment])
    return groups


class _Pass:
    """The state of one cleaning pass: the offset map and running counts."""

    def __init__(self, log: PartitionLog, offsets: dict[bytes, int], now_ms: int, first_uncleanable: int) -> None:
        self.log = log
        self.offsets = offsets
        self.latest = max(offsets.values())
        self.now_ms = now_ms
        self.first_uncleanable = first_uncleanable
        self.read = self.removed = self.tombstones_removed = 0

    def clean_group(self, group: list[LogSegment]) -> LogSegment:
        """Recopy a group of segments into one cleaned segment and swap it in."""
        cleaned = self.log.create_cleaned_segment(group[0].base_offset, self.now_ms)
        for segment in group:
            out = bytearray()
            batches: list[tuple[int, BatchHeader]] = []
            for _, header, data in segment.batches():
                kept = self.clean_batch(header, data)
                if kept is not None:
                    batches.append((len(out), read_batch_header(kept)))
                    out += kept
            if batches:
                cleaned.append(out, batches)
        self.log.replace_segments(cleaned, group)
        return cleaned

    def clean_batch(self, header: BatchHeader, data: bytes) -> bytes | None:
        """The batch as it survives cleaning: the original bytes, a re-encoded batch, or None."""
        horizon = header.delete_horizon_ms
        keep_tombstones = horizon is None or self.now_ms < horizon
        records = list(iter_records(data, 0, header))
        retained = []
        for record in records:
            if record.offset > self.latest or (
                    record.key is not None and record.offset >= self.offsets.get(record.key, -1)
                    and (record.value is not None or keep_tombstones)):
                retained.append(record)
            elif record.value is None:
                self.tombstones_removed += 1
        self.read += len(records)
        self.removed += len(records) - len(retained)
        has_tombstones = any(record.value is None for record in retained)
        if len(retained) == len(records) and not (has_tombstones and horizon is None):
            return data
        if retained:
            if horizon is None and has_tombstones:
                horizon = self.now_ms + self.log.config.delete_retention_ms
            return encode_retained_batch(header, retained, horizon)
        if header.next_offset == self.first_uncleanable:
            # Kafka keeps the round's last batch, emptied, so its last offset is not lost.
            return encode_retained_batch(header, [], None)
        return None


def clean_log(log: PartitionLog, first_dirty_offset: int | None, now_ms: int, high_watermark: int) -> CleanResult:
    """Compact the closed segments of ``log`` below the high watermark if they are dirty enough.

    ``first_dirty_offset`` is the previous pass's ``next_dirty_offset`` (None: everything is
    dirty). The pass runs when the dirty ratio exceeds ``min.cleanable.dirty.ratio`` or a
    record is older than ``max.compaction.lag.ms``.
    """
    config = log.config
    segments = log.log_segments()
    start, end = log.log_start_offset, log.log_end_offset
    first_dirty = first_dirty_offset if first_dirty_offset is not None and start <= first_dirty_offset <= end else start
    if not config.compact:
        return _skip("cleanup.policy does not include compact", 0.0, first_dirty)
    first_uncleanable = _first_uncleanable_offset(log, segments, first_dirty, now_ms, high_watermark)
    clean_bytes = sum(s.size for s in segments if s.base_offset < first_dirty)
    first_dirty_segment = max(0, bisect.bisect_right(segments, first_dirty, key=lambda s: s.base_offset) - 1)
    dirty = [s for s in segments[first_dirty_segment:] if s.base_offset < first_uncleanable]
    dirty_bytes = sum(s.size for s in dirty)
    ratio = dirty_bytes / (clean_bytes + dirty_bytes) if clean_bytes + dirty_bytes else 0.0
    if dirty_bytes == 0:
        return _skip("no closed segment below the high watermark is dirty", ratio, first_dirty)
    if ratio <= config.min_cleanable_dirty_ratio and not _must_compact_now(log, dirty, now_ms):
        return _skip(f"dirty ratio {ratio:.2f} is not above min.cleanable.dirty.ratio {config.min_cleanable_dirty_ratio}",
                     ratio, first_dirty)
    offsets = _build_offset_map(dirty, first_dirty, first_uncleanable)
    if not offsets:
        return _skip("the dirty segments hold no keyed records", ratio, first_dirty)
    cleaning = _Pass(log, offsets, now_ms, first_uncleanable)
    end_offset = cleaning.latest + 1
    to_clean = [s for s in segments if s.base_offset < end_offset]
    bytes_before = sum(s.size for s in to_clean)
    new = [cleaning.clean_group(group) for group in _group_by_size(to_clean, config.segment_bytes)]
    return CleanResult(None, ratio, tuple(s.base_offset for s in to_clean), tuple(s.base_offset for s in new),
                       cleaning.read, cleaning.removed, cleaning.tombstones_removed, bytes_before,
                       sum(s.size for s in new), end_offset)
