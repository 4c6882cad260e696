"""One replica's partition log: ordered segments in ``<log_dir>/<topic>-<partition>`` (Kafka's ``UnifiedLog``).

The leader assigns offsets by patching batch headers in place, never re-encoding records;
a follower appends the leader's bytes unchanged. Appends roll to a new segment when the
active one is full (``segment.bytes``) or old (``segment.ms``); retention deletes whole
closed segments below the high watermark. Every operation returns a frozen result the
broker layer turns into events. Not thread-safe: the broker's event loop owns the log.
"""

from __future__ import annotations

import bisect
import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from kafkalab.config import TopicConfig
from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.append_validation import Batches, recompress, validate_follower_batches, validate_leader_batches
from kafkalab.storage.compression import target_compression
from kafkalab.storage.file_handles import SHARED_FILE_HANDLES, FileHandles
from kafkalab.storage.files import (
    CLEANED_SUFFIX,
    SWAP_SUFFIX,
    KafkaStorageError,
    delete_dir_name,
    fsync_directory,
)
from kafkalab.storage.leader_epoch import EpochEntry, LeaderEpochFileCache
from kafkalab.storage.log_dir_failure import LogDirFailureChannel
from kafkalab.storage.log_loader import load_log
from kafkalab.storage.records import (
    NO_TIMESTAMP,
    BatchHeader,
    Record,
    TimestampType,
    decode_batch,
    iter_batch_headers,
    set_log_append_time,
    set_offset_and_epoch,
)
from kafkalab.storage.results import (
    DeletedSegment,
    LogAppendInfo,
    RecoveryReport,
    RetentionResult,
    RolledSegment,
    SegmentInfo,
    TruncationResult,
)
from kafkalab.storage.segment import LogSegment
from kafkalab.storage.txn_index import AbortedTxn

P = ParamSpec("P")
R = TypeVar("R")


def _io(operation: str) -> Callable[[Callable[Concatenate[PartitionLog, P], R]],
                                    Callable[Concatenate[PartitionLog, P], R]]:
    """Run a log operation inside its log dir's failure channel (Kafka's ``maybeHandleIOException``).

    ``PartitionLog._append``, the write of both appends, guards itself the same way without the decorator's call.
    """

    def decorate(method: Callable[Concatenate[PartitionLog, P], R]) -> Callable[Concatenate[PartitionLog, P], R]:
        @functools.wraps(method)
        def guarded(*args: Any, **kwargs: Any) -> R:
            # try/except rather than ``failures.guard``: a generator context manager per read and append costs
            # more than the read of an idle partition itself. The log stays in ``args``: passing it on apart
            # would build a second argument tuple per call.
            try:
                return method(*args, **kwargs)
            except (OSError, KafkaStorageError) as exc:
                log: PartitionLog = args[0]
                raise log.failures.failed(log.directory, operation, exc) from None
        return guarded

    return decorate


def _unwatched() -> None:
    """A log nobody describes yet is told nothing."""


class PartitionLog:
    """The segments, offsets and leader epoch history of one partition replica on one broker."""

    def __init__(self, directory: Path, topic: str, partition: int, config: TopicConfig, *,
                 segments: Sequence[LogSegment], log_start_offset: int, log_end_offset: int, recovery_point: int,
                 leader_epoch_cache: LeaderEpochFileCache, handles: FileHandles, now_ms: int,
                 failures: LogDirFailureChannel) -> None:
        self.directory = directory
        #: ``<topic>-<partition>``, as Kafka names a partition in messages: every append's checks name it.
        self.name = directory.name
        #: Where this log reports the file system refusing an operation.
        self.failures = failures
        self.topic = topic
        self.partition = partition
        self.leader_epoch_cache = leader_epoch_cache
        self._config = config
        self._follow_config(config)
        self._handles = handles
        self._segments = list(segments)
        #: Told of every change to the offsets or the bytes a view shows (appends, truncation, retention,
        #: DeleteRecords, compaction), so the broker's replica descriptions (``broker/replica_descriptions.py``)
        #: redo this replica's alone instead of looking at every log for each snapshot.
        self.on_change: Callable[[], None] = _unwatched
        # Attributes rather than properties, read-only outside this class: every fetch, append and
        # replication check reads them, some 35 times per acks=all request (a property is a Python call).
        #: The first offset a consumer may fetch.
        self.log_start_offset = log_start_offset
        #: The offset the next appended record gets (LEO).
        self.log_end_offset = log_end_offset
        self._recovery_point = recovery_point
        self._last_flush_ms = now_ms
        #: Segment files were created or deleted since the directory was last fsynced.
        self._directory_changed = False

    @classmethod
    def open(cls, directory: Path, config: TopicConfig, recovery_point: int, log_start_offset: int,
             had_clean_shutdown: bool, now_ms: int, handles: FileHandles = SHARED_FILE_HANDLES,
             failures: LogDirFailureChannel | None = None) -> tuple[PartitionLog, RecoveryReport]:
        """Open (or create) the log in ``directory``; after a crash, validate and repair its unflushed tail."""
        failures = failures or LogDirFailureChannel()
        with failures.guard(directory, "load"):
            loaded = load_log(directory, config, recovery_point=recovery_point, log_start_offset=log_start_offset,
                              had_clean_shutdown=had_clean_shutdown, now_ms=now_ms, handles=handles)
        log = cls(directory, loaded.report.topic, loaded.report.partition, config, segments=loaded.segments,
                  log_start_offset=loaded.log_start_offset, log_end_offset=loaded.log_end_offset,
                  recovery_point=loaded.recovery_point, leader_epoch_cache=loaded.leader_epoch_cache, handles=handles,
                  now_ms=now_ms, failures=failures)
        return log, loaded.report

    @property
    def config(self) -> TopicConfig:
        """The topic config the log currently follows."""
        return self._config

    def update_config(self, config: TopicConfig) -> None:
        """Follow a changed topic config from the next append, roll or retention pass on."""
        self._config = config
        self._follow_config(config)

    def _follow_config(self, config: TopicConfig) -> None:
        """Derive once per config what every leader append asks of it."""
        #: The codec batches are stored with (``compression.type``); None keeps the producer's.
        self._target_compression = target_compression(config.compression_type)
        #: The leader stamps batches with its own time (``message.timestamp.type=LogAppendTime``).
        self._log_append_time = (TimestampType.from_config(config.message_timestamp_type)
                                 is TimestampType.LOG_APPEND_TIME)

    @property
    def recovery_point(self) -> int:
        """Offsets below this are fsynced and need no validation after a crash."""
        return self._recovery_point

    @property
    def size_in_bytes(self) -> int:
        """Bytes in all segments."""
        segments = self._segments
        if len(segments) == 1:  # most logs: a snapshot asks every replica, every frame
            return segments[0].size
        return sum(segment.size for segment in segments)

    def segments(self) -> tuple[SegmentInfo, ...]:
        """Every segment, oldest first, for the disk view."""
        infos = []
        for index, segment in enumerate(self._segments):
            active = index == len(self._segments) - 1
            log_file, index_file, time_index_file = segment.file_names
            infos.append(SegmentInfo(
                base_offset=segment.base_offset,
                next_offset=self.log_end_offset if active else self._segments[index + 1].base_offset,
                size_bytes=segment.size, largest_timestamp=segment.largest_timestamp, log_file=log_file,
                index_file=index_file, time_index_file=time_index_file, is_active=active))
        return tuple(infos)

    @property
    def active_segment_base(self) -> int:
        """Base offset of the segment appends go to: it changes when the log rolls."""
        return self._segments[-1].base_offset

    def log_segments(self) -> tuple[LogSegment, ...]:
        """The segment objects, oldest first (for the cleaner)."""
        return tuple(self._segments)

    @_io("write")
    def start_leader_epoch(self, epoch: int) -> None:
        """Note that leader epoch ``epoch`` starts at the log end offset (a new leader's first act)."""
        self.leader_epoch_cache.assign(epoch, self.log_end_offset)

    def validate_as_leader(self, batches: bytes, from_coordinator: bool = False) -> Batches:
        """A producer's batches checked before anything is written (Kafka's ``analyzeAndValidateRecords`` and
        ``LogValidator``), each with its header; raises the first problem found.

        Only a transaction coordinator's markers (``from_coordinator``, Kafka's ``AppendOrigin.COORDINATOR``)
        may be control batches.
        """
        return validate_leader_batches(batches, self._config, self.name, from_coordinator)

    def append_as_leader(self, batches: bytes, leader_epoch: int, now_ms: int, from_coordinator: bool = False,
                         checked: Batches | None = None) -> LogAppendInfo:
        """Validate a producer's batches, assign them offsets from the LEO and the leader epoch, and append them.

        ``checked`` is what ``validate_as_leader`` returned for ``batches`` when the caller validated them
        first: Kafka checks the producers' sequences after validation and before the write, with the same headers.
        """
        if checked is None:
            checked = self.validate_as_leader(batches, from_coordinator)
        target = self._target_compression
        if target is not None and any(header.compression is not target for _, header in checked):
            batches = recompress(batches, checked, target)
            checked = list(iter_batch_headers(batches))
        buf = bytearray(batches)
        log_append_time = self._log_append_time
        offset = self.log_end_offset
        stamped = []
        for position, produced in checked:
            header = set_offset_and_epoch(buf, position, produced, offset, leader_epoch)
            if log_append_time:
                header = set_log_append_time(buf, position, header, now_ms)
            stamped.append((position, header))
            offset += header.last_offset_delta + 1
        return self._append(buf, stamped, now_ms, now_ms if log_append_time else NO_TIMESTAMP)

    def append_as_follower(self, batches: bytes, now_ms: int) -> LogAppendInfo:
        """Append the leader's batches unchanged; they must continue this log at its LEO."""
        checked = validate_follower_batches(batches, self._config, self.name, self.log_end_offset)
        return self._append(batches, checked, now_ms, NO_TIMESTAMP)

    def _append(self, buf: bytes | bytearray, batches: Batches, now_ms: int, log_append_time: int) -> LogAppendInfo:
        """Write the validated ``batches`` (positions in ``buf``), rolling before any that must start a new segment,
        then note the leader epochs they start (from their partition leader epochs) and flush if ``flush.messages``
        says so; the one pass over the batches gathers what the result reports."""
        # Guarded here, as @_io guards the other operations, rather than by @_io on the two appends: the decorator's
        # call through *args and **kwargs cost each of the three appends of an acks=all request about 2 k instructions.
        try:
            rolled: list[RolledSegment] = []
            epochs: list[tuple[int, int]] = []
            record_count, producer_batches, epoch_before = 0, False, -1
            # The batches from index ``begin`` on, starting at ``start`` in ``buf``, go to the active segment;
            # a batch that must start a new segment writes those before it first.
            start = batches[0][0] if batches else 0
            begin = 0
            for index, (position, header) in enumerate(batches):
                reason = self._segments[-1].roll_reason(position - start, header, now_ms, self._config)
                if reason is not None:
                    self._write_chunk(buf, start, position, batches[begin:index])
                    rolled.append(self._roll(header.base_offset, reason, now_ms))
                    start, begin = position, index
                # Kafka assigns every batch's epoch (``maybeAssignEpochStartOffset``); one of the epoch of the batch
                # before it would change nothing.
                epoch = header.partition_leader_epoch
                if epoch != epoch_before and epoch >= 0:
                    epochs.append((epoch, header.base_offset))
                    epoch_before = epoch
                record_count += header.record_count
                if header.producer_id >= 0:
                    producer_batches = True
            self._write_chunk(buf, start, len(buf), batches[begin:] if begin else batches)
            started = []
            for epoch, offset in epochs:  # a loop, not a comprehension: its own frame per append
                if self.leader_epoch_cache.assign(epoch, offset):
                    started.append(EpochEntry(epoch, offset))
            flushed = self.log_end_offset - self._recovery_point >= self._config.flush_messages
            if flushed:
                self.flush(now_ms)
            first_offset = batches[0][1].base_offset if batches else self.log_end_offset
            # Positional: built by every append of every replica, and nine keywords cost some 4 k instructions.
            return LogAppendInfo(first_offset, self.log_end_offset - 1, log_append_time, self.log_start_offset,
                                 record_count, tuple(rolled), tuple(started), flushed, producer_batches)
        except (OSError, KafkaStorageError) as exc:
            raise self.failures.failed(self.directory, "append to", exc) from None

    def _write_chunk(self, buf: bytes | bytearray, start: int, end: int, chunk: Batches) -> None:
        """Append ``buf[start:end]``, holding ``chunk`` (positions in ``buf``), to the active segment."""
        if not chunk:
            return
        if start == 0 and end == len(buf):  # the usual append: every batch into one segment, no view to cut
            self.log_end_offset = self._segments[-1].append(buf, chunk)
        else:
            with memoryview(buf) as view, view[start:end] as part:
                self.log_end_offset = self._segments[-1].append(
                    part, [(position - start, header) for position, header in chunk])
        self.on_change()

    def _roll(self, new_base_offset: int, reason: str, now_ms: int) -> RolledSegment:
        """Seal the active segment and start a new one; the sealed one is flushed, as Kafka's roll schedules."""
        old = self._segments[-1]
        old.on_become_inactive()
        self._segments.append(self._create_segment(new_base_offset, now_ms))
        self._flush_segments()
        self._recovery_point = max(self._recovery_point, new_base_offset)
        return RolledSegment(old.base_offset, new_base_offset, reason)

    def _delete_segment(self, segment: LogSegment) -> None:
        self._directory_changed = True
        segment.delete()

    def _create_segment(self, base_offset: int, now_ms: int, suffix: str = "") -> LogSegment:
        self._directory_changed = True
        return LogSegment.create(self.directory, base_offset, handles=self._handles,
                                 index_interval_bytes=self._config.index_interval_bytes, now_ms=now_ms, suffix=suffix)

    def replay(self, read_bytes: int) -> Iterator[tuple[BatchHeader, tuple[Record, ...]]]:
        """Every batch from the log start to its end, decoded, read ``read_bytes`` at a time.

        How a coordinator loads its state partition (``__consumer_offsets``, ``__transaction_state``);
        a damaged batch raises as ``read`` does, after the batches before it were given.
        """
        position = self.log_start_offset
        while position < self.log_end_offset:
            data = self.read(position, read_bytes)
            if not data:
                return
            for pos, header in iter_batch_headers(data):
                yield header, decode_batch(data, pos)[1]
                position = header.next_offset

    @_io("read")
    def read(self, fetch_offset: int, max_bytes: int, max_offset: int | None = None,
             min_one_message: bool = True) -> bytes:
        """Whole batches from the one holding ``fetch_offset``, none reaching ``max_offset`` (the high watermark).

        At most ``max_bytes`` unless the first batch alone is larger and ``min_one_message``
        (KIP-74). OFFSET_OUT_OF_RANGE outside [log start offset, log end offset].
        """
        if not self.log_start_offset <= fetch_offset <= self.log_end_offset:
            raise KafkaError(Errors.OFFSET_OUT_OF_RANGE,
                             f"Received request for offset {fetch_offset} for partition {self.name}, but we only have "
                             f"log segments in the range {self.log_start_offset} to {self.log_end_offset}.")
        end = self.log_end_offset
        if fetch_offset == end:
            return b""
        segments = self._segments
        # A follower's or a consumer's read at the tail is of the active segment, found without a search.
        first = len(segments) - 1 if fetch_offset >= segments[-1].base_offset else self._segment_holding(fetch_offset)
        for segment in segments[first:]:
            data = segment.read(fetch_offset, max_bytes, max_offset, min_one_message, end)
            if data is not None:
                return data
        return b""

    def _segment_holding(self, offset: int) -> int:
        """Index of the last segment whose base offset is at or below ``offset`` (0 if none is)."""
        return max(0, bisect.bisect_right(self._segments, offset, key=lambda s: s.base_offset) - 1)

    @_io("append to")
    def append_aborted_txn(self, txn: AbortedTxn) -> None:
        """Index a transaction whose ABORT marker was just appended, in the active segment (``updateTxnIndex``)."""
        self._segments[-1].txn_index.append(txn)

    @_io("read")
    def collect_aborted_txns(self, fetch_offset: int, upper_bound: int) -> list[AbortedTxn]:
        """Aborted transactions overlapping [fetch_offset, upper_bound), for a read_committed fetch
        (``UnifiedLog.collectAbortedTransactions``): markers of those are in the segment holding
        ``fetch_offset`` or later ones."""
        segments = self._segments
        if fetch_offset >= segments[-1].base_offset:  # a read_committed fetch at the tail, as ``read`` finds it
            return segments[-1].txn_index.collect(fetch_offset, upper_bound)
        return [txn for segment in segments[self._segment_holding(fetch_offset):]
                for txn in segment.txn_index.collect(fetch_offset, upper_bound)]

    @_io("truncate")
    def truncate_to(self, offset: int, now_ms: int) -> TruncationResult:
        """Remove the batch holding ``offset`` and everything after it (a follower's truncation)."""
        if offset < 0:
            raise ValueError(f"cannot truncate {self.name} to negative offset {offset}")
        old = self.log_end_offset
        if offset >= old:
            # Kafka truncates the epoch cache even then: a leader may have cached an epoch
            # start it never wrote a record for before losing leadership.
            self.leader_epoch_cache.truncate_from_end(old)
            return TruncationResult(old, old, 0, ())
        if self._segments[0].base_offset > offset:
            return self.truncate_fully_and_start_at(offset, now_ms)
        removed, deleted = 0, []
        while self._segments[-1].base_offset > offset:
            segment = self._segments.pop()
            removed += segment.size
            deleted.append(segment.base_offset)
            self._delete_segment(segment)
        active = self._segments[-1]
        removed += active.truncate_to(offset)
        self.on_change()
        self.log_end_offset = active.next_offset
        self._recovery_point = min(self._recovery_point, self.log_end_offset)
        self.log_start_offset = min(self.log_start_offset, self.log_end_offset)
        self.leader_epoch_cache.truncate_from_end(self.log_end_offset)
        return TruncationResult(old, self.log_end_offset, removed, tuple(deleted))

    @_io("truncate")
    def truncate_fully_and_start_at(self, offset: int, now_ms: int) -> TruncationResult:
        """Delete every segment and start empty at ``offset`` (a follower far behind the leader's log start)."""
        old = self.log_end_offset
        removed = self.size_in_bytes
        deleted = tuple(segment.base_offset for segment in self._segments)
        for segment in self._segments:
            self._delete_segment(segment)
        self._segments = [self._create_segment(offset, now_ms)]
        self.log_start_offset = self.log_end_offset = self._recovery_point = offset
        self.on_change()
        self.leader_epoch_cache.clear()
        return TruncationResult(old, offset, removed, deleted)

    def _flush_segments(self) -> None:
        """fsync the segments from the one holding the recovery point on, and the directory if files came or went."""
        first = max(0, bisect.bisect_right(self._segments, self._recovery_point, key=lambda s: s.base_offset) - 1)
        for segment in self._segments[first:]:
            segment.flush()
        if self._recovery_point < self.log_end_offset:
            # Only entries of records about to pass the recovery point must be durable: the loader
            # cuts the cache to the log's bounds, so any other change is made again on the next start.
            self.leader_epoch_cache.flush()
        if self._directory_changed:
            fsync_directory(self.directory)
            self._directory_changed = False

    @_io("flush")
    def flush(self, now_ms: int) -> None:
        """fsync everything above the recovery point and move the recovery point to the LEO."""
        self._flush_segments()
        self._recovery_point = self.log_end_offset
        self._last_flush_ms = now_ms

    @_io("flush")
    def flush_if_due(self, now_ms: int) -> bool:
        """Flush when ``flush.ms`` has passed since the last flush (Kafka's log flusher); return whether it did."""
        if self._recovery_point < self.log_end_offset and now_ms - self._last_flush_ms >= self._config.flush_ms:
            self.flush(now_ms)
            return True
        return False

    @_io("write")
    def maybe_increment_log_start_offset(self, offset: int) -> bool:
        """Raise the log start offset (DeleteRecords); the caller keeps it at or below the high watermark."""
        if offset > self.log_end_offset:
            raise KafkaError(Errors.OFFSET_OUT_OF_RANGE,
                             f"Cannot increment the log start offset of {self.name} to {offset} since it is larger "
                             f"than the log end offset {self.log_end_offset}.")
        if offset <= self.log_start_offset:
            return False
        self.log_start_offset = offset
        self.on_change()
        self.leader_epoch_cache.truncate_from_start(offset)
        return True

    @_io("delete")
    def delete_old_segments(self, now_ms: int, high_watermark: int) -> RetentionResult:
        """Delete segments below the high watermark that retention no longer keeps (Kafka 3.9 ``deleteOldSegments``).

        Segments wholly below the log start offset go whatever the policy; with
        ``cleanup.policy`` delete, so do the oldest while the log exceeds ``retention.bytes``
        and those whose largest timestamp is older than ``retention.ms``, in that order.
        The active segment goes too once it is wholly committed and expired: the log rolls
        an empty segment at its end first, so a quiet topic can empty out (log start = log end).
        """
        config = self._config
        old_start = self.log_start_offset
        rolled: list[RolledSegment] = []
        deleted = self._delete_prefix(
            lambda s, following: following is not None and following.base_offset <= self.log_start_offset,
            "log.start.offset", high_watermark, now_ms, rolled)
        if config.delete and config.retention_bytes >= 0 and self.size_in_bytes >= config.retention_bytes:
            excess = self.size_in_bytes - config.retention_bytes

            def over_size(segment: LogSegment, following: LogSegment | None) -> bool:
                nonlocal excess
                if excess < segment.size:
                    return False
                excess -= segment.size
                return True

            deleted += self._delete_prefix(over_size, "retention.bytes", high_watermark, now_ms, rolled)
        if config.delete and config.retention_ms >= 0:
            # A segment without timestamps (largest -1) counts as expired; Kafka falls back to the
            # file's mtime there, which would bring the wall clock into the log.
            deleted += self._delete_prefix(lambda s, following: now_ms - s.largest_timestamp > config.retention_ms,
                                           "retention.ms", high_watermark, now_ms, rolled)
        return RetentionResult(tuple(deleted), old_start, self.log_start_offset, tuple(rolled))

    def _delete_prefix(self, predicate: Callable[[LogSegment, LogSegment | None], bool], reason: str,
                       high_watermark: int, now_ms: int, rolled: list[RolledSegment]) -> list[DeletedSegment]:
        """Kafka 3.9 ``UnifiedLog.deletableSegments`` then ``deleteSegments``, oldest first."""
        segments = self._segments
        count = 0
        while count < len(segments):
            segment = segments[count]
            following = segments[count + 1] if count + 1 < len(segments) else None
            upper_bound = following.base_offset if following is not None else self.log_end_offset
            # Nothing at or past the high watermark goes, so the log start never passes it; an
            # empty active segment is never deletable.
            if high_watermark < upper_bound or (following is None and segment.size == 0) \
                    or not predicate(segment, following):
                break
            count += 1
        if count == len(segments) and count:
            # Kafka keeps at least one segment: deleting them all rolls a new, empty one first.
            rolled.append(self._roll(self.log_end_offset, reason, now_ms))
        deleted = []
        for index, segment in enumerate(self._segments[:count]):
            next_offset = self._segments[index + 1].base_offset
            deleted.append(DeletedSegment(segment.base_offset, next_offset, segment.size,
                                          next_offset - segment.base_offset, segment.largest_timestamp, reason))
            self._delete_segment(segment)
        if count:
            del self._segments[:count]
            self.log_start_offset = max(self.log_start_offset, self._segments[0].base_offset)
            self.on_change()
            self.leader_epoch_cache.truncate_from_start(self.log_start_offset)
        return deleted

    @_io("compact")
    def create_cleaned_segment(self, base_offset: int, now_ms: int) -> LogSegment:
        """A new ``.cleaned`` segment for the cleaner to write into (Kafka's ``createNewCleanedSegment``)."""
        return self._create_segment(base_offset, now_ms, CLEANED_SUFFIX)

    @_io("compact")
    def replace_segments(self, cleaned: LogSegment, old: Sequence[LogSegment]) -> None:
        """Swap a cleaned segment in for ``old`` crash-safely: ``.cleaned`` -> ``.swap``, delete old, drop the suffix."""
        for segment in old:  # the markers of aborted transactions stay, so their index entries do too
            for txn in segment.txn_index.entries:
                cleaned.txn_index.append(txn)
        cleaned.on_become_inactive()
        cleaned.change_suffix(SWAP_SUFFIX)
        replaced = {id(segment) for segment in old}
        for segment in old:
            self._delete_segment(segment)
        cleaned.change_suffix("")
        self._segments = sorted([s for s in self._segments if id(s) not in replaced] + [cleaned],
                                key=lambda s: s.base_offset)
        self.on_change()

    @_io("close")
    def close(self) -> None:
        """Clean close: flush everything (recovery point = LEO), write the indexes, release descriptors."""
        self._flush_segments()
        for segment in self._segments:
            segment.close()
        self._recovery_point = self.log_end_offset

    def close_abruptly(self) -> None:
        """Simulate a crash: release descriptors and write nothing more."""
        for segment in self._segments:
            segment.close_abruptly()

    @_io("delete")
    def delete(self) -> None:
        """Close the log and remove its directory, renamed first so a crash midway leaves no half log behind."""
        for segment in self._segments:
            segment.close_abruptly()
        doomed = self.directory.with_name(delete_dir_name(self.topic, self.partition, uuid.uuid4().hex))
        os.replace(self.directory, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
