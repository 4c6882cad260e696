"""A stream processor on a real cluster: the lab's ``start_processor`` through confluent-kafka's consumer and producer.

The consume-transform-produce loop of Kafka Streams with ``processing.guarantee=at_least_once``,
as the lab's processor runs it (``kafkalab/session/processors.py``): each record its consumer
returns is transformed and sent to the sink as it is polled; every ``commit.interval.ms`` the
producer is flushed, so every output is acknowledged, and only then are the input offsets
committed. An output lost for good stops the processor without committing, as a Kafka Streams
thread dies, so whoever takes its partitions over reads that input again. A crash
(``kill_consumer``) drops what is not sent and commits nothing: the next processor of the
group resends the outputs of the records since the last commit.

With ``processing.guarantee=exactly_once_v2`` (KIP-447) the producer is transactional, as the
lab's is: its ``transactional.id`` is the group and client id, it is initialized before the
consumer starts (fencing an older processor of the same id), the outputs since the last commit
go into one transaction, and every ``commit.interval.ms`` the input positions are sent to that
transaction with the consumer's group metadata (``send_offsets_to_transaction``, so a member
fenced by a rebalance cannot commit) and the transaction commits. Its consumer reads
read_committed. A crash leaves the open transaction for the coordinator to abort after
``transaction.timeout.ms`` (10 s, as Kafka Streams sets it). Everything here runs on the
consumer's own thread (``RealConsumer``), which alone calls its librdkafka clients.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from kafkalab.clients.transforms import EOS_TRANSACTION_TIMEOUT_MS, TRANSFORMS, forwarded
from kafkalab.errors import Errors, KafkaError


class RealProcessor:
    """The output side of a processor: a producer to ``sink`` and when the input offsets are next committed."""

    def __init__(self, ck: ModuleType, config: dict[str, Any], sink: str, transform: str, contains: str | None,
                 commit_interval_ms: float, timeout_s: float, transactional_id: str | None = None) -> None:
        self.sink = sink
        self._ck = ck
        # Kafka Streams' producers send with acks=all.
        settings: dict[str, Any] = {"acks": "all"}
        if transactional_id is not None:
            settings.update({"transactional.id": transactional_id,
                             "transaction.timeout.ms": EOS_TRANSACTION_TIMEOUT_MS})
        self._producer: Any = ck.Producer({**config, **settings})
        self.transactional = transactional_id is not None
        self._in_transaction = False
        if self.transactional:
            self._producer.init_transactions(timeout_s)
        self._convert = TRANSFORMS[transform]
        self._contains = contains
        self._interval_s = commit_interval_ms / 1000
        self._timeout = timeout_s
        self._last_commit = time.monotonic()
        self.failed = 0
        #: The Kafka error of the latest output that failed for good.
        self.last_error: Errors | None = None
        #: librdkafka's error of the latest output that failed, turned into ``last_error`` at the next commit: a
        #: delivery callback may not call into a producer that a fatal error (fenced) already raised from.
        self._failure: Any = None

    def forward(self, messages: list[Any]) -> None:
        """Send the transformed output of the records ``messages`` returned (acknowledged later, checked at the next
        commit); the headers go along, as Kafka Streams forwards them."""
        if self.transactional:
            self._begin()
        for message in messages:
            if not forwarded(self._contains, message.value()):
                continue
            key, value = self._convert(message.key(), message.value())
            self._producer.produce(self.sink, value=value, key=key, headers=message.headers(),
                                   on_delivery=self._sent)
        self._producer.poll(0)

    def _sent(self, error: Any, message: Any) -> None:
        if error is not None:
            self.failed += 1
            self._failure = error

    def due(self) -> bool:
        """True when ``commit.interval.ms`` has passed since the last commit."""
        return time.monotonic() - self._last_commit >= self._interval_s

    def _begin(self) -> None:
        if not self._in_transaction:
            self._producer.begin_transaction()
            self._in_transaction = True

    def commit(self, consumer: Any) -> None:
        """Flush the output, then commit the input positions; refuse to commit if an output was lost. Under
        exactly_once_v2 the positions go into the transaction, which then commits (and fails if an output did)."""
        if self.transactional:
            self._commit_transaction(consumer)
            return
        if self._producer.flush(self._timeout) > 0 and self._failure is None:
            self.last_error = Errors.REQUEST_TIMED_OUT
        if self._failure is not None:
            # librdkafka passes a broker's error on with Kafka's code (its own, client-side ones are negative).
            code = self._failure.code()
            self.last_error = next((known for known in Errors if known.code == code), Errors.UNKNOWN_SERVER_ERROR)
        if self.last_error is not None:
            raise KafkaError(self.last_error, f"{self.failed} output record(s) to {self.sink} failed "
                                              f"({self.last_error.name}); the processor stops without committing, so "
                                              f"its input is processed again.")
        try:
            consumer.commit(asynchronous=False)
        except self._ck.KafkaException as exc:
            # Nothing returned since the last commit: nothing to commit.
            if exc.args[0].code() != self._ck.KafkaError._NO_OFFSET:
                raise
        self._last_commit = time.monotonic()

    def _commit_transaction(self, consumer: Any) -> None:
        """The positions of what the consumer returned (librdkafka's ``position()``: a partition nothing was returned
        from has none) sent to the transaction, which commits; as the lab's processor, a transaction with no input
        commits too."""
        self._begin()
        positions = [tp for tp in consumer.position(consumer.assignment()) if tp.offset >= 0]
        if positions:
            self._producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), self._timeout)
        self._producer.commit_transaction(self._timeout)
        self._in_transaction = False
        self._last_commit = time.monotonic()

    def crash(self) -> None:
        """Lose what is not sent yet, as a process that dies does; nothing is flushed."""
        self._producer.purge()
        self._producer = None
