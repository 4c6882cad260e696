"""Frozen close-ups of replica logs for the screens: offset cells, records and segment files.

``ClusterView`` says where each log starts and ends; this module says what is inside:
which key each offset holds (as a colour hash), under which leader epoch it was
written, whether it is a transaction marker or a record of an aborted or still open
transaction (KIP-98), the records themselves and the segment files that hold them. It runs on the
engine thread, reads only what a screen shows, and caches decoded cells per replica so
a busy log costs only its new records.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kafkalab.errors import KafkaError
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.control_records import decode_end_txn_marker
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import BatchHeader, Header, decode_batch, iter_batch_headers, iter_record_keys

if TYPE_CHECKING:
    from kafkalab.cluster.cluster import Cluster
    from kafkalab.views import PartitionView, TopicView

#: A cell for an offset whose record has no key.
NULL_KEY = -1
#: A cell for an offset that holds no record any more (compacted away).
NO_RECORD = -2
_READ_BYTES = 256 * 1024
#: What a cell holds, transaction-wise: an ordinary record, a COMMIT/ABORT marker, a record of an
#: aborted transaction, or one of a transaction still open (its outcome not written yet).
PLAIN, MARKER, ABORTED, OPEN = 0, 1, 2, 3
#: A cached cell's transaction facts: no producer transaction, and no marker.
_NO_TXN = (-1, -1)


def key_hash(key: bytes | None) -> int:
    """A stable small number per key for colouring cells (not the partitioner's hash)."""
    return NULL_KEY if key is None else zlib.crc32(key) & 0xFFFF


@dataclass(frozen=True)
class LogWindow:
    """Consecutive offsets of one replica's log: a key hash and a leader epoch per offset."""

    first_offset: int
    keys: tuple[int, ...]
    epochs: tuple[int, ...]
    #: PLAIN, MARKER, ABORTED or OPEN per offset; empty when every cell is plain.
    kinds: tuple[int, ...] = ()

    @property
    def end_offset(self) -> int:
        """The offset after the window's last cell."""
        return self.first_offset + len(self.keys)


@dataclass(frozen=True)
class ReplicaLog:
    """One replica of a partition with the tail of its log, for the replication screen."""

    broker_id: int
    online: bool
    is_leader: bool
    in_isr: bool
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    window: LogWindow
    #: ``(leader epoch, start offset)`` entries of the replica's leader-epoch-checkpoint.
    epoch_starts: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class RecordRow:
    """One record as the inspector lists it."""

    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]
    leader_epoch: int
    #: The producer of a transactional record or marker (-1 for others).
    transactional_producer: int = -1
    #: For a transaction marker: 1 COMMIT, 0 ABORT (-1 for records).
    marker: int = -1


@dataclass(frozen=True)
class DiskFile:
    """A segment file of a replica, from the live log or, for a stopped broker, from the directory."""

    base_offset: int
    next_offset: int | None
    size_bytes: int
    log_file: str
    is_active: bool


@dataclass(frozen=True)
class RecordsPage:
    """Records of one replica from ``first_offset`` plus its offsets and segment files."""

    topic: str
    partition: int
    broker_id: int
    online: bool
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    first_offset: int
    rows: tuple[RecordRow, ...]
    files: tuple[DiskFile, ...]
    #: The replica's directory on disk (``<data dir>/broker-1/orders-0``), where a learner finds its files.
    directory: Path


def _iter_batches(log: PartitionLog, start: int, end: int) -> Iterator[tuple[bytes, int, BatchHeader]]:
    """``(data, position, header)`` of each batch of ``log`` holding offsets in ``[start, end)``."""
    position = max(start, log.log_start_offset)
    while position < min(end, log.log_end_offset):
        try:
            data = log.read(position, _READ_BYTES)
        except KafkaError:
            return
        if not data:
            return
        next_position = position
        for batch_position, header in iter_batch_headers(data):
            if header.base_offset >= end:
                return
            next_position = header.last_offset + 1
            yield data, batch_position, header
        if next_position <= position:
            return
        position = next_position


def _batch_rows(data: bytes, batch_position: int, low: int, end: int) -> Iterator[RecordRow]:
    """Records of the batch at ``data[batch_position]`` with offsets in ``[low, end)``, with its leader epoch."""
    header, records = decode_batch(data, batch_position)
    producer = header.producer_id if header.is_transactional else -1
    for record in records:
        if record.offset >= end:
            return
        if record.offset >= low:
            marker = decode_end_txn_marker(record) if header.is_control else None
            yield RecordRow(record.offset, record.timestamp, record.key, record.value, record.headers,
                            header.partition_leader_epoch, producer, -1 if marker is None else int(marker[0]))


def _iter_records(log: PartitionLog, start: int, end: int) -> Iterator[RecordRow]:
    """Records of ``log`` with offsets in ``[start, end)``, each with its batch's leader epoch."""
    low = max(start, log.log_start_offset)
    for data, batch_position, _ in _iter_batches(log, start, end):
        yield from _batch_rows(data, batch_position, low, end)


def _iter_cells(log: PartitionLog, start: int, end: int) -> Iterator[tuple[int, tuple[int, int, int, int]]]:
    """``(offset, cell)`` for offsets of ``log`` in ``[start, end)``; of a record only its key is read (the lanes
    read every new record for each frame), of a transaction marker the whole record."""
    low = max(start, log.log_start_offset)
    for data, batch_position, header in _iter_batches(log, start, end):
        if header.is_control:
            for row in _batch_rows(data, batch_position, low, end):
                yield row.offset, (key_hash(row.key), row.leader_epoch, row.transactional_producer, row.marker)
            continue
        epoch = header.partition_leader_epoch
        producer = header.producer_id if header.is_transactional else -1
        for offset, key in iter_record_keys(data, batch_position, header):
            if offset >= end:
                return
            if offset >= low:
                yield offset, (key_hash(key), epoch, producer, -1)


def _transaction_kinds(values: list[tuple[int, int, int, int]], reaches_end: bool) -> tuple[int, ...]:
    """Each cell's kind: a marker decides the records of its producer's transaction before it; records
    with no marker after them are open if the window reaches the log end (else their outcome lies beyond)."""
    if all(producer < 0 for _, _, producer, _ in values):
        return ()
    kinds = [PLAIN] * len(values)
    pending: dict[int, list[int]] = {}
    for index, (_, _, producer, marker) in enumerate(values):
        if producer < 0:
            continue
        if marker < 0:
            pending.setdefault(producer, []).append(index)
            continue
        kinds[index] = MARKER
        for record in pending.pop(producer, []):
            kinds[record] = PLAIN if marker else ABORTED
    if reaches_end:
        for indexes in pending.values():
            for index in indexes:
                kinds[index] = OPEN
    return tuple(kinds)


@dataclass
class _CachedCells:
    """Decoded cells of one replica's tail and what they were decoded from."""

    token: tuple[int, int, tuple[int, int] | None]
    #: Per offset: key hash, leader epoch, transactional producer (-1) and marker (-1, 0 abort, 1 commit).
    cells: dict[int, tuple[int, int, int, int]]
    #: The last window made from the cells, for (first, end, log end offset): a lane whose log did not move
    #: since the last frame is that window again, not ``width`` cells looked up and copied.
    window: tuple[tuple[int, int, int], LogWindow] | None = None


class Inspector:
    """Reads replica logs for the screens on the engine thread, caching decoded cells per replica."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._cells: dict[tuple[int, TopicPartition], _CachedCells] = {}

    def _log(self, broker_id: int, tp: TopicPartition) -> PartitionLog | None:
        broker = self._cluster.brokers.get(broker_id)
        return broker.replica_log(tp) if broker is not None else None

    def window(self, broker_id: int, tp: TopicPartition, first: int, end: int) -> LogWindow:
        """Cells of ``[first, end)`` from the replica on ``broker_id`` (NO_RECORD where it has none)."""
        log = self._log(broker_id, tp)
        if log is None or end <= first:
            return LogWindow(first, (NO_RECORD,) * max(0, end - first), (-1,) * max(0, end - first))
        entries = log.leader_epoch_cache.entries
        token = (id(log), log.log_start_offset, (entries[-1].epoch, entries[-1].start_offset) if entries else None)
        cached = self._cells.get((broker_id, tp))
        if cached is None or cached.token != token:
            cached = _CachedCells(token, {})
            self._cells[(broker_id, tp)] = cached
        shown = (first, end, log.log_end_offset)
        if cached.window is not None and cached.window[0] == shown:
            return cached.window[1]
        cells = cached.cells
        # A log only grows at its end between token changes, so only offsets never decoded are read.
        missing_from = next((o for o in range(first, min(end, log.log_end_offset)) if o not in cells), None)
        if missing_from is not None:
            for offset, cell in _iter_cells(log, missing_from, end):
                cells[offset] = cell
            for offset in range(missing_from, min(end, log.log_end_offset)):
                cells.setdefault(offset, (NO_RECORD, -1, *_NO_TXN))
        for offset in [o for o in cells if o < first or o >= log.log_end_offset]:
            del cells[offset]
        values = [cells.get(offset, (NO_RECORD, -1, *_NO_TXN)) for offset in range(first, end)]
        window = LogWindow(first, tuple(v[0] for v in values), tuple(v[1] for v in values),
                           _transaction_kinds(values, reaches_end=end >= log.log_end_offset))
        cached.window = (shown, window)
        return window

    def lane_windows(self, topic: TopicView, width: int) -> dict[int, LogWindow]:
        """Per partition of ``topic``, the last ``width`` offsets of its leader (else the live replica furthest on)."""
        windows: dict[int, LogWindow] = {}
        for partition in topic.partitions:
            live = [replica for replica in partition.replica_views if replica.online]
            if not live:
                continue
            source = max(live, key=lambda r: (r.is_leader, r.log_end_offset, -r.broker_id))
            end = source.log_end_offset
            windows[partition.partition] = self.window(source.broker_id, TopicPartition(topic.name, partition.partition),
                                                       max(source.log_start_offset, end - width), end)
        self._forget_except(topic.name)
        return windows

    def _forget_except(self, topic: str, partition: int | None = None) -> None:
        """Drop cached cells of partitions no screen shows, so memory follows what is visible."""
        for key in [k for k in self._cells if k[1].topic != topic or partition not in (None, k[1].partition)]:
            del self._cells[key]

    def replica_logs(self, view: PartitionView, width: int) -> tuple[ReplicaLog, ...]:
        """Every replica of a partition, their log tails aligned on the same offsets."""
        tp = TopicPartition(view.topic, view.partition)
        live = [r for r in view.replica_views if r.online]
        end = max((r.log_end_offset for r in live), default=0)
        start = min((r.log_start_offset for r in live), default=0)
        first = max(start, end - width)
        replicas = []
        for replica in view.replica_views:
            log = self._log(replica.broker_id, tp)
            epochs = tuple((e.epoch, e.start_offset) for e in log.leader_epoch_cache.entries) if log else ()
            replicas.append(ReplicaLog(replica.broker_id, replica.online, replica.is_leader, replica.in_isr,
                                       replica.log_start_offset, replica.high_watermark, replica.log_end_offset,
                                       self.window(replica.broker_id, tp, first, end), epochs))
        self._forget_except(view.topic, view.partition)
        return tuple(replicas)

    def records(self, topic: str, partition: int, broker_id: int, first: int, count: int) -> RecordsPage:
        """Up to ``count`` records of one replica from offset ``first``, with its segment files."""
        tp = TopicPartition(topic, partition)
        directory = self._cluster.data_dir.broker_dir(broker_id) / f"{tp.topic}-{tp.partition}"
        broker = self._cluster.brokers.get(broker_id)
        replica = broker.describe_replicas(tp).get(tp) if broker is not None else None
        log = self._log(broker_id, tp)
        if replica is None or log is None:
            return RecordsPage(topic, partition, broker_id, False, -1, -1, -1, first, (),
                               self._files_on_disk(broker_id, tp), directory)
        rows = tuple(_iter_records(log, first, first + count))
        files = tuple(DiskFile(s.base_offset, s.next_offset, s.size_bytes, s.log_file, s.is_active)
                      for s in log.segments())
        return RecordsPage(topic, partition, broker_id, True, replica.log_start_offset, replica.high_watermark,
                           replica.log_end_offset, first, rows, files, directory)

    def _files_on_disk(self, broker_id: int, tp: TopicPartition) -> tuple[DiskFile, ...]:
        """A stopped broker's segment files, read from its log directory: they outlive the process."""
        directory = self._cluster.data_dir.broker_dir(broker_id) / f"{tp.topic}-{tp.partition}"
        try:
            names = sorted((e for e in os.scandir(directory) if e.name.endswith(".log")), key=lambda e: e.name)
        except OSError:
            return ()
        files = [DiskFile(int(entry.name[:-4]), None, entry.stat().st_size, entry.name, False)
                 for entry in names if entry.name[:-4].isdigit()]
        return tuple(files)
