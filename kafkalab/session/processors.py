"""Stream processors: consume a topic, transform each record, produce the results to another topic.

This is the consume-transform-produce loop at the heart of Kafka Streams, with its default
``processing.guarantee=at_least_once``: output records are sent as input is polled, and
every ``commit.interval.ms`` (30 s by default, as in Kafka Streams) the producer is
flushed, so every output is acknowledged, and only then are the offsets after the records
processed committed.
A processor that crashes between two commits is restarted from the last commit and sends
the outputs of those records again: the output topic gets duplicates.

With ``processing.guarantee=exactly_once_v2`` (KIP-447) the producer is transactional: the
outputs since the last commit and the input offsets (``sendOffsetsToTransaction``) commit
together every ``commit.interval.ms`` (100 ms by default then), and the processor reads
with ``isolation.level=read_committed``. A crash leaves its open transaction to be aborted
by the coordinator after ``transaction.timeout.ms`` (10 s, as Kafka Streams sets it), and the
next processor starts from the last committed offsets: read_committed readers of the
output see every record once.

As Kafka Streams, it commits only when something needs committing (``StreamTask.commitNeeded()``,
checked by ``TaskManager.commit`` when ``StreamThread.maybeCommit`` finds the interval passed):
records were processed since the last commit, or a position moved past the last processed record
(control records the consumer skipped). An idle processor under exactly_once_v2 thus writes no
empty transactions. Before its partitions move in a rebalance it commits what it processed
(``TaskManager.handleRevocation``, from the consumer's rebalance listener), in the transaction
under exactly_once_v2, so the partitions' next owner starts after it: no duplicates. Partitions lost
instead (its membership expired: their next owner may have processed them already) are dropped without a
commit and, under exactly_once_v2, the open transaction is aborted (``TaskManager.handleLostAll``).
A processor that has not heard yet that the group removed it (a zombie) sends its offsets with its
consumer's group metadata (KIP-447), so the group coordinator refuses them (CommitFailed, Streams'
``TaskMigratedException``) and it aborts the same way rather than commit outputs the partitions' new
owner produces too. At least once, the consumer's own commit is refused the same way: the processor drops its
tasks uncommitted and rejoins, and the outputs it sent meanwhile stay (the duplicates that guarantee allows).

Its transforms and commit settings are shared with processors run on a real cluster
(``kafkalab/clients/transforms.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kafkalab.clients.consumer import Consumer, ConsumerRecord
from kafkalab.clients.producer import Producer, RecordMetadata
from kafkalab.clients.transaction_manager import TxnState
from kafkalab.clients.transforms import TRANSFORMS, forwarded
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import ProcessorMigrated
from kafkalab.events.journal import EventJournal
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process, spawn
from kafkalab.sim.scheduler import TimerGroup


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
    #: Where the processor says what it does on its own (a refused commit); None says nothing.
    journal: EventJournal | None = None
    #: Done when the commit under way ends: a close waits for the poll loop's commit rather than racing it.
    _committing: Future[None] | None = None
    #: Kafka Streams' ``consumedOffsets``: the offset of the last record processed from each owned partition.
    _consumed: dict[TopicPartition, int] = field(default_factory=dict)
    #: Kafka Streams' ``commitNeeded`` flag: records were processed since the last commit.
    _commit_needed: bool = False
    #: Partitions revoked (their tasks closed) and not assigned again: records of them still to process are dropped.
    _revoked: set[TopicPartition] = field(default_factory=set)
    #: Why the processor failed (a commit, e.g. the rebalance listener's, or an output): it then stops, committing
    #: nothing more.
    failure: KafkaError | None = None

    def forward(self, records: list[ConsumerRecord], owned: set[TopicPartition]) -> None:
        """Send the transformed output of ``records`` from partitions still ``owned`` (acknowledged later, checked at
        the next commit); records of revoked partitions are dropped, as Streams closes their tasks' queues."""
        records = [record for record in records
                   if (tp := TopicPartition(record.topic, record.partition)) in owned and tp not in self._revoked]
        if not records:
            return
        # As StreamTask.process(): every record read counts, forwarded by the filter or not.
        self._commit_needed = True
        for record in records:
            self._consumed[TopicPartition(record.topic, record.partition)] = record.offset
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

    def commit_needed(self, consumer: Consumer) -> bool:
        """``StreamTask.commitNeeded()``: records were processed since the last commit, or a position is more than
        one past the last processed record (the consumer skipped control records, e.g. transaction markers)."""
        if not self._commit_needed:
            positions = consumer.positions()
            for tp, offset in self._consumed.items():
                position = positions.get(tp)
                if position is not None and position > offset + 1:
                    self._commit_needed = True
                    self._consumed[tp] = position - 1
        return self._commit_needed

    def _begin(self) -> None:
        if self.producer.transaction_manager.state is not TxnState.IN_TRANSACTION:
            self.producer.begin_transaction()

    def settled(self) -> Process[None]:
        """Wait for the commit under way, if any: nothing is processed meanwhile, as Streams' listener runs inside
        ``poll()`` on the thread that processes."""
        while self._committing is not None:
            yield self._committing

    def commit(self, consumer: Consumer, now_ms: Callable[[], float]) -> Process[None]:
        """Flush the output, then commit the offsets after the records processed; refuse to commit if an output was
        lost.

        Kafka Streams fails the task when a send fails for good (its input is then read again
        by whoever takes the partitions over), rather than committing past a lost output.
        Under exactly_once_v2 the offsets go into the transaction, which then commits. As Streams commits each task's
        ``consumedOffsets`` + 1, not the consumer's positions, a record returned but not yet processed is not
        committed past. With nothing to commit
        (``commit_needed``) nothing is sent, and the interval starts again, as ``StreamThread.maybeCommit`` does.
        """
        yield from self.settled()
        committing = self._committing = Future()
        try:
            yield from self._commit(consumer, now_ms)
        finally:
            self._committing = None
            committing.set_result(None)

    def _commit(self, consumer: Consumer, now_ms: Callable[[], float]) -> Process[None]:
        if not self.commit_needed(consumer):
            self.last_commit_ms = now_ms()
            return
        offsets = {tp: offset + 1 for tp, offset in self._consumed.items()}
        try:
            if self.transactional_group is not None:
                self._begin()
                if offsets:  # none when the partitions processed from were lost meanwhile
                    # With the member's generation (KIP-447), as StreamsProducer.commitTransaction under
                    # exactly_once_v2: the group coordinator refuses a zombie's offsets.
                    yield self.producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
                yield self.producer.commit_transaction()
            else:
                yield self.producer.flush()
                if self.last_error is not None:
                    raise KafkaError(self.last_error, f"{self.failed} output record(s) to {self.sink} failed; the "
                                                      f"processor stops without committing, so its input is processed "
                                                      f"again.")
                yield consumer.commit_sync(offsets)
        except KafkaError as exc:
            # CommitFailedException, from the transaction's offsets or (at least once) the consumer's commit:
            # TaskExecutor.commitOffsetsOrTransaction turns it into TaskMigratedException.
            if exc.error is not Errors.COMMIT_FAILED:
                raise
            yield from self._migrated(consumer, now_ms)
            return
        self._commit_needed = False
        self.last_commit_ms = now_ms()

    def _migrated(self, consumer: Consumer, now_ms: Callable[[], float]) -> Process[None]:
        """The group moved on without this member: Streams' ``TaskMigratedException`` -> ``handleLostAll``.

        Every task closes dirty, uncommitted (and under exactly_once_v2 the transaction aborts); the consumer rejoins
        when it hears of the lost membership (the failed commit reset its generation, or its next heartbeat), and the
        processor goes on with what it is assigned then. At least once, the outputs already sent stay: the input's next
        owner processes it again, the duplicates that guarantee allows.
        """
        if self.journal is not None:
            self.journal.emit(ProcessorMigrated, client_id=consumer.client_id, group_id=consumer.group_id or "",
                              error=Errors.COMMIT_FAILED.name, exactly_once=self.transactional_group is not None)
        self._lose(list(consumer.assignment()))
        yield from self._abort()
        self.last_commit_ms = now_ms()

    def on_revoke(self, consumer: Consumer, partitions: list[TopicPartition],
                  now_ms: Callable[[], float]) -> Process[None]:
        """Commit before ``partitions`` move (``TaskManager.handleRevocation``): everything that needs it, in one
        transaction under exactly_once_v2, so their next owner starts after what this processor sent. A commit that
        fails is kept in ``failure`` for the poll loop, as Streams rethrows it once the tasks are suspended; a processor
        that failed already commits nothing (a dying Streams thread closes its tasks dirty)."""
        self._revoked.update(partitions)
        if self.failure is None:
            try:
                yield from self.commit(consumer, now_ms)
            except KafkaError as exc:
                self.failure = exc
        self.forget(partitions)

    def on_lost(self, partitions: list[TopicPartition]) -> Process[None]:
        """Close the tasks of ``partitions`` dirty (``TaskManager.handleLostAll``): nothing is committed, and under
        exactly_once_v2 the open transaction is aborted once a commit under way ends.

        Kafka 3.9's ``handleLostAll`` closes every active task dirty (``RecordCollectorImpl.closeDirty`` calls
        ``StreamsProducer.abortTransaction``) and then ``reInitializeThreadProducer`` (``StreamsProducer.resetProducer``)
        closes the producer, which aborts what is still open. Left open, the transaction would commit the lost
        partitions' outputs later with no input offsets, while their next owner produces them again: duplicates for
        read_committed readers. The abort counts as a commit under way, so nothing is processed meanwhile; the next
        records begin a new transaction. An abort that fails (e.g. fenced: the coordinator aborted it already on
        ``transaction.timeout.ms``) leaves the producer unable to begin another transaction: Streams swallows the
        error and goes on with the new producer ``resetProducer`` makes; this processor has no other producer, so it
        fails (``failure``) and the coordinator aborts whatever is still open by ``transaction.timeout.ms``."""
        self._lose(partitions)
        if self.transactional_group is None:
            return
        yield from self.settled()
        aborting = self._committing = Future()
        try:
            yield from self._abort()
        finally:
            self._committing = None
            aborting.set_result(None)

    def _lose(self, partitions: list[TopicPartition]) -> None:
        self.forget(partitions)
        self._commit_needed = False

    def _abort(self) -> Process[None]:
        """Abort the open transaction, if any; a failed abort is kept in ``failure`` (see ``on_lost``)."""
        if self.transactional_group is None or self.producer.transaction_manager.state not in (
                TxnState.IN_TRANSACTION, TxnState.ABORTABLE_ERROR):
            return
        try:
            yield self.producer.abort_transaction()
        except KafkaError as exc:
            if self.failure is None:
                self.failure = exc

    def forget(self, partitions: list[TopicPartition]) -> None:
        """Drop what was processed from partitions this processor no longer owns (their tasks are closed)."""
        self._revoked.update(partitions)
        for tp in partitions:
            self._consumed.pop(tp, None)

    def assigned(self, partitions: list[TopicPartition]) -> None:
        """Partitions (perhaps revoked before) that are this processor's again: their records are processed."""
        self._revoked.difference_update(partitions)


@dataclass(frozen=True)
class ProcessorRebalanceListener:
    """The rebalance listener of a processor's consumer (Kafka Streams' ``StreamsRebalanceListener``)."""

    processor: Processor
    consumer: Consumer
    timers: TimerGroup
    now_ms: Callable[[], float]

    def on_partitions_revoked(self, partitions: list[TopicPartition]) -> Future[None]:
        """Commit first: the consumer gives the partitions up once the returned future is done."""
        return spawn(self.timers, self.processor.on_revoke(self.consumer, partitions, self.now_ms),
                     name="commit before revocation").claim()

    def on_partitions_assigned(self, partitions: list[TopicPartition]) -> None:
        self.processor.assigned(partitions)

    def on_partitions_lost(self, partitions: list[TopicPartition]) -> Future[None]:
        """Lost, not revoked (``TaskManager.handleLostAll``): the membership is gone, so nothing is committed, the
        tasks close dirty and an exactly_once_v2 transaction aborts; their next owner processes their input again."""
        return spawn(self.timers, self.processor.on_lost(partitions), name="abort on lost partitions").claim()
