"""One log segment: a ``.log`` file of record batches, its sparse indexes and its ``.txnindex`` (Kafka's ``LogSegment``).

Appends go to the OS with ``pwrite`` before ``append`` returns, because the broker acks
right after and a killed process must not lose acknowledged data; there is no Python
buffering. Descriptors come from a shared :class:`FileHandles` pool, so an idle segment
costs no descriptor. Indexes stay in memory and reach disk on flush, roll and close.
"""

from __future__ import annotations

import bisect
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from kafkalab.config import TopicConfig
from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.files import (
    INDEX_SUFFIX,
    LOG_SUFFIX,
    TIME_INDEX_SUFFIX,
    TXN_INDEX_SUFFIX,
    segment_file,
    storage_error,
    storage_errors,
)
from kafkalab.storage.offset_index import OffsetIndex
from kafkalab.storage.records import (
    BATCH_OVERHEAD,
    LOG_OVERHEAD,
    NO_TIMESTAMP,
    BatchHeader,
    crc_problem,
    read_batch_header,
)
from kafkalab.storage.results import SegmentRecovery
from kafkalab.storage.sparse_index import CorruptIndexError
from kafkalab.storage.time_index import TimeIndex
from kafkalab.storage.txn_index import AbortedTxn, TransactionIndex

#: Bytes read at a time when walking batch headers.
_BLOCK = 64 * 1024
_RECENT_BATCHES = 64
_MAX_POSITION = 2**63
#: Index entries hold positions and relative offsets as int32 (Kafka's ``canConvertToRelativeOffset``).
INT32_MAX = 2**31 - 1


#: Told each batch recovery keeps (header, bytes holding the whole batch, its position there); returns the
#: aborted transaction its ABORT marker ends, for the ``.txnindex`` (Kafka's ``LogSegment.updateProducerState``).
BatchObserver = Callable[[BatchHeader, bytes, int], AbortedTxn | None]


class CorruptSegmentError(KafkaError):
    """CORRUPT_MESSAGE from reading a segment: which file, where in it, and what is wrong there."""

    def __init__(self, log_path: Path, position: int, base_offset: int | None, problem: str) -> None:
        self.log_path = log_path
        self.position = position
        #: The first offset of the damaged batch, when its header could still be read.
        self.base_offset = base_offset
        self.problem = problem
        super().__init__(Errors.CORRUPT_MESSAGE, f"{log_path}: {problem}")


class LogSegment:
    """A segment's files and in-memory state; not thread-safe (the broker's loop owns it)."""

    def __init__(self, directory: Path, base_offset: int, *, handles: FileHandles, index_interval_bytes: int,
                 size: int, created_ms: int, suffix: str, on_disk: bool) -> None:
        self.directory = directory
        self.base_offset = base_offset
        self.created_ms = created_ms
        self._handles = handles
        self._index_interval_bytes = index_interval_bytes
        self._size = size
        self._log_path = segment_file(directory, base_offset, LOG_SUFFIX, suffix)
        #: Its name as the descriptor pool keys it, for the reads and appends (a ``Path``'s ``str`` is a Python call).
        self._log_file = str(self._log_path)
        self.offset_index = OffsetIndex(segment_file(directory, base_offset, INDEX_SUFFIX, suffix), base_offset, on_disk=on_disk)
        self.time_index = TimeIndex(segment_file(directory, base_offset, TIME_INDEX_SUFFIX, suffix), base_offset, on_disk=on_disk)
        self.txn_index = TransactionIndex(segment_file(directory, base_offset, TXN_INDEX_SUFFIX, suffix))
        self._indexes_ready = not on_disk
        self._max_timestamp = NO_TIMESTAMP
        self._offset_of_max_timestamp = base_offset
        self._bytes_since_index_entry = 0
        self._first_batch_timestamp: int | None = None if on_disk else NO_TIMESTAMP
        self._next_offset: int | None = None if on_disk else base_offset
        self._unflushed = False
        #: (base offset, position) of the latest appended batches: fetches near the end start there, not at the index floor.
        self._recent: deque[tuple[int, int]] = deque(maxlen=_RECENT_BATCHES)
        #: Entries of the offset and time index as ``roll_reason`` last counted them, None once either may have
        #: changed (Kafka's ``AbstractIndex`` keeps its count): every append asks, and ``len()`` of each costs 1 k
        #: instructions, while an entry comes only every ``index.interval.bytes``.
        self._index_entries: tuple[int, int] | None = None

    @classmethod
    def create(cls, directory: Path, base_offset: int, *, handles: FileHandles, index_interval_bytes: int,
               now_ms: int, suffix: str = "") -> LogSegment:
        """Create an empty segment whose first offset will be ``base_offset``."""
        path = segment_file(directory, base_offset, LOG_SUFFIX, suffix)
        if os.fstat(handles.get(path, create=True)).st_size:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Cannot create segment {path}: a non-empty file with that name exists.")
        return cls(directory, base_offset, handles=handles, index_interval_bytes=index_interval_bytes, size=0,
                   created_ms=now_ms, suffix=suffix, on_disk=False)

    @classmethod
    def open_existing(cls, directory: Path, base_offset: int, *, handles: FileHandles, index_interval_bytes: int,
                      now_ms: int, suffix: str = "") -> LogSegment:
        """Open a segment already on disk, reading nothing but the log file's size."""
        size = os.stat(segment_file(directory, base_offset, LOG_SUFFIX, suffix)).st_size
        return cls(directory, base_offset, handles=handles, index_interval_bytes=index_interval_bytes, size=size,
                   created_ms=now_ms, suffix=suffix, on_disk=True)

    @property
    def log_path(self) -> Path:
        """The ``.log`` file."""
        return self._log_path

    @property
    def file_names(self) -> tuple[str, str, str]:
        """Names of the log, offset index and time index files."""
        return self.log_path.name, self.offset_index.path.name, self.time_index.path.name

    @property
    def size(self) -> int:
        """Bytes in the log file."""
        return self._size

    def read_bytes(self, position: int, size: int) -> bytes:
        """Read ``size`` bytes of log data at ``position`` (every read of segment data comes here)."""
        try:
            return os.pread(self._handles.get(self._log_file), size, position)
        except OSError as exc:
            raise storage_error(self._log_path, "read", exc) from None

    def _ensure_indexes(self) -> None:
        if self._indexes_ready:
            return
        try:
            self.offset_index.load()
            self.time_index.load()
            if len(self.offset_index) and self.offset_index.last_position >= self._size:
                raise CorruptIndexError(f"{self.offset_index.path.name} points past the end of the log.")
            self._max_timestamp, self._offset_of_max_timestamp = self.time_index.last_entry()
        except CorruptIndexError:
            self._rebuild_indexes()
        self._indexes_ready = True

    def _rebuild_indexes(self) -> None:
        """Index the log from scratch; damaged data ends the index early, and reading there reports the damage."""
        self._index_entries = None
        self.offset_index.reset()
        self.time_index.reset()
        self._recent.clear()
        self._max_timestamp, self._offset_of_max_timestamp = NO_TIMESTAMP, self.base_offset
        self._bytes_since_index_entry = 0
        self._indexes_ready = True
        try:
            for position, header, _, _ in self._walk(0, whole=False):
                self._index_batch(position, header)
        except CorruptSegmentError:
            pass
        self.time_index.maybe_append(self._max_timestamp, self._offset_of_max_timestamp)
        self.offset_index.write()
        self.time_index.write()

    def _index_batch(self, position: int, header: BatchHeader) -> None:
        """Account one batch at ``position``, adding index entries as Kafka's ``LogSegment.append`` does."""
        last_offset = header.base_offset + header.last_offset_delta  # not the property: every append asks
        if header.max_timestamp > self._max_timestamp:
            self._max_timestamp, self._offset_of_max_timestamp = header.max_timestamp, last_offset
        if self._bytes_since_index_entry > self._index_interval_bytes:
            self._index_entries = None
            self.offset_index.append(last_offset, position)
            self.time_index.maybe_append(self._max_timestamp, self._offset_of_max_timestamp)
            self._bytes_since_index_entry = 0
        self._bytes_since_index_entry += header.batch_length + LOG_OVERHEAD

    def _header_at(self, position: int, floor: int | None, block: bytes, block_start: int,
                   block_bytes: int = _BLOCK) -> tuple[BatchHeader, bytes, int]:
        """The header of the batch at ``position``, checked, with the block holding it and where that block starts.

        ``block`` (read at ``block_start``) serves when it holds the whole header; otherwise
        ``block_bytes`` (less at the segment's end) are read at ``position``. Raises
        CorruptSegmentError at a malformed batch, one reaching past the segment's end, or one
        whose offsets go back below ``floor`` (where the batch before it ended): offsets only
        ever grow in a log, and the base offset lies outside the CRC, so this is its only check
        on read. Every walk over batch headers checks each one here.
        """
        rel = position - block_start
        if len(block) - rel < BATCH_OVERHEAD:
            left = self._size - position  # a block, or what is left of the segment (without a min call)
            block, block_start, rel = self.read_bytes(position, block_bytes if block_bytes < left else left), position, 0
        try:
            header = read_batch_header(block, rel, file_position=position)
        except KafkaError as exc:
            raise CorruptSegmentError(self.log_path, position, None, exc.message) from None
        size = header.batch_length + LOG_OVERHEAD
        if position + size > self._size:
            raise CorruptSegmentError(self.log_path, position, header.base_offset,
                                      f"Record batch at position {position} is truncated: it is {size} bytes "
                                      f"but only {self._size - position} remain in the segment.")
        if (floor is not None and header.base_offset < floor) or header.last_offset_delta < 0:
            raise CorruptSegmentError(self.log_path, position, None,
                                      f"Record batch at position {position} claims offsets {header.base_offset}-"
                                      f"{header.last_offset}, which do not follow offset {floor}.")
        return header, block, block_start

    def _walk(self, start: int, whole: bool, floor: int | None = None) -> Iterator[tuple[int, BatchHeader, bytes, int]]:
        """Yield ``(position, header, buffer, index in buffer)`` per batch from ``start``, each checked by ``_header_at``.

        With ``whole`` the buffer holds the entire batch; otherwise only its header is guaranteed.
        """
        position, end = start, self._size
        block, block_start = b"", start
        while position < end:
            header, block, block_start = self._header_at(position, floor, block, block_start)
            rel = position - block_start
            size = header.batch_length + LOG_OVERHEAD
            if whole and rel + size > len(block):
                block, block_start, rel = self.read_bytes(position, max(size, min(_BLOCK, end - position))), position, 0
            yield position, header, block, rel
            position += size
            floor = header.next_offset

    def batches(self, start: int = 0) -> Iterator[tuple[int, BatchHeader, bytes]]:
        """Yield ``(position, header, batch bytes)`` for every batch from ``start``."""
        for position, header, block, rel in self._walk(start, whole=True):
            yield position, header, block[rel:rel + header.batch_length + LOG_OVERHEAD]

    def headers(self, start: int = 0, floor: int | None = None) -> Iterator[tuple[int, BatchHeader]]:
        """Yield ``(position, header)`` for every batch from ``start`` without reading records."""
        for position, header, _, _ in self._walk(start, whole=False, floor=floor):
            yield position, header

    def find_batch(self, offset: int) -> tuple[int, BatchHeader] | None:
        """The first batch whose last offset is at or above ``offset``: index floor, then a header walk.

        The batch the walk starts at must hold the offset the index entry or the recent
        appends put there; a damaged base offset (outside the CRC) would otherwise hide
        batches. When the walk from an index entry fails, the index may be what is damaged:
        it is rebuilt from the log once (as Kafka rebuilds an index that fails its sanity
        check) and the walk tried again.
        """
        found = self._locate(offset)
        return None if found is None else (found[0], found[1])

    def _locate(self, offset: int, block_bytes: int = _BLOCK,
                rebuilt: bool = False) -> tuple[int, BatchHeader, bytes, int] | None:
        """``find_batch``, with the block holding the batch's header (read ``block_bytes`` at a time) and its position."""
        if not self._indexes_ready:
            self._ensure_indexes()
        recent = self._recent
        if recent and offset >= recent[0][0]:
            # Followers and consumers mostly fetch the newest batches: skip walking up to 4 KB of headers to them.
            # The recent batches are the segment's last ones, so no index entry points past the one found here.
            newest = recent[-1]
            anchor, start = newest if offset >= newest[0] else \
                recent[bisect.bisect_right(recent, (offset, _MAX_POSITION)) - 1]
            from_index = False
        else:
            anchor, start = self.offset_index.lookup(offset)
            from_index = start > 0
        if start >= self._size:
            return None
        # The first header must hold the offset that put the walk there: a recent batch's base offset, an index
        # entry's last offset, or (at position 0, where no index entry points) a base offset at least the segment's.
        try:
            header, block, block_start = self._header_at(start, None, b"", start, block_bytes)
            claimed = header.base_offset + header.last_offset_delta if from_index else header.base_offset
            if claimed != anchor and (start or claimed < anchor):
                raise CorruptSegmentError(self.log_path, start, None,
                                          f"Record batch at position {start} claims offsets "
                                          f"{header.base_offset}-{header.last_offset}, but offset {anchor} "
                                          f"was written there.")
            position = start
            while header.base_offset + header.last_offset_delta < offset:  # its last offset, without a property call
                position += header.batch_length + LOG_OVERHEAD
                if position >= self._size:
                    return None
                header, block, block_start = self._header_at(position, header.next_offset, block, block_start,
                                                             block_bytes)
        except CorruptSegmentError as exc:
            if rebuilt or not from_index or exc.position != start:
                raise
            # The damage is right where an index entry pointed: the index may be what is wrong.
            self._rebuild_indexes()
            return self._locate(offset, block_bytes, rebuilt=True)
        return position, header, block, block_start

    def read(self, offset: int, max_bytes: int, max_offset: int | None, min_one_batch: bool,
             end_offset: int) -> bytes | None:
        """Whole intact batches from the one holding ``offset``, none reaching ``max_offset``; None if nothing here.

        ``end_offset`` is the log end offset, which no intact batch reaches.

        Every batch read is checked against its CRC32C and the data ends before the first
        that fails; CorruptSegmentError when that is the first. Kafka's broker sends segment
        bytes unchecked (zero copy) and leaves the check to consumers (``check.crcs``) and
        followers; checking here as well costs one crc32c pass over bytes already in memory
        and lets the broker say which file and position hold the damage.
        """
        # The search reads as much as the fetch may take (and the next header): a follower, whose fetches
        # carry several batches, then finds its whole answer in the one block.
        block_bytes = max_bytes + BATCH_OVERHEAD
        found = self._locate(offset, block_bytes if block_bytes > _BLOCK else _BLOCK)
        if found is None:
            return None
        start, first, block, block_start = found
        # A consumer's read: its last offset against the high watermark (or LSO), without a property call.
        if max_offset is not None and first.base_offset + first.last_offset_delta >= max_offset:
            if first.last_offset >= end_offset:
                # A batch claiming offsets past the log's end is damaged (a flipped lastOffsetDelta): left
                # unchecked it would read as not yet committed, and its consumers would wait on it forever.
                problem = crc_problem(self.read_bytes(start, first.batch_length + LOG_OVERHEAD), 0, first)
                if problem is not None:
                    raise self._crc_failed(start, first, problem)
            return b""
        end = start + first.batch_length + LOG_OVERHEAD
        if end - start > max_bytes and not min_one_batch:
            return b""
        later: list[tuple[int, BatchHeader]] = []
        if end < self._size:
            limit, floor, walked, walked_start = start + max_bytes, first.next_offset, block, block_start
            try:
                # Walked on in the block that holds the first batch: a fetch at the tail reads it once. A batch is
                # at least a header long, so a header starting too late to fit in ``max_bytes`` is not read.
                while end < self._size and end + BATCH_OVERHEAD <= limit:
                    header, walked, walked_start = self._header_at(end, floor, walked, walked_start)
                    last = header.base_offset + header.last_offset_delta  # without a property call per batch
                    if (max_offset is not None and last >= max_offset) or (
                            end + header.batch_length + LOG_OVERHEAD > limit):
                        break
                    later.append((end, header))
                    end += header.batch_length + LOG_OVERHEAD
                    floor = last + 1
            except CorruptSegmentError:
                pass  # serve the intact batches; the next read starts at the damage and reports it
        # The walk that found the first batch read the block holding its header (up to max_bytes, never past
        # the segment's end): a follower or consumer at the tail finds all it reads there, without a second pread.
        rel = start - block_start
        data = block[rel:rel + end - start] if rel + end - start <= len(block) else self.read_bytes(start, end - start)
        problem = crc_problem(data, 0, first)
        if problem is not None:
            raise self._crc_failed(start, first, problem)
        for position, header in later:
            if crc_problem(data, position - start, header) is not None:
                return data[:position - start]
        return data

    def _crc_failed(self, position: int, header: BatchHeader, problem: str) -> CorruptSegmentError:
        """The error for the batch at ``position`` failing its CRC32C check (``problem`` says how)."""
        return CorruptSegmentError(self.log_path, position, header.base_offset,
                                   f"The batch of offsets {header.base_offset}-{header.last_offset} "
                                   f"failed its CRC32C check: {problem}.")

    def append(self, data: bytes | bytearray | memoryview, batches: Sequence[tuple[int, BatchHeader]]) -> int:
        """Write ``data`` (whole batches, positions relative to it) at the end and index it; return the offset
        after its last batch."""
        if not self._indexes_ready:
            self._ensure_indexes()
        position = self._size
        try:
            fd = self._handles.get(self._log_file)
            written = os.pwrite(fd, data, position)  # all of it, almost always: no view to slice
            if written < len(data):
                with memoryview(data) as view:
                    while written < len(view):
                        written += os.pwrite(fd, view[written:], position + written)
        except OSError as exc:
            raise storage_error(self._log_path, "append to", exc) from None
        self._size = position + len(data)
        self._unflushed = True
        if position == 0:
            self._first_batch_timestamp = batches[0][1].max_timestamp
        recent = self._recent
        for relative, header in batches:
            self._index_batch(position + relative, header)
            recent.append((header.base_offset, position + relative))
        last = batches[-1][1]
        self._next_offset = next_offset = last.base_offset + last.last_offset_delta + 1
        return next_offset

    @property
    def next_offset(self) -> int:
        """The offset after the last batch (reads the tail of the log the first time after a restart)."""
        if self._next_offset is None:
            self._ensure_indexes()
            self._next_offset = self.base_offset
            for _, header in self.headers(self.offset_index.last_position):
                self._next_offset = header.next_offset
        return self._next_offset

    def check_tail(self, expected_next_offset: int) -> str | None:
        """Why the log does not end with a whole batch before ``expected_next_offset``; None (and trust it) if it does.

        After a clean shutdown this is the only data read: the batch headers after the last
        offset index entry, at most ``index.interval.bytes`` plus one batch. A torn or
        overwritten tail, which the clean-shutdown marker cannot rule out, shows here.
        """
        self._ensure_indexes()
        next_offset = self.base_offset
        try:
            for _, header in self.headers(self.offset_index.last_position):
                next_offset = header.next_offset
        except CorruptSegmentError as exc:
            return exc.problem
        if next_offset != expected_next_offset:
            return f"its last batch ends before offset {next_offset}, not {expected_next_offset}"
        self._next_offset = next_offset
        return None

    @property
    def largest_timestamp(self) -> int:
        """The largest batch max timestamp, from the time index after a restart; NO_TIMESTAMP if empty."""
        self._ensure_indexes()
        return self._max_timestamp

    @property
    def first_batch_timestamp(self) -> int:
        """Max timestamp of the first batch (Kafka's ``rollingBasedTimestamp``); NO_TIMESTAMP when empty."""
        if self._first_batch_timestamp is None:
            self._first_batch_timestamp = (read_batch_header(self.read_bytes(0, BATCH_OVERHEAD)).max_timestamp
                                           if self._size else NO_TIMESTAMP)
        return self._first_batch_timestamp

    def time_waited_for_roll(self, now_ms: int, message_timestamp: int) -> int:
        """How long this segment has been open, by record time when it has one (Kafka's ``timeWaitedForRoll``)."""
        first = self._first_batch_timestamp
        if first is None:  # read from the log once after a restart; every append asks
            first = self.first_batch_timestamp
        if first >= 0:
            return message_timestamp - first
        return now_ms - self.created_ms

    def roll_reason(self, pending: int, header: BatchHeader, now_ms: int, config: TopicConfig) -> str | None:
        """Why the batch of ``header``, after ``pending`` bytes not yet written here, must start a new segment, if
        it must (Kafka's ``LogSegment.shouldRoll``); asked before every batch of every append."""
        written = self._size + pending
        # An empty segment takes any batch: a follower's batch may be larger than segment.bytes (KAFKA-17375).
        if written > 0 and written > config.segment_bytes - (header.batch_length + LOG_OVERHEAD):
            return "segment.bytes"
        if self._size > 0 and self.time_waited_for_roll(now_ms, header.max_timestamp) > config.segment_ms:
            return "segment.ms"
        entries = self._index_entries
        if entries is None:
            if not self._indexes_ready:
                self._ensure_indexes()
            entries = self._index_entries = (len(self.offset_index), len(self.time_index))
        # Either index at segment.index.bytes (the time index keeps one slot for the entry a roll adds).
        if (entries[0] >= config.segment_index_bytes // OffsetIndex.ENTRY_SIZE
                or entries[1] >= config.segment_index_bytes // TimeIndex.ENTRY_SIZE - 1):
            return "segment.index.bytes"
        if header.base_offset + header.last_offset_delta - self.base_offset > INT32_MAX:
            return "offset overflow"
        return None

    def truncate_to(self, offset: int) -> int:
        """Remove the batch holding ``offset`` and all after it; return the bytes removed."""
        found = self.find_batch(offset)
        self._recent.clear()
        self._index_entries = None
        self.offset_index.truncate_to(offset)
        self.time_index.truncate_to(offset)
        self.txn_index.truncate_to(offset)
        self._bytes_since_index_entry = 0
        if found is None:
            return 0
        position, header = found
        removed = self._size - position
        with storage_errors(self.log_path, "truncate"):
            os.ftruncate(self._handles.get(self.log_path), position)
        self._size = position
        # Kafka's LEO becomes the target; inside a compaction gap that is above the removed batch's base.
        self._next_offset = min(offset, header.base_offset)
        self._max_timestamp, self._offset_of_max_timestamp = self.time_index.last_entry()
        for _, later in self.headers(self.offset_index.lookup(self._offset_of_max_timestamp)[1]):
            if later.max_timestamp > self._max_timestamp:
                self._max_timestamp, self._offset_of_max_timestamp = later.max_timestamp, later.last_offset
        if position == 0:
            self._first_batch_timestamp = NO_TIMESTAMP
        return removed

    def recover(self, contiguous_offsets: bool, observe: BatchObserver) -> SegmentRecovery:
        """Validate every batch, cut the log at the first bad one and rebuild the indexes (Kafka's ``recover``).

        A batch is bad if it is torn, malformed, fails its CRC, or its offsets go backwards;
        with ``contiguous_offsets`` (topics that are not compacted) any gap is bad too,
        because the base offset lies outside the CRC and nothing else would catch a flip there.
        Each batch kept goes to ``observe`` (the partition's producer state), and the
        ``.txnindex`` is rebuilt from the ABORT markers it reports: the file on disk may
        name markers the crash cut off, or miss ones whose entry was never written.
        """
        self._index_entries = None
        self.offset_index.reset()
        self.time_index.reset()
        self.txn_index.reset()
        self._recent.clear()
        self._max_timestamp, self._offset_of_max_timestamp = NO_TIMESTAMP, self.base_offset
        self._bytes_since_index_entry = 0
        self._indexes_ready = True
        valid, expected, problem = 0, self.base_offset, None
        epoch_starts: list[tuple[int, int]] = []
        try:
            for position, header, block, rel in self._walk(0, whole=True):
                problem = self._batch_problem(position, header, block, rel, expected, contiguous_offsets)
                if problem:
                    break
                aborted = observe(header, block, rel)
                if aborted is not None:
                    self.txn_index.append(aborted)
                self._index_batch(position, header)
                epoch = header.partition_leader_epoch
                if epoch >= 0 and (not epoch_starts or epoch_starts[-1][0] != epoch):
                    epoch_starts.append((epoch, header.base_offset))
                expected = header.next_offset
                valid = position + header.size_in_bytes
        except KafkaError as exc:
            problem = exc.problem if isinstance(exc, CorruptSegmentError) else exc.message
        truncated = self._size - valid
        if truncated:
            with storage_errors(self.log_path, "truncate"):
                os.ftruncate(self._handles.get(self.log_path), valid)
            self._size = valid
        self.time_index.maybe_append(self._max_timestamp, self._offset_of_max_timestamp)
        self._next_offset = expected
        self._first_batch_timestamp = None
        self.offset_index.write()
        self.time_index.write()
        return SegmentRecovery(valid, truncated, problem, expected, tuple(epoch_starts))

    def _batch_problem(self, position: int, header: BatchHeader, block: bytes, rel: int, expected: int,
                       contiguous: bool) -> str | None:
        where = f"Record batch at position {position}"
        problem = crc_problem(block, rel, header)
        if problem is not None:
            return f"{where} failed its CRC32C check: {problem}."
        if header.last_offset_delta < 0:
            return f"{where} has a negative last offset delta {header.last_offset_delta}."
        if header.base_offset < expected or (contiguous and header.base_offset != expected):
            return f"{where} starts at offset {header.base_offset} but offset {expected} was expected next."
        if header.last_offset - self.base_offset > INT32_MAX:
            return f"{where} has last offset {header.last_offset}, too far above the segment base offset to index."
        return None

    def on_become_inactive(self) -> None:
        """Seal a segment that stops taking appends: final time-index entry, then flush (Kafka's roll)."""
        self._ensure_indexes()
        self._index_entries = None
        self.time_index.maybe_append(self._max_timestamp, self._offset_of_max_timestamp)
        self.flush()

    def flush(self) -> None:
        """fsync appended data and write the indexes' new entries."""
        if self._unflushed:
            with storage_errors(self.log_path, "flush"):
                os.fsync(self._handles.get(self.log_path))
            self._unflushed = False
        self.offset_index.write()
        self.time_index.write()

    def close(self) -> None:
        """Clean close: seal, flush and release the descriptor."""
        if self._indexes_ready:
            self._index_entries = None
            self.time_index.maybe_append(self._max_timestamp, self._offset_of_max_timestamp)
        self.flush()
        self._handles.close(self.log_path)

    def close_abruptly(self) -> None:
        """What a crash leaves: the descriptor closed and nothing more written."""
        self._handles.close(self.log_path)

    def change_suffix(self, suffix: str) -> None:
        """Rename the segment's files to carry ``suffix`` ("" for a live segment), as the cleaner's swap does."""
        old_log = self.log_path
        self._handles.close(old_log)
        self.offset_index.write()
        self.time_index.write()
        self._log_path = segment_file(self.directory, self.base_offset, LOG_SUFFIX, suffix)
        self._log_file = str(self._log_path)
        os.replace(old_log, self._log_path)
        self.offset_index.rename(segment_file(self.directory, self.base_offset, INDEX_SUFFIX, suffix))
        self.time_index.rename(segment_file(self.directory, self.base_offset, TIME_INDEX_SUFFIX, suffix))
        self.txn_index.rename(segment_file(self.directory, self.base_offset, TXN_INDEX_SUFFIX, suffix))

    def delete(self) -> None:
        """Close and remove the segment's files."""
        self._handles.close(self.log_path)
        self.log_path.unlink(missing_ok=True)
        self._index_entries = None
        self.offset_index.delete()
        self.time_index.delete()
        self.txn_index.delete()
