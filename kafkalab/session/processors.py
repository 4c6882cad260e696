"""Stream processors: consume a topic, transform each record, produce the results to another topic.

This is the consume-transform-produce loop at the heart of Kafka Streams, with its default
``processing.guarantee=at_least_once``: output records are sent as input is polled, and
every ``commit.interval.ms`` (30 s by default, as in Kafka Streams) the producer is
flushed, so every output is acknowledged, and only then are the input offsets committed.
A processor that crashes between two commits is restarted from the last commit and sends
the outputs of those records again: the output topic gets duplicates.

With ``processing.guarantee=exactly_once_v2`` (KIP-447) the producer is transactional: the
outputs since the last commit and the input offsets (``sendOffsetsToTransaction``) commit
together every ``commit.interval.ms`` (100 ms by default then), and the processor reads
with ``isolation.level=read_committed``. A crash leaves its open transaction to be aborted
by the coordinator after ``transaction.timeout.ms`` (10 s, as Kafka Streams sets it), and the
next processor starts from the last committed offsets: read_committed readers of the
output see every record once.

Its transforms and commit settings are shared with processors run on a real cluster
(``kafkalab/clients/transforms.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kafkalab.clients.consumer import Consumer, ConsumerRecord
from kafkalab.clients.producer import Producer, RecordMetadata
from kafkalab.clients.transaction_manager import TxnState
from kafkalab.clients.transforms import TRANSFORMS, forwarded
from kafkalab.errors import Errors, KafkaError
from kafkalab.sim.process import Future, Process


@dataclass(eq=False)
class Processor:
    """What a running consumer forwards its records to, and its progress."""

    source: str
    sink: str
    transform: str
    #: Forward only records whose value contains this text (``filter``); None forwards all.
    contains: str | None
    commit_interval_ms: float
    producer: Producer
    last_commit_ms: float
    failed: int = 0
    #: The Kafka error of the latest output that failed for good.
    last_error: Errors | None = None
    #: exactly_once_v2: the group whose offsets commit inside the producer's transactions; None at least once.
    transactional_group: str | None = None
    #: Done when the commit under way ends: a close waits for the poll loop's commit rather than racing it.
    _committing: Future[None] | None = None

    def forward(self, records: list[ConsumerRecord]) -> None:
        """Send the transformed output of ``records`` (acknowledged later, checked at the next commit)."""
        convert = TRANSFORMS[self.transform]
        if self.transactional_group is not None:
            self._begin()
        for record in records:
            if not forwarded(self.contains, record.value):
                continue
            key, value = convert(record.key, record.value)
            headers = [(header.key, header.value) for header in record.headers]
            self.producer.send(self.sink, value, key, headers=headers).add_done_callback(self._sent)

    def _sent(self, future: Future[RecordMetadata]) -> None:
        error = future.error
        if error is not None:
            self.failed += 1
            self.last_error = error.error if isinstance(error, KafkaError) else Errors.UNKNOWN_SERVER_ERROR

    def due(self, now_ms: float) -> bool:
        """True when ``commit.interval.ms`` has passed since the last commit."""
        return now_ms - self.last_commit_ms >= self.commit_interval_ms

    def _begin(self) -> None:
        if self.producer.transaction_manager.state is not TxnState.IN_TRANSACTION:
            self.producer.begin_transaction()

    def commit(self, consumer: Consumer, now_ms: Callable[[], float]) -> Process[None]:
        """Flush the output, then commit the input positions; refuse to commit if an output was lost.

        Kafka Streams fails the task when a send fails for good (its input is then read again
        by whoever takes the partitions over), rather than committing past a lost output.
        Under exactly_once_v2 the positions go into the transaction, which then commits.
        """
        while self._committing is not None:
            yield self._committing
        committing = self._committing = Future()
        try:
            yield from self._commit(consumer, now_ms)
        finally:
            self._committing = None
            committing.set_result(None)

    def _commit(self, consumer: Consumer, now_ms: Callable[[], float]) -> Process[None]:
        if self.transactional_group is not None:
            self._begin()
            positions = consumer.positions()
            if positions:
                yield self.producer.send_offsets_to_transaction(positions, self.transactional_group)
            yield self.producer.commit_transaction()
            self.last_commit_ms = now_ms()
            return
        yield self.producer.flush()
        if self.last_error is not None:
            raise KafkaError(self.last_error, f"{self.failed} output record(s) to {self.sink} failed; the processor "
                                              f"stops without committing, so its input is processed again.")
        yield consumer.commit_sync()
        self.last_commit_ms = now_ms()
