"""Actions of producers and consumers: produce, steady producers, consumer groups, stream processors, commits, seeks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from kafkalab.actions.base import MAX_STEP_MS, Action, ActionRun, R, doc, register
from kafkalab.actions.describe import describe_group, describe_transaction
from kafkalab.actions.results import (
    CommitResult,
    ConsumedRecord,
    ConsumeResult,
    ConsumerResult,
    DescribeGroupResult,
    DescribeProducersResult,
    DescribeTransactionResult,
    ProducedRecord,
    ProducerDescription,
    ProduceResult,
    SeekResult,
    StartConsumerResult,
    StartProcessorResult,
    StartProducerResult,
    StopProducerResult,
)
from kafkalab.actions.templates import optional_template_problem, render, templates_problem
from kafkalab.clients.consumer_state import ConsumerRecord
from kafkalab.clients.producer import Producer, RecordMetadata, all_done
from kafkalab.clients.transaction_manager import TxnState
from kafkalab.clients.transforms import EOS_TRANSACTION_TIMEOUT_MS, ProcessingGuarantee, Transform, commit_interval_ms
from kafkalab.errors import Errors, KafkaError, quoted
from kafkalab.protocol.types import TopicPartition
from kafkalab.session.processors import Processor
from kafkalab.session.session import Session
from kafkalab.sim.process import Future, Process, Sleep

Scalar = bool | int | float | str

#: Most records one produce step sends (each is listed in its result).
MAX_RECORDS_PER_STEP = 100_000
#: Fastest steady producer, in records per second of virtual time.
MAX_STEADY_RATE = 100_000
Strategy = Literal["range", "roundrobin", "sticky", "cooperative-sticky"]
IsolationLevel = Literal["read_uncommitted", "read_committed"]
TransactionEnd = Literal["commit", "abort", "open"]
Partitioner = Literal["sticky", "round-robin", "custom"]


def _acks(value: int | str) -> str:
    text = str(value).strip().lower()
    return "all" if text in ("all", "-1") else text


def _producer_config(session: Session, acks: int | str, idempotence: bool | None, partitioner: str | None,
                     config: dict[str, Scalar]) -> dict[str, Any]:
    settings: dict[str, Any] = {**config, "acks": _acks(acks)}
    if idempotence is not None:
        settings["enable.idempotence"] = idempotence
    if partitioner == "custom":
        # Files never name code; the person running kafkalab does, with --partitioner.
        if session.custom_partitioner is None:
            raise KafkaError(Errors.INVALID_CONFIG, "This step asks for the custom partitioner, but none was given: "
                                                    "start kafkalab with --partitioner package.module:function.")
        settings["partitioner.class"] = session.custom_partitioner
    elif partitioner is not None:
        settings["partitioner.class"] = partitioner
    return settings


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", errors="replace")


@register
@dataclass(frozen=True)
class Produce(Action[ProduceResult]):
    step = "produce"
    summary = "Send records (key/value templates with {i}); without a key the keyless partitioner decides."

    topic: str = doc("Topic to write to.")
    value: str | None = doc("Value template; {i} is the record's index (a number format such as {i:05d} may follow "
                            "it). Null sends a tombstone.", "value-{i}", check=optional_template_problem)
    key: str | None = doc("Key template; records with the same key go to the same partition (murmur2).", None,
                          check=optional_template_problem)
    count: int = doc("How many records.", 1, minimum=1, maximum=MAX_RECORDS_PER_STEP)
    partition: int | None = doc("Send to this partition instead of letting the partitioner choose.", None, minimum=0)
    acks: int | str = doc("0, 1 or all.", "all")
    idempotence: bool | None = doc("enable.idempotence (Kafka's default: true with acks=all).", None)
    partitioner: Partitioner | None = doc("sticky (KIP-480/794, the default for keyless records), round-robin, or "
                                          "custom: the function named by `kafkalab --partitioner`.", None)
    headers: dict[str, str] = doc("Header templates.", {}, check=templates_problem)
    config: dict[str, Scalar] = doc("More producer configs with Kafka's names (linger.ms, batch.size ...).", {})
    transactional_id: str | None = doc("Send the records as one transaction of this transactional.id (KIP-98); "
                                       "the first step with an id initializes it, fencing older producers.", None)
    end: TransactionEnd = doc("With transactional_id: commit the transaction, abort it (its records stay in the "
                              "log, invisible to read_committed consumers), or leave it open for a later step.",
                              "commit")

    def run(self, session: Session) -> ActionRun[ProduceResult]:
        config = _producer_config(session, self.acks, self.idempotence, self.partitioner, self.config)
        if self.transactional_id is not None:
            config["transactional.id"] = self.transactional_id
        producer = session.clients.producer(config)
        yield from session.clients.require_topic(producer, self.topic)
        if self.transactional_id is not None:
            yield from _begin_transaction(producer)
        sends: list[tuple[str | None, Future[RecordMetadata]]] = []
        oldest = 0  # the first send that may still hold buffer memory
        for i in range(self.count):
            while producer.buffer_exhausted and oldest < len(sends):
                # Kafka's send() blocks until buffer.memory frees up: wait for the oldest record to settle.
                yield all_done([sends[oldest][1]])
                oldest += 1
            key = render(self.key, i)
            headers = {name: render(template, i) for name, template in self.headers.items()}
            sends.append((key, producer.send(self.topic, render(self.value, i), key, self.partition, headers)))
        # One wait for the whole step, not one per record: flush() settles once every batch sent above has.
        yield producer.flush()
        if self.transactional_id is not None and self.end != "open":
            yield producer.commit_transaction() if self.end == "commit" else producer.abort_transaction()
        records: list[ProducedRecord] = []
        failures: list[KafkaError] = []
        for key, future in sends:
            try:
                metadata = future.result()
            except KafkaError as exc:
                failures.append(exc)
                records.append(ProducedRecord(self.topic, self.partition, error=exc.name))
                continue
            session.record_produced(self.topic, key, metadata.partition)
            records.append(ProducedRecord(self.topic, metadata.partition, metadata.offset))
        if failures and len(failures) == len(records):
            raise KafkaError(failures[0].error, f"None of the {len(records)} record(s) was acknowledged: "
                                                f"{failures[0].message}")
        return ProduceResult(tuple(records))


def _begin_transaction(producer: Producer) -> Process[None]:
    """Initialize the transactional id on first use; join a transaction a previous step left open, or begin one."""
    txn = producer.transaction_manager
    if txn.state is TxnState.UNINITIALIZED:
        yield producer.init_transactions()
    if txn.state is not TxnState.IN_TRANSACTION:
        producer.begin_transaction()


@register
@dataclass(frozen=True)
class StartProducer(Action[StartProducerResult]):
    step = "start_producer"
    summary = "Start a steady producer sending N records per second until stopped."

    id: str = doc("A name for this producer.")
    topic: str = doc("Topic to write to.")
    rate: float = doc("Records per second.", 100, minimum=0.1, maximum=MAX_STEADY_RATE)
    value: str | None = doc("Value template; {i} counts records.", "value-{i}", check=optional_template_problem)
    key: str | None = doc("Key template.", None, check=optional_template_problem)
    acks: int | str = doc("0, 1 or all.", "all")
    config: dict[str, Scalar] = doc("More producer configs with Kafka's names.", {})

    def run(self, session: Session) -> ActionRun[StartProducerResult]:
        key, value = self.key, self.value

        def record(i: int) -> tuple[str | None, str | None]:
            return render(key, i), render(value, i)

        record(0)  # a bad template fails here, not on the first tick
        yield from session.clients.start_steady(self.id, self.topic, self.rate,
                                                _producer_config(session, self.acks, None, None, self.config), record)
        return StartProducerResult(self.id, self.topic, self.rate)


@register
@dataclass(frozen=True)
class StopProducer(Action[StopProducerResult]):
    step = "stop_producer"
    summary = "Stop a steady producer."
    shorthand = "id"

    id: str = doc("The steady producer's name.")

    def run(self, session: Session) -> StopProducerResult:
        steady = session.clients.stop_steady(self.id)
        return StopProducerResult(self.id, steady.sent, steady.acknowledged, steady.failed)


def _consumer_config(strategy: str, auto_offset_reset: str, enable_auto_commit: bool,
                     group_instance_id: str | None, config: dict[str, Scalar],
                     isolation_level: str = "read_uncommitted") -> dict[str, Any]:
    settings: dict[str, Any] = {"isolation.level": isolation_level, **config, "partition.assignment.strategy": strategy,
                                "auto.offset.reset": auto_offset_reset, "enable.auto.commit": enable_auto_commit}
    if group_instance_id is not None:
        settings["group.instance.id"] = group_instance_id
    return settings


_ISOLATION_DOC = ("isolation.level: read_committed reads only up to the last stable offset and skips records of "
                  "aborted transactions; read_uncommitted (Kafka's default) reads everything to the high watermark.")


@register
@dataclass(frozen=True)
class StartConsumer(Action[StartConsumerResult]):
    step = "start_consumer"
    summary = "Start a consumer in a group; it polls continuously until stopped or paused."

    group: str = doc("group.id")
    client_id: str = doc("A name for this consumer (its client.id).")
    topics: tuple[str, ...] = doc("Topics to subscribe to.")
    strategy: Strategy = doc("partition.assignment.strategy", "range")
    auto_offset_reset: Literal["earliest", "latest", "none"] = doc("Where to start without a committed offset.",
                                                                   "latest")
    enable_auto_commit: bool = doc("Commit positions every auto.commit.interval.ms.", True)
    group_instance_id: str | None = doc("Static membership (KIP-345).", None)
    isolation_level: IsolationLevel = doc(_ISOLATION_DOC, "read_uncommitted")
    config: dict[str, Scalar] = doc("More consumer configs with Kafka's names (session.timeout.ms ...).", {})

    def run(self, session: Session) -> StartConsumerResult:
        session.clients.start_consumer(self.group, self.client_id, self.topics, _consumer_config(
            self.strategy, self.auto_offset_reset, self.enable_auto_commit, self.group_instance_id, self.config,
            self.isolation_level))
        return StartConsumerResult(self.group, self.client_id, self.topics)


@dataclass(frozen=True)
class _ConsumerRef(Action[R]):
    group: str = doc("group.id")
    client_id: str = doc("The consumer's name.")

    def ref(self) -> ConsumerResult:
        """The result of an action on one consumer: which one it was."""
        return ConsumerResult(self.group, self.client_id)


@register
@dataclass(frozen=True)
class StopConsumer(_ConsumerRef[ConsumerResult]):
    step = "stop_consumer"
    summary = "Close a consumer cleanly: it commits (with auto-commit) and leaves the group."

    def run(self, session: Session) -> ActionRun[ConsumerResult]:
        yield from session.clients.stop_consumer(self.group, self.client_id)
        return self.ref()


@register
@dataclass(frozen=True)
class KillConsumer(_ConsumerRef[ConsumerResult]):
    step = "kill_consumer"
    summary = "Crash a consumer: no commit, no LeaveGroup; the group notices after session.timeout.ms."

    def run(self, session: Session) -> ActionRun[ConsumerResult]:
        yield from session.clients.stop_consumer(self.group, self.client_id, crash=True)
        return self.ref()


@register
@dataclass(frozen=True)
class PauseConsumer(_ConsumerRef[ConsumerResult]):
    step = "pause_consumer"
    summary = "Stop a consumer's polling (a slow consumer); after max.poll.interval.ms it leaves the group."

    def run(self, session: Session) -> ConsumerResult:
        session.clients.running(self.group, self.client_id).paused = True
        return self.ref()


@register
@dataclass(frozen=True)
class ResumeConsumer(_ConsumerRef[ConsumerResult]):
    step = "resume_consumer"
    summary = "Let a paused consumer poll again."

    def run(self, session: Session) -> ConsumerResult:
        session.clients.running(self.group, self.client_id).paused = False
        return self.ref()


@register
@dataclass(frozen=True)
class StartProcessor(_ConsumerRef[StartProcessorResult]):
    step = "start_processor"
    summary = ("Start a stream processor: it consumes one topic, transforms each record, produces it to another "
               "topic and commits every commit_interval_ms if it processed records, and before a rebalance takes its "
               "partitions, at least once, as Kafka Streams does.")

    source: str = doc("The topic it reads.")
    sink: str = doc("The topic it writes (another one).")
    transform: Transform = doc("copy; uppercase (the value, the key stays); key_by_value (the value becomes the "
                               "key, so records move partitions: a repartition).", "copy")
    contains: str | None = doc("Forward only records whose value contains this text (a filter).", None)
    commit_interval_ms: float | None = doc("commit.interval.ms: how often it flushes its output and then commits "
                                           "its input offsets, if it processed records since the last commit "
                                           "(Kafka Streams' default: 30 s, or 100 ms with exactly_once_v2).", None,
                                           minimum=0, maximum=MAX_STEP_MS)
    strategy: Strategy = doc("partition.assignment.strategy", "range")
    auto_offset_reset: Literal["earliest", "latest", "none"] = doc("Where to start without a committed offset.",
                                                                   "earliest")
    processing_guarantee: ProcessingGuarantee = doc(
        "at_least_once (Kafka Streams' default: a crash between commits sends outputs again) or exactly_once_v2 "
        "(outputs and input offsets commit in one transaction; it reads read_committed).", "at_least_once")

    def run(self, session: Session) -> ActionRun[StartProcessorResult]:
        exactly_once = self.processing_guarantee == "exactly_once_v2"
        interval = commit_interval_ms(self.commit_interval_ms, self.processing_guarantee)
        settings: dict[str, Any] = {"acks": "all"}
        if exactly_once:
            # Kafka Streams names each producer's transactional.id after the application and the thread.
            settings.update({"transactional.id": f"{self.group}-{self.client_id}",
                             "transaction.timeout.ms": EOS_TRANSACTION_TIMEOUT_MS})
        producer = session.cluster.producer(settings)
        if exactly_once:
            yield producer.init_transactions()
        processor = Processor(self.source, self.sink, self.transform, self.contains, interval, producer,
                              session.scheduler.now_ms, transactional_group=self.group if exactly_once else None,
                              journal=session.cluster.journal)
        session.clients.start_processor(self.group, self.client_id, processor, _consumer_config(
            self.strategy, self.auto_offset_reset, False, None, {},
            "read_committed" if exactly_once else "read_uncommitted"))
        return StartProcessorResult(self.group, self.client_id, self.source, self.sink, self.transform)


@register
@dataclass(frozen=True)
class Consume(_ConsumerRef[ConsumeResult]):
    step = "consume"
    summary = "Collect records a consumer polls (starting, polling and stopping it if it is not running)."

    max_records: int = doc("Stop after this many records.", 500, minimum=1)
    timeout_ms: float = doc("Stop after this long even with fewer records.", 10_000, minimum=0, maximum=MAX_STEP_MS)
    topics: tuple[str, ...] = doc("Topics to subscribe to when the consumer is not running yet.", ())
    auto_offset_reset: Literal["earliest", "latest", "none"] = doc("For a consumer started by this step.",
                                                                   "earliest")
    strategy: Strategy = doc("For a consumer started by this step.", "range")
    isolation_level: IsolationLevel = doc("For a consumer started by this step: " + _ISOLATION_DOC,
                                          "read_uncommitted")

    def run(self, session: Session) -> ActionRun[ConsumeResult]:
        clients = session.clients
        temporary = (self.group, self.client_id) not in clients.consumers
        if temporary:
            if not self.topics:
                raise KafkaError(Errors.INVALID_ARGUMENT, f"Consumer {quoted(self.client_id)} is not running; give "
                                                          f"`topics` so this step can start it.")
            clients.start_consumer(self.group, self.client_id, self.topics,
                                   _consumer_config(self.strategy, self.auto_offset_reset, True, None, {},
                                                    self.isolation_level),
                                   background=False)
        running = clients.running(self.group, self.client_id)
        deadline = session.scheduler.now_ms + self.timeout_ms
        collected: list[ConsumerRecord] = []
        while len(collected) < self.max_records:
            while running.buffer and len(collected) < self.max_records:
                collected.append(running.buffer.popleft())
            if len(collected) >= self.max_records or session.scheduler.now_ms >= deadline:
                break
            if temporary:
                yield from clients.poll_once(running)
            else:
                yield Sleep(10)
        if temporary:
            yield from clients.stop_consumer(self.group, self.client_id)
        return ConsumeResult(tuple(ConsumedRecord(r.topic, r.partition, r.offset, _text(r.key), _text(r.value))
                                   for r in collected))


@register
@dataclass(frozen=True)
class Commit(_ConsumerRef[CommitResult]):
    step = "commit"
    summary = "Commit a consumer's current positions synchronously."

    def run(self, session: Session) -> ActionRun[CommitResult]:
        consumer = session.clients.running(self.group, self.client_id).consumer
        yield consumer.commit_sync()
        committed = yield consumer.committed(sorted(consumer.assignment()))
        return CommitResult(self.group, self.client_id, {str(tp): (None if meta is None else meta.offset)
                                                         for tp, meta in sorted(committed.items())})


@register
@dataclass(frozen=True)
class Seek(_ConsumerRef[SeekResult]):
    step = "seek"
    summary = "Move a consumer's position in a partition: to an offset, the beginning or the end (replay)."

    topic: str = doc("Topic.")
    partition: int = doc("Partition.", minimum=0)
    offset: int | None = doc("The offset to read next.", None, minimum=0)
    to: Literal["beginning", "end"] | None = doc("Instead of an offset: the log start or the log end.", None)

    def run(self, session: Session) -> ActionRun[SeekResult]:
        consumer = session.clients.running(self.group, self.client_id).consumer
        tp = TopicPartition(self.topic, self.partition)
        if (self.offset is None) == (self.to is None):
            raise KafkaError(Errors.INVALID_ARGUMENT, "Give exactly one of `offset` or `to` (beginning or end).")
        if self.to == "beginning":
            consumer.seek_to_beginning([tp])
        elif self.to == "end":
            consumer.seek_to_end([tp])
        elif self.offset is not None:
            consumer.seek(tp, self.offset)
        position = yield consumer.position(tp)
        return SeekResult(self.topic, self.partition, position)


@register
@dataclass(frozen=True)
class DescribeGroup(Action[DescribeGroupResult]):
    step = "describe_group"
    summary = "Show a consumer group's state, generation, strategy, members and assignment."
    shorthand = "group"

    group: str = doc("group.id")

    def run(self, session: Session) -> DescribeGroupResult:
        return describe_group(session.cluster.snapshot(), self.group)


@register
@dataclass(frozen=True)
class DescribeTransaction(Action[DescribeTransactionResult]):
    step = "describe_transaction"
    summary = "Show a transactional id's state, producer id and epoch, partitions and timeout (kafka-transactions.sh)."
    shorthand = "transactional_id"

    transactional_id: str = doc("transactional.id")

    def run(self, session: Session) -> DescribeTransactionResult:
        return describe_transaction(session.cluster.snapshot(), self.transactional_id)


@register
@dataclass(frozen=True)
class DescribeProducers(Action[DescribeProducersResult]):
    step = "describe_producers"
    summary = "List the producers a partition's leader knows: epoch, last sequence, open transaction (kafka-transactions.sh)."

    topic: str = doc("Topic.")
    partition: int = doc("Partition.", minimum=0)

    def run(self, session: Session) -> ActionRun[DescribeProducersResult]:
        answer = yield session.cluster.describe_producers(self.topic, self.partition)
        return DescribeProducersResult(self.topic, self.partition, tuple(
            ProducerDescription(p.producer_id, p.producer_epoch, p.coordinator_epoch, p.last_sequence,
                                p.last_timestamp, p.current_txn_start_offset if p.current_txn_start_offset >= 0 else None)
            for p in sorted(answer.producers, key=lambda p: p.producer_id)))
