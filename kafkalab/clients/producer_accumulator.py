"""Records waiting to be sent, gathered into one open batch per partition (Kafka's ``RecordAccumulator``).

``send()`` appends to the partition's last batch until it would exceed ``batch.size``;
a batch is sendable once full, once ``linger.ms`` passed since it was opened, or when
the producer flushes. Retried batches go back to the front of their partition's queue,
in sequence order, after ``retry.backoff.ms``. Records stay Python tuples until a batch
is sent for the first time: then it is encoded once as a v2 record batch.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from kafkalab.errors import Errors
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future
from kafkalab.storage.compression import CompressionType
from kafkalab.storage.records import BATCH_OVERHEAD, Header, RecordInput, encode_batch

#: Per-record framing beyond key, value and headers, the upper bound Kafka's size estimate uses.
RECORD_OVERHEAD = 21


@dataclass(frozen=True)
class RecordMetadata:
    """Where a sent record landed: ``offset`` is -1 with ``acks=0`` (nobody told the producer)."""

    topic: str
    partition: int
    offset: int
    timestamp: int


def record_size(key: bytes | None, value: bytes | None, headers: tuple[Header, ...]) -> int:
    """An upper bound on the record's encoded size (Kafka's ``DefaultRecord.sizeInUpperBound``)."""
    size = RECORD_OVERHEAD + (len(key) if key else 0) + (len(value) if value else 0)
    for header in headers:
        size += 10 + len(header.key) + (len(header.value) if header.value else 0)
    return size


@dataclass(eq=False)
class ProducerBatch:
    """Records for one partition that travel together in one produce request."""

    tp: TopicPartition
    created_ms: float
    records: list[RecordInput] = field(default_factory=list)
    futures: list[Future[RecordMetadata]] = field(default_factory=list)
    size_bytes: int = BATCH_OVERHEAD
    attempts: int = 0
    #: The error of the latest failed attempt, and the broker's message with it, for the final word.
    last_error: Errors | None = None
    last_message: str = ""
    retry_after_ms: float = 0.0
    producer_id: int = -1
    producer_epoch: int = -1
    base_sequence: int = -1
    encoded: bytes | None = None

    @property
    def record_count(self) -> int:
        return len(self.records)

    @property
    def is_retry(self) -> bool:
        return self.attempts > 0

    def encode(self, compression: CompressionType) -> bytes:
        """The v2 batch, encoded once: a retry resends the same bytes with the same sequence."""
        if self.encoded is None:
            self.encoded = encode_batch(self.records, producer_id=self.producer_id, producer_epoch=self.producer_epoch,
                                        base_sequence=self.base_sequence, compression=compression)
        return self.encoded

    def complete(self, base_offset: int) -> None:
        """Resolve every record's future; offsets count up from ``base_offset`` (-1: unknown)."""
        topic, partition = self.tp.topic, self.tp.partition
        for index, (future, record) in enumerate(zip(self.futures, self.records, strict=True)):
            future.set_result(RecordMetadata(topic, partition, base_offset + index if base_offset >= 0 else -1,
                                             record[3]))

    def fail(self, error: BaseException) -> None:
        for future in self.futures:
            future.set_error(error)


class RecordAccumulator:
    """Per-partition queues of batches, oldest first, and the ``buffer.memory`` their records hold."""

    def __init__(self, batch_size: int, linger_ms: int, buffer_memory: int = 33_554_432) -> None:
        self.batch_size = batch_size
        self.linger_ms = linger_ms
        self.queues: dict[TopicPartition, deque[ProducerBatch]] = {}
        self.flushing = False
        self.buffer_memory = buffer_memory
        #: Bytes of records sent and not settled yet (Kafka's ``BufferPool`` hands them out).
        self.buffered_bytes = 0

    @property
    def exhausted(self) -> bool:
        """True while unsettled records fill ``buffer.memory``: Kafka's ``send()`` would block."""
        return self.buffered_bytes >= self.buffer_memory

    def append(self, tp: TopicPartition, record: RecordInput, size: int, now_ms: float,
               future: Future[RecordMetadata]) -> bool:
        """Add a record to the partition's open batch (opening one if needed); returns whether all of
        the partition's batches are now full (then the sticky partitioner may switch partition)."""
        queue = self.queues.setdefault(tp, deque())
        batch = queue[-1] if queue else None
        if batch is None or batch.encoded is not None or batch.is_retry or (
                batch.records and batch.size_bytes + size > self.batch_size):
            batch = ProducerBatch(tp, now_ms)
            queue.append(batch)
        batch.records.append(record)
        batch.futures.append(future)
        batch.size_bytes += size
        return batch.size_bytes >= self.batch_size

    def all_batches_full(self, tp: TopicPartition) -> bool:
        """True when the partition has no batch still open for records (``allBatchesFull``)."""
        queue = self.queues.get(tp)
        if not queue:
            return True
        last = queue[-1]
        return last.encoded is not None or last.is_retry or last.size_bytes >= self.batch_size

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

    def pending(self) -> list[ProducerBatch]:
        """Every queued batch."""
        return [batch for queue in self.queues.values() for batch in queue]

    def remove(self, batch: ProducerBatch) -> None:
        queue = self.queues.get(batch.tp)
        if queue is not None and batch in queue:
            queue.remove(batch)
            if not queue:
                del self.queues[batch.tp]
