"""What a partition remembers about idempotent producers (Kafka's ``ProducerStateManager``, KIP-98).

For each producer id the partition keeps its epoch and the metadata of its last five
batches (sequence range and offsets). A retried batch whose sequences match one of them
is a duplicate: the leader answers with the original offsets and appends nothing. A
batch that does not continue the last sequence is OUT_OF_ORDER_SEQUENCE_NUMBER.

Kafka persists this in ``<offset>.snapshot`` files and replays the log after them;
kafkalab rebuilds it from the batch headers of the log when a partition first needs it
(headers hold producer id, epoch and base sequence), which gives the same state after a
restart without a second file format.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import NO_PRODUCER_EPOCH, NO_SEQUENCE, BatchHeader, iter_batch_headers
from kafkalab.storage.segment import CorruptSegmentError

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


@dataclass
class ProducerEntry:
    """One producer's epoch and its last few batches."""

    epoch: int
    batches: deque[BatchMetadata] = field(default_factory=lambda: deque(maxlen=BATCHES_TO_RETAIN))

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

    @classmethod
    def from_log(cls, log: PartitionLog) -> ProducerStateManager:
        """Rebuild the state by walking every batch header of ``log`` (what replaying snapshots gives Kafka)."""
        state = cls()
        offset = log.log_start_offset
        while offset < log.log_end_offset:
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
            for _, header in iter_batch_headers(data):
                state._record(header, header.base_offset)
                offset = header.next_offset
        state.end_offset = log.log_end_offset
        return state

    def check_append(self, headers: Iterable[BatchHeader], partition: str) -> DuplicateBatch | None:
        """Validate a leader append's producer fields before it is written (``analyzeAndValidateProducerState``).

        Returns the first duplicate found (then nothing may be appended); raises
        INVALID_PRODUCER_EPOCH or OUT_OF_ORDER_SEQUENCE_NUMBER as Kafka's ``ProducerAppendInfo`` does.
        """
        pending: dict[int, tuple[int, int]] = {}  # producer id -> (epoch, last seq) within this request
        for header in headers:
            producer_id = header.producer_id
            if producer_id < 0:
                continue
            entry = self.producers.get(producer_id)
            if producer_id not in pending and entry is not None:
                duplicate = entry.find_duplicate(header)
                if duplicate is not None:
                    return DuplicateBatch(producer_id, duplicate.first_seq, duplicate.last_seq,
                                          duplicate.first_offset, duplicate.last_offset)
            epoch, last_seq = pending.get(producer_id) or (
                (entry.epoch, entry.last_seq) if entry is not None else (NO_PRODUCER_EPOCH, NO_SEQUENCE))
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

    def record_appended(self, headers: Iterable[BatchHeader], first_offset: int | None = None) -> None:
        """Remember appended batches; a leader passes where the append started, a follower's headers carry offsets."""
        offset = first_offset
        for header in headers:
            base = header.base_offset if offset is None else offset
            if header.producer_id >= 0:
                self._record(header, base)
            if offset is not None:
                offset += header.last_offset_delta + 1

    def _record(self, header: BatchHeader, base_offset: int) -> None:
        if header.producer_id < 0:
            return
        entry = self.producers.get(header.producer_id)
        if entry is None or header.producer_epoch != entry.epoch:
            entry = self.producers[header.producer_id] = ProducerEntry(header.producer_epoch)
        entry.batches.append(BatchMetadata(header.base_sequence, header.last_sequence, base_offset,
                                           base_offset + header.last_offset_delta))


class ProducerStates:
    """The producer state of every partition replica of a broker, built when first needed.

    A state remembers the log end offset it describes; if the log moved without it (a
    follower truncated, a replica restarted from an empty log) it is rebuilt from the log,
    so truncation needs no separate hook.
    """

    def __init__(self) -> None:
        self._states: dict[tuple[str, int], ProducerStateManager] = {}

    def _current(self, log: PartitionLog) -> ProducerStateManager | None:
        state = self._states.get((log.topic, log.partition))
        if state is not None and state.end_offset != log.log_end_offset:
            state = None
        return state

    def check_leader_append(self, log: PartitionLog, batches: bytes) -> DuplicateBatch | None:
        """Check a produce request's batches against the producers' sequences before appending them."""
        headers = [header for _, header in iter_batch_headers(batches)]
        state = self._current(log)
        if state is None:
            if all(header.producer_id < 0 for header in headers):
                self._states.pop((log.topic, log.partition), None)
                return None
            state = self._states[(log.topic, log.partition)] = ProducerStateManager.from_log(log)
        return state.check_append(headers, log.name)

    def record_append(self, log: PartitionLog, batches: bytes, first_offset: int, leader: bool) -> None:
        """Remember batches just appended at ``first_offset`` (by the leader, or fetched by a follower)."""
        state = self._states.get((log.topic, log.partition))
        if state is None:
            return
        if state.end_offset != first_offset:
            del self._states[(log.topic, log.partition)]  # out of step: rebuild from the log when next needed
            return
        state.record_appended((header for _, header in iter_batch_headers(batches)), first_offset if leader else None)
        state.end_offset = log.log_end_offset

    def forget(self, topic: str, partition: int) -> None:
        """Drop a deleted replica's state."""
        self._states.pop((topic, partition), None)
