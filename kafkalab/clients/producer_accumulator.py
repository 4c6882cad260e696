"""Records waiting to be sent, gathered into one open batch per partition (Kafka's ``RecordAccumulator``).

``send()`` appends to the partition's last batch until it would exceed ``batch.size``;
a batch is sendable once full, once ``linger.ms`` passed since it was opened, or when
the producer flushes. Retried batches go back to the front of their partition's queue,
in sequence order, after ``retry.backoff.ms``. A record is encoded into its batch's v2
records as it is appended (``RecordsBuilder``); the header is added when the batch is
first sent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kafkalab.errors import Errors
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future
from kafkalab.storage.compression import CompressionType
from kafkalab.storage.records import (
    BATCH_OVERHEAD,
    NO_PARTITION_LEADER_EPOCH,
    Header,
    RecordsBuilder,
    batch_attributes,
)

#: Per-record framing beyond key, value and headers, the upper bound Kafka's size estimate uses.
RECORD_OVERHEAD = 21


@dataclass(frozen=True)
class RecordMetadata:
    """Where a sent record landed: ``offset`` is -1 with ``acks=0`` (nobody told the producer)."""

    topic: str
    partition: int
    offset: int
    timestamp: int


def headers_size(headers: tuple[Header, ...]) -> int:
    """The headers' share of a record's size bound (``DefaultRecord.sizeInUpperBound``, with ``RECORD_OVERHEAD``)."""
    return sum(10 + len(header.key) + (len(header.value) if header.value else 0) for header in headers)


class RecordFuture(Future[RecordMetadata]):
    """What ``send()`` returns (Kafka's ``FutureRecordMetadata``): a record's place in its batch.

    A batch settles once for all of its records (Kafka's ``ProduceRequestResult``), so nothing
    is done per record then: the metadata is built when a caller asks for it, and only callers
    that add a callback pay for one. Until the record is in a batch (its topic's metadata is on
    its way) it is a plain future, which fails by itself if the record never gets that far.
    """

    __slots__ = ("_batch", "_index")

    def __init__(self, batch: ProducerBatch, index: int) -> None:
        # The plain future's state is left unset, as nothing reads it once the record has a batch
        # (every method looks at the batch first). Producer.send() sets these two slots itself on an
        # object.__new__ for most records, without this call's frame: the two must stay the whole state.
        self._batch: ProducerBatch | None = batch
        self._index = index

    @classmethod
    def unplaced(cls) -> RecordFuture:
        """The future of a record not in a batch yet: a plain future until ``bind``."""
        future = cls.__new__(cls)
        Future.__init__(future)
        future._batch, future._index = None, 0
        return future

    def bind(self, batch: ProducerBatch, index: int) -> None:
        """The record is number ``index`` of ``batch`` now: callbacks added so far wait for the batch."""
        self._batch, self._index = batch, index
        callbacks, self._callbacks = self._callbacks, None
        for callback in callbacks or ():
            self.add_done_callback(callback)

    @property
    def batch(self) -> ProducerBatch | None:
        """The batch the record is in, or None before it has one."""
        return self._batch

    @property
    def done(self) -> bool:
        batch = self._batch
        return self._done if batch is None else batch.outcome.done

    @property
    def error(self) -> BaseException | None:
        batch = self._batch
        return self._error if batch is None else batch.outcome.error

    def result(self) -> RecordMetadata:
        batch = self._batch
        if batch is None:
            return super().result()
        base_offset = batch.outcome.result()
        return RecordMetadata(batch.tp.topic, batch.tp.partition,
                              base_offset + self._index if base_offset >= 0 else -1,
                              batch.records.timestamp(self._index))

    def add_done_callback(self, callback: Callable[[Future[RecordMetadata]], None]) -> None:
        batch = self._batch
        if batch is None:
            super().add_done_callback(callback)
        else:
            batch.outcome.add_done_callback(lambda _: callback(self))

    def set_result(self, value: RecordMetadata) -> None:
        raise RuntimeError("a record's future settles with its batch")

    def set_error(self, error: BaseException) -> None:
        """Fail a record that never reached a batch (its batch's outcome settles the others)."""
        if self._batch is not None:
            raise RuntimeError("a record in a batch settles with its batch")
        super().set_error(error)


@dataclass(eq=False)
class ProducerBatch:
    """Records for one partition that travel together in one produce request."""

    tp: TopicPartition
    created_ms: float
    #: The records, encoded as they were appended: a batch is bytes from its first record.
    records: RecordsBuilder
    #: Settles once for every record: the base offset (-1: unknown, with acks=0) or the error.
    outcome: Future[int] = field(default_factory=Future)
    size_bytes: int = BATCH_OVERHEAD
    attempts: int = 0
    #: The error of the latest failed attempt, and the broker's message with it, for the final word.
    last_error: Errors | None = None
    last_message: str = ""
    retry_after_ms: float = 0.0
    producer_id: int = -1
    producer_epoch: int = -1
    base_sequence: int = -1
    #: Written inside a transaction (bit 4 of the batch attributes).
    transactional: bool = False
    encoded: bytes | None = None

    @property
    def record_count(self) -> int:
        return self.records.count

    @property
    def is_retry(self) -> bool:
        return self.attempts > 0

    def encode(self, compression: CompressionType) -> bytes:
        """The v2 batch, encoded once: a retry resends the same bytes with the same sequence."""
        if self.encoded is None:
            self.encoded = self.records.seal(compression, base_offset=0,
                                             partition_leader_epoch=NO_PARTITION_LEADER_EPOCH,
                                             attributes=batch_attributes(is_transactional=self.transactional),
                                             last_offset_delta=self.records.count - 1, producer_id=self.producer_id,
                                             producer_epoch=self.producer_epoch, base_sequence=self.base_sequence)
        return self.encoded


class RecordAccumulator:
    """Per-partition queues of batches, oldest first, and the ``buffer.memory`` their records hold."""

    def __init__(self, batch_size: int, linger_ms: int, buffer_memory: int = 33_554_432) -> None:
        self.batch_size = batch_size
        self.linger_ms = linger_ms
        self.queues: dict[TopicPartition, deque[ProducerBatch]] = {}
        #: Per topic and partition number, the batch that takes the next record: the newest one,
        #: until the sender takes it or it is removed (found without hashing a TopicPartition per record).
        self._open: dict[str, list[ProducerBatch | None]] = {}
        self.flushing = False
        self.buffer_memory = buffer_memory
        #: Bytes of records sent and not settled yet (Kafka's ``BufferPool`` hands them out).
        self.buffered_bytes = 0

    @property
    def exhausted(self) -> bool:
        """True while unsettled records fill ``buffer.memory``: Kafka's ``send()`` would block."""
        return self.buffered_bytes >= self.buffer_memory

    def open_batches(self, topic: str, partitions: int) -> list[ProducerBatch | None]:
        """The batch that takes ``topic``'s next record, per partition number (None: none open), for ``append``.

        The list is kept for the topic, never replaced: a producer reads it once per metadata
        response rather than finding a partition's batch by its ``TopicPartition`` per record.
        """
        open_batches = self._open.get(topic)
        if open_batches is None:
            open_batches = self._open[topic] = []
        if partitions > len(open_batches):
            open_batches.extend([None] * (partitions - len(open_batches)))
        return open_batches

    def append(self, open_batches: list[ProducerBatch | None], tp: TopicPartition, key: bytes | None,
               value: bytes | None, headers: Sequence[Header], timestamp: int, size: int,
               now_ms: float) -> ProducerBatch:
        """Add a record to the partition's open batch, opening one if there is none or the record would not fit.

        ``open_batches`` is ``open_batches(tp.topic, ...)``. The record is the batch's last
        (``records.count - 1``); ``size`` counts against ``buffer.memory`` until the batch settles.
        """
        batch = open_batches[tp.partition]
        if batch is None or batch.size_bytes + size > self.batch_size:
            batch = self.new_batch(open_batches, tp, timestamp, now_ms)
        batch.records.append(key, value, headers, timestamp)
        batch.size_bytes += size
        return batch

    def new_batch(self, open_batches: list[ProducerBatch | None], tp: TopicPartition, timestamp: int,
                  now_ms: float) -> ProducerBatch:
        """Open a batch for the partition's next records, behind its queued ones (the one before takes no more)."""
        batch = open_batches[tp.partition] = ProducerBatch(tp, now_ms, RecordsBuilder(timestamp))
        self.queues.setdefault(tp, deque()).append(batch)
        return batch

    def wakes_sender(self, batch: ProducerBatch) -> bool:
        """Whether a record just appended to ``batch`` needs a send pass (Kafka's ``doSend`` wakes the sender on
        ``newBatchCreated`` or ``batchIsFull``; here also on ``buffer.memory`` exhausted, which makes batches ready).

        Any other append joins a batch that a pass already scheduled, or a timer (``linger.ms``) will send.
        """
        # exhausted written out: every keyed send() asks, and a property is one more call.
        return batch.records.count == 1 or batch.size_bytes >= self.batch_size or self.buffered_bytes >= self.buffer_memory

    def all_batches_full(self, tp: TopicPartition) -> bool:
        """True when the partition has no batch still open for records (``allBatchesFull``)."""
        batch = self._open_batch(tp)
        return batch is None or batch.size_bytes >= self.batch_size

    def _open_batch(self, tp: TopicPartition) -> ProducerBatch | None:
        open_batches = self._open.get(tp.topic)
        return open_batches[tp.partition] if open_batches is not None and tp.partition < len(open_batches) else None

    def _close(self, batch: ProducerBatch) -> None:
        """No more records go into ``batch`` (it is being sent, or it was removed)."""
        if self._open_batch(batch.tp) is batch:
            self._open[batch.tp.topic][batch.tp.partition] = None

    def sendable(self, batch: ProducerBatch, now_ms: float) -> bool:
        """Full, lingered long enough, flushing, memory exhausted, or a retry whose backoff is over (``ready``)."""
        if batch.is_retry:
            return now_ms >= batch.retry_after_ms
        queue = self.queues.get(batch.tp)
        full = batch.size_bytes >= self.batch_size or (queue is not None and len(queue) > 1)
        return full or self.flushing or self.exhausted or now_ms - batch.created_ms >= self.linger_ms

    def next_ready_ms(self, now_ms: float) -> float | None:
        """When the earliest batch that is not sendable yet becomes sendable."""
        due = [batch.retry_after_ms if batch.is_retry else batch.created_ms + self.linger_ms
               for queue in self.queues.values() if queue for batch in (queue[0],)
               if not self.sendable(batch, now_ms)]
        return min(due) if due else None

    def take_first(self, tp: TopicPartition) -> ProducerBatch:
        """Take the partition's oldest batch to send it; it takes no more records."""
        queue = self.queues[tp]
        batch = queue.popleft()
        if not queue:
            del self.queues[tp]
        self._close(batch)
        return batch

    def reenqueue(self, batch: ProducerBatch, retry_after_ms: float) -> None:
        """Put a failed batch back at the front, keeping retries in sequence order."""
        batch.attempts += 1
        batch.retry_after_ms = retry_after_ms
        queue = self.queues.setdefault(batch.tp, deque())
        index = 0
        while index < len(queue) and queue[index].base_sequence >= 0 and \
                0 <= queue[index].base_sequence < batch.base_sequence:
            index += 1
        queue.insert(index, batch)

    def take_expired(self, now_ms: float, delivery_timeout_ms: float) -> list[ProducerBatch]:
        """Take the batches past ``delivery.timeout.ms`` from the front of each queue (``expiredBatches``).

        As Kafka's, each queue is looked at from its oldest batch and only until one has time
        left: the batches behind it are younger, so a send pass costs a look per partition,
        not per batch.
        """
        expired: list[ProducerBatch] = []
        for queue in list(self.queues.values()):
            while queue and now_ms - queue[0].created_ms >= delivery_timeout_ms:
                batch = queue[0]
                self.remove(batch)
                expired.append(batch)
        return expired

    def pending(self) -> list[ProducerBatch]:
        """Every queued batch."""
        return [batch for queue in self.queues.values() for batch in queue]

    def remove(self, batch: ProducerBatch) -> None:
        self._close(batch)
        queue = self.queues.get(batch.tp)
        if queue is not None and batch in queue:
            queue.remove(batch)
            if not queue:
                del self.queues[batch.tp]

    def complete(self, batch: ProducerBatch, base_offset: int) -> None:
        """Settle every record of ``batch`` at offsets from ``base_offset`` (-1: unknown); its memory is free first."""
        if not batch.outcome.done:
            self.buffered_bytes -= batch.size_bytes - BATCH_OVERHEAD
            batch.outcome.set_result(base_offset)

    def fail(self, batch: ProducerBatch, error: BaseException) -> None:
        """Fail every record of ``batch`` with ``error``; its memory is free first."""
        if not batch.outcome.done:
            self.buffered_bytes -= batch.size_bytes - BATCH_OVERHEAD
            batch.outcome.set_error(error)
