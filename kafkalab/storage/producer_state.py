"""What a partition remembers about idempotent producers (Kafka's ``ProducerStateManager``, KIP-98).

For each producer id the partition keeps its epoch and the metadata of its last five
batches (sequence range and offsets). A retried batch whose sequences match one of them
is a duplicate: the leader answers with the original offsets and appends nothing. A
batch that does not continue the last sequence is OUT_OF_ORDER_SEQUENCE_NUMBER.

Transactions (KIP-98) add to each producer the first offset of its open transaction in
this partition: the earliest of those (and of transactions whose marker is not yet below
the high watermark) is the first unstable offset, and the last stable offset (LSO) is the
lower of it and the high watermark. A COMMIT or ABORT marker closes the producer's open
transaction; an aborted one is written to the active segment's ``.txnindex`` with the LSO
of that moment (Kafka's ``ProducerStateManager`` and ``UnifiedLog.updateTxnIndex``).

As Kafka does, the state is written to a ``<offset>.snapshot`` file when the log rolls and
when the broker shuts down cleanly (``producer_snapshot.py``); a partition that first
needs it (after a restart, on becoming leader) loads the newest snapshot and replays the
log after it (batch headers hold producer id, epoch, base sequence and the transactional
flag; only markers are decoded). Crash recovery builds it while the log opens
(``for_recovery``, ``observe_recovered``) to rebuild the ``.txnindex`` of what it recovers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage import producer_snapshot
from kafkalab.storage.control_records import decode_end_txn_marker
from kafkalab.storage.producer_snapshot import SnapshotEntry
from kafkalab.storage.records import (
    NO_PRODUCER_EPOCH,
    NO_SEQUENCE,
    NO_TIMESTAMP,
    BatchHeader,
    decode_batch,
    iter_batch_headers,
)
from kafkalab.storage.results import LogAppendInfo
from kafkalab.storage.segment import CorruptSegmentError, LogSegment
from kafkalab.storage.txn_index import AbortedTxn

if TYPE_CHECKING:
    # For annotations only: opening a log builds producer state during crash recovery (``log_loader``, as
    # Kafka's ``LogLoader`` does), so log.py imports this module and this one cannot import it back.
    from kafkalab.storage.log import PartitionLog

#: ``ProducerStateEntry.NUM_BATCHES_TO_RETAIN``: why max.in.flight.requests.per.connection may be at most 5.
BATCHES_TO_RETAIN = 5
_INT32_MAX = 2**31 - 1
_REBUILD_READ_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BatchMetadata:
    """Where one batch of a producer landed."""

    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int


@dataclass(frozen=True)
class DuplicateBatch:
    """A retried batch the log already holds, and where."""

    producer_id: int
    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int


@dataclass(frozen=True, slots=True)
class CompletedTxn:
    """A transaction a marker just ended in this partition: from its first record to the marker."""

    producer_id: int
    first_offset: int
    last_offset: int
    is_aborted: bool


@dataclass
class ProducerEntry:
    """One producer's epoch, its last few batches and the epoch of the coordinator that wrote its last marker."""

    epoch: int
    batches: deque[BatchMetadata] = field(default_factory=lambda: deque(maxlen=BATCHES_TO_RETAIN))
    coordinator_epoch: int = -1
    #: The max timestamp of its last batch or marker (``ProducerStateEntry.lastTimestamp``).
    last_timestamp: int = NO_TIMESTAMP

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else NO_SEQUENCE

    def find_duplicate(self, header: BatchHeader) -> BatchMetadata | None:
        """The retained batch with exactly this batch's epoch and sequence range (``findDuplicateBatch``)."""
        if header.producer_epoch != self.epoch:
            return None
        for batch in self.batches:
            if batch.first_seq == header.base_sequence and batch.last_seq == header.last_sequence:
                return batch
        return None


def _in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == _INT32_MAX)


class ProducerStateManager:
    """The producer entries of one partition replica, as of log end offset ``end_offset``."""

    def __init__(self) -> None:
        self.producers: dict[int, ProducerEntry] = {}
        self.end_offset = 0
        #: ``{producer id: first offset}`` of the transactions open here (Kafka's ``ongoingTxns``).
        self.ongoing: dict[int, int] = {}
        #: Ended transactions whose marker may still be above the high watermark (Kafka's ``unreplicatedTxns``).
        self.unreplicated: list[CompletedTxn] = []
        #: The active segment when the state was last updated (-1: not known yet): a change means the log rolled.
        self.segment_base = -1

    @classmethod
    def from_log(cls, log: PartitionLog, end: int | None = None) -> ProducerStateManager:
        """The state as of ``end`` (default: the log end): the newest usable snapshot, then the batches of
        ``log`` after it (Kafka's ``loadProducerState``). Snapshots past the log end were left by a log
        that was truncated since; like unreadable ones, they are deleted."""
        end = log.log_end_offset if end is None else end
        state, offset = cls._from_snapshot(log.directory, log.log_start_offset, log.log_end_offset, end)
        while offset < end:
            try:
                data = log.read(offset, _REBUILD_READ_BYTES)
            except CorruptSegmentError:
                # What damaged batches said about their producers is lost: forget what came before them too
                # (it may be stale) and go on from the next segment, so the partition stays writable.
                state.producers.clear()
                offset = next((s.base_offset for s in log.log_segments() if s.base_offset > offset),
                              log.log_end_offset)
                continue
            if not data:
                break
            for position, header in iter_batch_headers(data):
                if header.base_offset >= end:
                    break
                if header.next_offset > offset:  # a cleaned batch may start before a snapshot's offset
                    state._record(header, header.base_offset, data, position)
                offset = header.next_offset
            else:
                continue
            break
        state.end_offset = end
        return state

    @classmethod
    def for_recovery(cls, directory: Path, segments: Sequence[LogSegment], log_start_offset: int,
                     end: int) -> ProducerStateManager:
        """The state at ``end``, where crash recovery starts, built while the log is being opened (Kafka's
        ``LogLoader.recoverSegment`` rebuilding up to the segment's base): the newest snapshot at or below
        ``end``, then the batches of the segments below it, which the recovery point vouches for."""
        state, offset = cls._from_snapshot(directory, log_start_offset, None, end)
        for index, segment in enumerate(segments):
            following = segments[index + 1].base_offset if index + 1 < len(segments) else None
            if segment.base_offset >= end:
                break
            if following is not None and following <= offset:
                continue
            try:
                for _, header, data in segment.batches():
                    if header.base_offset >= end:
                        break
                    if header.next_offset > offset:
                        state._record(header, header.base_offset, data, 0)
            except CorruptSegmentError:
                state.producers.clear()  # as in ``from_log``: what came before may be stale
        state.end_offset = end
        return state

    def observe_recovered(self, header: BatchHeader, data: bytes, position: int) -> AbortedTxn | None:
        """Take one batch crash recovery keeps; return the ``.txnindex`` entry its ABORT marker makes
        (Kafka's ``LogSegment.updateProducerState``: append, ``lastStableOffset(completedTxn)``, ``completeTxn``)."""
        txn = self._record(header, header.base_offset, data, position)
        self.end_offset = header.next_offset
        return self.aborted_entry(txn) if txn is not None and txn.is_aborted else None

    @classmethod
    def _from_snapshot(cls, directory: Path, log_start_offset: int, log_end_offset: int | None,
                       end: int) -> tuple[ProducerStateManager, int]:
        """The state of the newest snapshot at or below ``end`` and the offset to replay from; a snapshot past
        ``log_end_offset`` (None: not known yet, while recovering) or before the log start is deleted."""
        for offset in reversed(producer_snapshot.snapshot_offsets(directory)):
            if (log_end_offset is not None and offset > log_end_offset) or offset < log_start_offset:
                producer_snapshot.delete(directory, offset)  # stale: truncated away, or before the log start
                continue
            if offset > end:
                continue
            try:
                entries = producer_snapshot.read(directory, offset)
            except KafkaError:
                producer_snapshot.delete(directory, offset)  # unreadable: replay more of the log instead
                continue
            return cls._from_entries(entries), offset
        return cls(), log_start_offset

    @classmethod
    def _from_entries(cls, entries: list[SnapshotEntry]) -> ProducerStateManager:
        state = cls()
        for e in entries:
            entry = state.producers[e.producer_id] = ProducerEntry(e.epoch, coordinator_epoch=e.coordinator_epoch,
                                                                   last_timestamp=e.timestamp)
            if e.last_offset >= 0:
                entry.batches.append(BatchMetadata((e.last_sequence - e.offset_delta) % (2**31), e.last_sequence,
                                                   e.last_offset - e.offset_delta, e.last_offset))
            if e.current_txn_first_offset >= 0:
                state.ongoing[e.producer_id] = e.current_txn_first_offset
        return state

    def snapshot_entries(self) -> list[SnapshotEntry]:
        """Each producer's epoch, last batch and open transaction, as a snapshot stores them (Kafka keeps one
        batch per producer there, so duplicates of older batches are not recognised after a reload either)."""
        entries = []
        for producer_id, entry in sorted(self.producers.items()):
            last = entry.batches[-1] if entry.batches else None
            entries.append(SnapshotEntry(
                producer_id, entry.epoch, last.last_seq if last else NO_SEQUENCE, last.last_offset if last else -1,
                last.last_offset - last.first_offset if last else 0, entry.last_timestamp, entry.coordinator_epoch,
                self.ongoing.get(producer_id, -1)))
        return entries

    def first_unstable_offset(self, high_watermark: int) -> int | None:
        """The first offset of an open transaction, or of one whose marker is not yet below the high watermark."""
        if self.unreplicated:
            self.unreplicated = [txn for txn in self.unreplicated if txn.last_offset >= high_watermark]
        if not self.ongoing and not self.unreplicated:
            return None  # the common case, on every fetch: no transactions
        return min((*self.ongoing.values(), *(txn.first_offset for txn in self.unreplicated)))

    def last_stable_offset(self, high_watermark: int) -> int:
        """Below this offset every transaction is decided and replicated: read_committed reads up to here."""
        first = self.first_unstable_offset(high_watermark)
        return high_watermark if first is None else min(first, high_watermark)

    def check_append(self, headers: Iterable[tuple[BatchHeader, int]], partition: str,
                     check_sequence: bool = True) -> DuplicateBatch | None:
        """Validate a leader append's producer fields before it is written (``analyzeAndValidateProducerState``).

        Returns the first duplicate found (then nothing may be appended); raises
        INVALID_PRODUCER_EPOCH or OUT_OF_ORDER_SEQUENCE_NUMBER as Kafka's ``ProducerAppendInfo`` does.
        """
        pending: dict[int, tuple[int, int]] = {}  # producer id -> (epoch, last seq) within this request
        for header, coordinator_epoch in headers:
            producer_id = header.producer_id
            if producer_id < 0:
                continue
            entry = self.producers.get(producer_id)
            epoch, last_seq = pending.get(producer_id) or (
                (entry.epoch, entry.last_seq) if entry is not None else (NO_PRODUCER_EPOCH, NO_SEQUENCE))
            if header.is_control or not check_sequence:
                # A marker carries no sequence; it is checked only against the epoch (``appendEndTxnMarker``).
                if header.producer_epoch < epoch:
                    what = "transaction marker" if header.is_control else "coordinator's batch"
                    raise KafkaError(Errors.INVALID_PRODUCER_EPOCH,
                                     f"The {what} of producer {producer_id} has epoch {header.producer_epoch}, "
                                     f"smaller than the last seen epoch {epoch} in partition {partition}.")
                if header.is_control and entry is not None and coordinator_epoch < entry.coordinator_epoch:
                    # A deposed coordinator's marker (``checkCoordinatorEpoch``): its successor decides now.
                    raise KafkaError(Errors.TRANSACTION_COORDINATOR_FENCED,
                                     f"The marker of producer {producer_id} comes from coordinator epoch "
                                     f"{coordinator_epoch}, older than {entry.coordinator_epoch} in {partition}.")
                pending[producer_id] = (header.producer_epoch, last_seq if header.producer_epoch == epoch else NO_SEQUENCE)
                continue
            if producer_id not in pending and entry is not None:
                duplicate = entry.find_duplicate(header)
                if duplicate is not None:
                    return DuplicateBatch(producer_id, duplicate.first_seq, duplicate.last_seq,
                                          duplicate.first_offset, duplicate.last_offset)
            self._check(producer_id, header, epoch, last_seq, partition)
            pending[producer_id] = (header.producer_epoch, header.last_sequence)
        return None

    @staticmethod
    def _check(producer_id: int, header: BatchHeader, epoch: int, last_seq: int, partition: str) -> None:
        if header.producer_epoch < epoch:
            raise KafkaError(Errors.INVALID_PRODUCER_EPOCH,
                             f"Epoch of producer {producer_id} is {header.producer_epoch}, which is smaller than the "
                             f"last seen epoch {epoch} in partition {partition}.")
        if header.producer_epoch != epoch:
            # A new epoch must start at sequence 0 unless the partition never saw this producer.
            if header.base_sequence != 0 and epoch != NO_PRODUCER_EPOCH:
                raise KafkaError(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                                 f"Invalid sequence number for new epoch of producer {producer_id} in partition "
                                 f"{partition}: {header.producer_epoch} (request epoch), {header.base_sequence} "
                                 f"(seq. number), {epoch} (current producer epoch).")
        elif epoch != NO_PRODUCER_EPOCH and not _in_sequence(last_seq, header.base_sequence):
            raise KafkaError(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                             f"Out of order sequence number for producer {producer_id} in partition {partition}: "
                             f"{header.base_sequence} (incoming seq. number), {last_seq} (current end sequence number).")

    def record_appended(self, data: bytes, first_offset: int | None = None) -> list[CompletedTxn]:
        """Remember appended batches and return the transactions their markers ended; a leader passes where
        the append started, a follower's headers carry offsets."""
        offset = first_offset
        completed = []
        for position, header in iter_batch_headers(data):
            base = header.base_offset if offset is None else offset
            if header.producer_id >= 0:
                txn = self._record(header, base, data, position)
                if txn is not None:
                    completed.append(txn)
            if offset is not None:
                offset += header.last_offset_delta + 1
        return completed

    def _record(self, header: BatchHeader, base_offset: int, data: bytes, position: int) -> CompletedTxn | None:
        if header.producer_id < 0:
            return None
        producer_id = header.producer_id
        entry = self.producers.get(producer_id)
        if entry is None or header.producer_epoch != entry.epoch:
            # A new epoch forgets the old one's sequences (not its coordinator's epoch); a marker's bumped
            # epoch still ends the open transaction.
            entry = self.producers[producer_id] = ProducerEntry(
                header.producer_epoch, coordinator_epoch=entry.coordinator_epoch if entry is not None else -1)
        entry.last_timestamp = header.max_timestamp
        if header.is_control:
            marker = decode_end_txn_marker(decode_batch(data, position)[1][0])
            if marker is not None:
                entry.coordinator_epoch = marker[1].coordinator_epoch
            first = self.ongoing.pop(producer_id, None) if marker is not None else None
            if marker is None or first is None:
                return None  # a marker of an empty transaction changes no offsets (``appendEndTxnMarker``)
            txn = CompletedTxn(producer_id, first, base_offset, not marker[0])
            self.unreplicated.append(txn)
            return txn
        if header.is_transactional:
            self.ongoing.setdefault(producer_id, base_offset)
        entry.batches.append(BatchMetadata(header.base_sequence, header.last_sequence, base_offset,
                                           base_offset + header.last_offset_delta))
        return None

    def aborted_entry(self, txn: CompletedTxn) -> AbortedTxn:
        """The ``.txnindex`` entry of an aborted transaction, with the LSO it leaves (``lastStableOffset(completedTxn)``)."""
        others = [first for pid, first in self.ongoing.items() if pid != txn.producer_id]
        return AbortedTxn(txn.producer_id, txn.first_offset, txn.last_offset, min(others, default=txn.last_offset + 1))


def _coordinator_epoch(data: bytes, position: int, header: BatchHeader) -> int:
    """The coordinator epoch of a transaction marker batch (-1 for any other batch)."""
    if not header.is_control:
        return -1
    records = decode_batch(data, position)[1]
    marker = decode_end_txn_marker(records[0]) if records else None
    return marker[1].coordinator_epoch if marker is not None else -1


class ProducerStates:
    """The producer state of every partition replica of a broker, built when first needed.

    A state remembers the log end offset it describes; if the log moved without it (a
    follower truncated, a replica restarted from an empty log) it is rebuilt from the log,
    so truncation needs no separate hook.
    """

    def __init__(self) -> None:
        self._states: dict[tuple[str, int], ProducerStateManager] = {}
        #: ``{(topic, partition, producer id): guard}`` of verifications with the transaction coordinator under way
        #: or done, until the transaction they let start is open here (Kafka's ``VerificationStateEntry``, KIP-890).
        self._guards: dict[tuple[str, int, int], object] = {}

    def _current(self, log: PartitionLog) -> ProducerStateManager | None:
        state = self._states.get((log.topic, log.partition))
        if state is not None and state.end_offset != log.log_end_offset:
            state = None
        return state

    def _state(self, log: PartitionLog) -> ProducerStateManager:
        state = self._current(log)
        if state is None:
            state = self._states[(log.topic, log.partition)] = ProducerStateManager.from_log(log)
        return state

    def start_verification(self, log: PartitionLog, producer_id: int) -> object | None:
        """The guard of a verification the first transactional batch of ``producer_id`` here needs, or None when
        its transaction is open here already (``maybeStartTransactionVerification``). A producer whose
        verification is under way gets the same guard: its batches in flight all wait on one answer."""
        if producer_id in self._state(log).ongoing:
            return None
        return self._guards.setdefault((log.topic, log.partition, producer_id), object())

    def check_leader_append(self, log: PartitionLog, batches: bytes, checked: Sequence[tuple[int, BatchHeader]],
                            from_coordinator: bool = False, verifying: bool = False,
                            guard: object | None = None) -> DuplicateBatch | None:
        """Check a produce request's batches against the producers' sequences before appending them.

        ``checked`` holds the batches' positions and headers as validation gave them: as in Kafka 3.9's
        ``UnifiedLog.append``, a batch is validated (``analyzeAndValidateRecords``, ``LogValidator``) before
        its producer state is (``analyzeAndValidateProducerState``), so a damaged retry is CORRUPT_MESSAGE.
        A coordinator's own writes (markers, transactional offset commits) are checked only for
        their epoch: Kafka validates sequences of client appends alone (``ProducerAppendInfo``).
        When ``verifying`` (transaction.partition.verification.enable), a transactional batch that would
        open a transaction here needs ``guard`` to be the one of a verification still valid: an ABORT
        marker in between (a late retry) voids it (``UnifiedLog.analyzeAndValidateProducerState``).
        """
        for _, header in checked:  # a loop, not any() over a generator: every produce request asks
            if header.producer_id >= 0:
                break
        else:  # no producer's batch: nothing to check (``record_append`` drops a state the log left behind)
            return None
        state = self._current(log)
        if state is None:
            state = self._states[(log.topic, log.partition)] = ProducerStateManager.from_log(log)
        headers = [(header, _coordinator_epoch(batches, position, header)) for position, header in checked]
        if verifying:
            for header, _ in headers:
                pid = header.producer_id
                if header.is_transactional and not header.is_control and pid not in state.ongoing and (
                        guard is None or self._guards.get((log.topic, log.partition, pid)) is not guard):
                    raise KafkaError(Errors.INVALID_TXN_STATE,
                                     f"Record was not part of an ongoing transaction: the transaction coordinator has "
                                     f"not confirmed {log.name} in producer {pid}'s transaction.")
        return state.check_append(headers, log.name, check_sequence=not from_coordinator)

    def record_append(self, log: PartitionLog, batches: bytes, info: LogAppendInfo, leader: bool) -> None:
        """Remember ``batches``, just appended as ``info`` says (by the leader, or fetched by a follower).

        Batches of producers bring the state up to date first (a follower may never have built
        it), so every marker is seen and every aborted transaction indexed.
        """
        key = (log.topic, log.partition)
        state = self._states.get(key)
        first_offset = info.first_offset
        if state is None or state.end_offset != first_offset:
            if not info.producer_batches:  # the append's headers, as the log read them: none to walk again
                self._states.pop(key, None)  # out of step: rebuild from the log when next needed
                return
            state = self._states[key] = ProducerStateManager.from_log(log, end=first_offset)
        for txn in state.record_appended(batches, first_offset if leader else None):
            if txn.is_aborted:
                log.append_aborted_txn(state.aborted_entry(txn))
        if self._guards:
            # A verification is used up once its transaction is open here, and void once a marker ended it
            # (Kafka 3.9 ``UnifiedLog.updateProducers`` clears it for any transactional batch).
            for _, header in iter_batch_headers(batches):
                if header.is_transactional:
                    self._guards.pop((log.topic, log.partition, header.producer_id), None)
        state.end_offset = log.log_end_offset
        if log.active_segment_base != state.segment_base:
            # The log rolled: Kafka takes a snapshot then, so a reload replays at most about a segment.
            if state.segment_base >= 0:
                self._write_snapshot(log, state)
            state.segment_base = log.active_segment_base

    @staticmethod
    def _write_snapshot(log: PartitionLog, state: ProducerStateManager) -> None:
        producer_snapshot.write(log.directory, state.end_offset, state.snapshot_entries())
        for offset in producer_snapshot.snapshot_offsets(log.directory):
            if offset < log.log_start_offset:
                producer_snapshot.delete(log.directory, offset)  # ``deleteSnapshotsBefore(logStartOffset)``

    def load(self, log: PartitionLog) -> None:
        """Build the state of a replica becoming leader when a producer snapshot says it has producers, so its LSO
        is right from the start (Kafka loads it with the log; without a snapshot, as after an upgrade in Kafka's
        ``rebuildProducerState``, the log is not scanned until a producer or read_committed fetch needs it)."""
        if self._current(log) is None and producer_snapshot.snapshot_offsets(log.directory):
            self._states[(log.topic, log.partition)] = ProducerStateManager.from_log(log)

    def take_snapshots(self, logs: Iterable[PartitionLog]) -> None:
        """Write the current state of each log's partition, as a clean shutdown does (``takeSnapshot``)."""
        for log in logs:
            state = self._current(log)
            if state is not None and state.producers:
                self._write_snapshot(log, state)

    def unstable_partitions(self) -> set[tuple[str, int]]:
        """``(topic, partition)`` of every state holding an open transaction or one whose marker is not yet
        replicated: elsewhere the LSO is the high watermark, so a whole-broker view asks only these."""
        return {key for key, state in self._states.items() if state.ongoing or state.unreplicated}

    def last_stable_offset(self, log: PartitionLog, high_watermark: int, build: bool = False) -> int:
        """The partition's LSO; without a state (no producer seen) it is the high watermark unless ``build``
        asks to read the log for open transactions first, as a read_committed fetch must."""
        state = self._current(log)
        if state is None:
            if not build:
                return high_watermark
            state = self._states[(log.topic, log.partition)] = ProducerStateManager.from_log(log)
        return state.last_stable_offset(high_watermark)

    def active_producers(self, log: PartitionLog) -> list[SnapshotEntry]:
        """Every producer this replica knows, as DescribeProducers reports them (``UnifiedLog.activeProducers``)."""
        return self._state(log).snapshot_entries()

    def open_transactions(self, log: PartitionLog) -> dict[int, int]:
        """``{producer id: first offset}`` of the transactions open in this replica, as far as its state knows."""
        state = self._current(log)
        return dict(state.ongoing) if state is not None else {}

    def forget(self, topic: str, partition: int) -> None:
        """Drop a deleted replica's state."""
        self._states.pop((topic, partition), None)
        for key in [key for key in self._guards if key[:2] == (topic, partition)]:
            del self._guards[key]
