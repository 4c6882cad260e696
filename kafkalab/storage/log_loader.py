"""Opening a partition's directory: tidy leftovers, then trust or recover the segments (Kafka's ``LogLoader``).

After a clean shutdown the recovery point equals the log end offset, so loading reads
only the active segment's last few batch headers, to check that it ends on a whole batch
there; if not, that segment is recovered. After a crash every segment from the one
holding the recovery point onwards is validated batch by batch; the log is cut at the
first bad batch and any later segments are deleted, exactly as ``LogLoader.recoverLog`` does.

Recovery also rebuilds what transactions left in those segments (Kafka 3.9 ``LogLoader.recoverSegment``
and ``LogSegment.recover``): producer state is brought to the first recovered segment from the
newest producer snapshot below it, every kept batch updates it, and each segment's ``.txnindex``
is written afresh from the ABORT markers found. A snapshot at the new log end then saves the
broker replaying the same batches again when the partition first needs its producers.
"""

from __future__ import annotations

import bisect
import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kafkalab.config import TopicConfig
from kafkalab.errors import Errors, KafkaError
from kafkalab.storage import producer_snapshot
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.files import (
    CLEANED_SUFFIX,
    DELETED_SUFFIX,
    LOG_SUFFIX,
    SWAP_SUFFIX,
    TEMP_SUFFIX,
    KafkaStorageError,
    parse_partition_dir_name,
    parse_segment_file_name,
)
from kafkalab.storage.leader_epoch import LEADER_EPOCH_CHECKPOINT, LeaderEpochFileCache
from kafkalab.storage.producer_state import ProducerStateManager
from kafkalab.storage.results import RecoveryReport
from kafkalab.storage.segment import LogSegment


@dataclass(frozen=True)
class LoadedLog:
    """Everything a partition log starts from."""

    segments: tuple[LogSegment, ...]
    log_start_offset: int
    log_end_offset: int
    recovery_point: int
    leader_epoch_cache: LeaderEpochFileCache
    report: RecoveryReport


def _segment_files(directory: Path) -> dict[str, tuple[int, str, str]]:
    """``{file name: (base offset, extension, suffix)}`` of the segment files in ``directory``."""
    return {name: parsed for name in os.listdir(directory) if (parsed := parse_segment_file_name(name))}


def _tidy(directory: Path, open_segment: Callable[..., LogSegment]) -> tuple[list[int], list[str]]:
    """Delete leftovers, finish an interrupted compaction swap; return the segment base offsets and what was done."""
    notes = []
    for name in sorted(os.listdir(directory)):
        parsed = parse_segment_file_name(name)
        if name.endswith(TEMP_SUFFIX) or (parsed and parsed[2] in (CLEANED_SUFFIX, DELETED_SUFFIX)):
            (directory / name).unlink()
            notes.append(f"Deleted leftover file {name}.")
    files = _segment_files(directory)
    for name, (base, extension, suffix) in sorted(files.items()):
        if extension != LOG_SUFFIX or suffix != SWAP_SUFFIX:
            continue
        swap = open_segment(base, suffix=SWAP_SUFFIX)
        end = swap.next_offset
        for old_base, old_extension, old_suffix in files.values():
            if old_extension == LOG_SUFFIX and not old_suffix and base <= old_base < end:
                open_segment(old_base).delete()
        swap.change_suffix("")
        notes.append(f"Completed an interrupted compaction swap: {name} replaced the segments for offsets {base} to {end - 1}.")
    if notes:
        files = _segment_files(directory)
    logs = {(base, suffix) for base, extension, suffix in files.values() if extension == LOG_SUFFIX}
    for name, (base, extension, suffix) in sorted(files.items()):
        if extension != LOG_SUFFIX and (base, suffix) not in logs:
            (directory / name).unlink()
            notes.append(f"Deleted index file {name}, which had no log file.")
    return sorted(base for base, suffix in logs if not suffix), notes


def _load_epoch_cache(directory: Path, notes: list[str]) -> tuple[LeaderEpochFileCache, bool]:
    """The partition's leader epoch cache, and True when its checkpoint was unreadable and is rebuilt empty."""
    try:
        return LeaderEpochFileCache.in_directory(directory), False
    except KafkaStorageError:
        raise
    except KafkaError as exc:
        # Treated as missing, as Kafka treats a checkpoint it cannot use.
        (directory / LEADER_EPOCH_CHECKPOINT).unlink()
        notes.append(f"{exc.message} Rebuilt the leader epoch history from the log's batches.")
        return LeaderEpochFileCache.in_directory(directory), True


def _clean_state_is_consistent(active: LogSegment, recovery_point: int) -> bool:
    """True when a recovery point written at clean shutdown can be the log end offset of ``active``."""
    return active.base_offset <= recovery_point and (active.size == 0) == (recovery_point == active.base_offset)


def _save_recovered_producers(directory: Path, producers: ProducerStateManager, log_end_offset: int,
                              recovered: Sequence[LogSegment], notes: list[str]) -> None:
    """Drop producer snapshots the crash made stale and snapshot the rebuilt state at the log end (Kafka's
    ``rebuildProducerState`` after an unclean shutdown snapshots at the log end and truncates beyond it)."""
    for offset in producer_snapshot.snapshot_offsets(directory):
        if offset > log_end_offset:
            producer_snapshot.delete(directory, offset)
    if not producers.producers:
        return
    producers.end_offset = log_end_offset
    producer_snapshot.write(directory, log_end_offset, producers.snapshot_entries())
    aborted = sum(len(segment.txn_index.entries) for segment in recovered)
    notes.append(f"Rebuilt the state of {len(producers.producers)} producer(s) ({len(producers.ongoing)} with an "
                 f"open transaction) and the .txnindex of the recovered segments ({aborted} aborted "
                 f"transaction(s)) from their batches; saved a producer snapshot at offset {log_end_offset}.")


def load_log(directory: Path, config: TopicConfig, *, recovery_point: int, log_start_offset: int,
             had_clean_shutdown: bool, now_ms: int, handles: FileHandles) -> LoadedLog:
    """Open (creating if needed) the partition log in ``directory`` and recover it if the broker crashed."""
    parsed_dir = parse_partition_dir_name(directory.name)
    if parsed_dir is None:
        raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"{directory} is not a <topic>-<partition> log directory.")
    directory.mkdir(parents=True, exist_ok=True)
    open_segment = functools.partial(LogSegment.open_existing, directory, handles=handles,
                                     index_interval_bytes=config.index_interval_bytes, now_ms=now_ms)
    create_segment = functools.partial(LogSegment.create, directory, handles=handles,
                                       index_interval_bytes=config.index_interval_bytes, now_ms=now_ms)
    bases, notes = _tidy(directory, open_segment)
    segments = [open_segment(base) for base in bases] or [create_segment(log_start_offset)]
    cache, epochs_unreadable = _load_epoch_cache(directory, notes)
    checked = checked_bytes = truncated_bytes = 0
    truncated_segment = truncated_at = reason = None
    deleted: list[int] = []
    clean = had_clean_shutdown and _clean_state_is_consistent(segments[-1], recovery_point) and not epochs_unreadable
    if had_clean_shutdown and not clean and not epochs_unreadable:
        notes.append(f"The clean-shutdown marker was present but recovery point {recovery_point} does not fit the "
                     f"active segment {segments[-1].base_offset}; recovering as after a crash.")
    # Without an epoch history every segment is recovered: the batches' epochs rebuild it.
    first = 0 if epochs_unreadable else bisect.bisect_right([s.base_offset for s in segments], recovery_point) - 1
    first = max(0, first)
    if clean:
        tail_problem = segments[-1].check_tail(recovery_point)
        if tail_problem is not None:
            clean, first = False, len(segments) - 1
            notes.append(f"The clean-shutdown marker was present but {segments[-1].log_path.name} does not end on a "
                         f"whole batch at offset {recovery_point}; recovered that segment.")
    producers = None
    if not clean:
        producers = ProducerStateManager.for_recovery(directory, segments, log_start_offset, segments[first].base_offset)
        for index in range(first, len(segments)):
            segment = segments[index]
            result = segment.recover(contiguous_offsets=not config.compact, observe=producers.observe_recovered)
            checked += 1
            checked_bytes += result.valid_bytes + result.bytes_truncated
            for epoch, start in result.epoch_starts:
                if cache.latest_epoch is None or epoch > cache.latest_epoch:
                    cache.assign(epoch, start)
            if result.problem is not None:
                truncated_bytes, truncated_segment = result.bytes_truncated, segment.base_offset
                truncated_at, reason = result.valid_bytes, result.problem
                for later in segments[index + 1:]:
                    later.delete()
                    deleted.append(later.base_offset)
                del segments[index + 1:]
                break
    log_end_offset = segments[-1].next_offset
    if log_end_offset < log_start_offset:
        notes.append(f"The log ends at {log_end_offset}, before its start offset {log_start_offset}; "
                     f"deleted all segments and started empty at {log_start_offset}.")
        for segment in segments:
            segment.delete()
        segments = [create_segment(log_start_offset)]
        cache.clear()
        log_end_offset = log_start_offset
        producers = None
    if producers is not None:
        _save_recovered_producers(directory, producers, log_end_offset, segments[first:], notes)
    start = max(log_start_offset, segments[0].base_offset)
    cache.truncate_from_end(log_end_offset)
    cache.truncate_from_start(start)
    new_recovery_point = log_end_offset if clean else min(recovery_point, log_end_offset)
    topic, partition = parsed_dir
    report = RecoveryReport(
        topic=topic, partition=partition, clean_shutdown=clean, segments_checked=checked, bytes_checked=checked_bytes,
        bytes_truncated=truncated_bytes, truncated_segment=truncated_segment, truncated_at_position=truncated_at,
        truncation_reason=reason, deleted_segments=tuple(deleted),
        offsets_lost_from=log_end_offset if truncated_segment is not None else None, log_start_offset=start,
        log_end_offset=log_end_offset, recovery_point=new_recovery_point, notes=tuple(notes))
    return LoadedLog(tuple(segments), start, log_end_offset, new_recovery_point, cache, report)
