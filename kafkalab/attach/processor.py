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

As the lab's processor and Kafka Streams (``StreamTask.commitNeeded()``), it commits only when
records were processed since the last commit or a position moved past the last processed
record (skipped control records), and it commits the offsets after the records processed,
not the consumer's positions. Before a rebalance takes partitions away it commits
(``TaskManager.handleRevocation``), from the ``on_revoke`` callback librdkafka calls inside
``consume()``; lost partitions (``on_lost``) are not committed, and under exactly_once_v2 the open
transaction is aborted (``TaskManager.handleLostAll``). A commit the group coordinator refuses because the
group moved on without this member (Kafka's ``CommitFailedException``, Streams' ``TaskMigratedException``)
is handled the same way: the processor drops its tasks and goes on once librdkafka has rejoined.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from kafkalab.clients.transforms import EOS_TRANSACTION_TIMEOUT_MS, TRANSFORMS, forwarded
from kafkalab.errors import Errors, KafkaError

#: The commit errors Kafka's consumer and producer raise as ``CommitFailedException`` (``ConsumerCoordinator``'s
#: OffsetCommit handler, ``TransactionManager``'s TxnOffsetCommit handler): the group moved on without this member.
#: librdkafka passes them on with Kafka's codes.
_MIGRATED = frozenset({Errors.ILLEGAL_GENERATION.code, Errors.UNKNOWN_MEMBER_ID.code})


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
        #: Kafka Streams' ``consumedOffsets``: (topic, partition) -> the offset of the last record processed.
        self._consumed: dict[tuple[str, int], int] = {}
        #: Kafka Streams' ``commitNeeded`` flag: records were processed since the last commit.
        self._commit_needed = False
        #: Why the ``on_revoke`` callback's commit or the ``on_lost`` callback's abort failed, raised by the next
        #: ``forward``.
        self._revoke_failure: BaseException | None = None
        self.failed = 0
        #: The Kafka error of the latest output that failed for good.
        self.last_error: Errors | None = None
        #: librdkafka's error of the latest output that failed, turned into ``last_error`` at the next commit: a
        #: delivery callback may not call into a producer that a fatal error (fenced) already raised from.
        self._failure: Any = None

    def forward(self, messages: list[Any]) -> None:
        """Send the transformed output of the records ``messages`` returned (acknowledged later, checked at the next
        commit); the headers go along, as Kafka Streams forwards them."""
        if self._revoke_failure is not None:
            raise self._revoke_failure
        if not messages:
            return
        # As StreamTask.process(): every record read counts, forwarded by the filter or not.
        self._commit_needed = True
        for message in messages:
            self._consumed[(message.topic(), message.partition())] = message.offset()
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

    def commit_needed(self, consumer: Any) -> bool:
        """``StreamTask.commitNeeded()``: records were processed since the last commit, or a position is more than
        one past the last processed record (librdkafka skipped control records, e.g. transaction markers)."""
        if not self._commit_needed and self._consumed:
            partitions = [self._ck.TopicPartition(topic, partition) for topic, partition in self._consumed]
            for tp in consumer.position(partitions):
                consumed = self._consumed[(tp.topic, tp.partition)]
                if tp.offset > consumed + 1:
                    self._commit_needed = True
                    self._consumed[(tp.topic, tp.partition)] = tp.offset - 1
        return self._commit_needed

    def _offsets(self) -> list[Any]:
        """The offsets after the records processed (Streams commits ``consumedOffsets`` + 1)."""
        return [self._ck.TopicPartition(topic, partition, offset + 1)
                for (topic, partition), offset in sorted(self._consumed.items())]

    def _begin(self) -> None:
        if not self._in_transaction:
            self._producer.begin_transaction()
            self._in_transaction = True

    def commit(self, consumer: Any) -> None:
        """Flush the output, then commit the input positions; refuse to commit if an output was lost. Under
        exactly_once_v2 the offsets go into the transaction, which then commits (and fails if an output did). With
        nothing to commit (``commit_needed``) nothing is sent, and the interval starts again (``StreamThread.maybeCommit``).
        """
        if not self.commit_needed(consumer):
            self._last_commit = time.monotonic()
            return
        try:
            if self.transactional:
                self._commit_transaction(consumer)
                return
            self._flush()
            offsets = self._offsets()
            if offsets:  # none when the partitions processed from were lost meanwhile
                consumer.commit(offsets=offsets, asynchronous=False)
        except self._ck.KafkaException as exc:
            if exc.args[0].code() not in _MIGRATED:
                raise
            # TaskExecutor.commitOffsetsOrTransaction / StreamsProducer.commitTransaction: CommitFailedException ->
            # TaskMigratedException -> handleLostAll. The tasks close uncommitted (the transaction aborts) and the
            # processor goes on with what it is assigned after librdkafka rejoins; at least once, the outputs it sent
            # stay and the partitions' next owner processes that input again.
            self.on_lost(consumer, consumer.assignment())
            self._last_commit = time.monotonic()
            return
        self._commit_needed = False
        self._last_commit = time.monotonic()

    def _flush(self) -> None:
        """Wait for every output's acknowledgement; raise if one was lost for good."""
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

    def _commit_transaction(self, consumer: Any) -> None:
        """The offsets after the records processed sent to the transaction, which commits."""
        self._begin()
        offsets = self._offsets()
        if offsets:  # none when the partitions processed from were lost meanwhile
            self._producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), self._timeout)
        self._producer.commit_transaction(self._timeout)
        self._in_transaction = False
        self._commit_needed = False
        self._last_commit = time.monotonic()

    def on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        """confluent-kafka's ``on_revoke``: commit before the partitions move (``TaskManager.handleRevocation``), in the
        transaction under exactly_once_v2, so their next owner starts after what was sent. A failure is raised by the
        next ``forward`` (an exception raised here would surface from ``consume()`` with the rebalance half done)."""
        if self._producer is not None and self._revoke_failure is None:
            try:
                self.commit(consumer)
            except (KafkaError, self._ck.KafkaException) as exc:
                self._revoke_failure = exc
        self._forget(partitions)

    def on_lost(self, consumer: Any, partitions: list[Any]) -> None:
        """confluent-kafka's ``on_lost`` (``TaskManager.handleLostAll``): the membership is gone, so nothing is committed;
        what was processed from ``partitions`` is forgotten and, under exactly_once_v2, the open transaction aborted
        (Streams closes the tasks dirty: ``RecordCollectorImpl.closeDirty`` aborts), or it would later commit their
        outputs while their next owner produces them again. The next records begin a new transaction; an abort that
        fails is raised by the next ``forward``, as ``on_revoke``'s commit is."""
        self._forget(partitions)
        self._commit_needed = False
        if self._producer is None or not self._in_transaction or self._revoke_failure is not None:
            return
        try:
            self._producer.abort_transaction(self._timeout)
            self._in_transaction = False
        except self._ck.KafkaException as exc:
            self._revoke_failure = exc

    def _forget(self, partitions: list[Any]) -> None:
        for tp in partitions:
            self._consumed.pop((tp.topic, tp.partition), None)

    def crash(self) -> None:
        """Lose what is not sent yet, as a process that dies does; nothing is flushed."""
        self._producer.purge()
        self._producer = None
