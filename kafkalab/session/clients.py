"""The producers and consumers a user started in a session, known by name.

A started consumer polls continuously in the background like an application's poll
loop (heartbeats run on their own timer, as in Kafka); pausing it stops the polling,
which is how a slow consumer looks to its group. A steady producer sends at a fixed
rate. Producers for one-off sends are shared per configuration so the sticky
partitioner keeps its state between sends, as one application's producer would.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kafkalab.errors import Errors, KafkaError, quoted
from kafkalab.events.clients import PollFailed, ProcessorFailed
from kafkalab.sim.process import Process, Sleep, spawn
from kafkalab.sim.scheduler import TimerGroup

if TYPE_CHECKING:
    from kafkalab.clients.consumer import Consumer, ConsumerRecord
    from kafkalab.clients.producer import Producer
    from kafkalab.session.processors import Processor
    from kafkalab.session.session import Session

#: Records a running consumer keeps for ``consume`` steps to collect.
BUFFER_RECORDS = 10_000
POLL_TIMEOUT_MS = 100.0
#: A steady producer sends in ticks of this length.
STEADY_TICK_MS = 10.0


def _missing_topic(topic: str, error: Errors, max_block_ms: int) -> str:
    """Why a producer to ``topic`` is refused: the broker's answer, and what Kafka's producer would have done."""
    if error == Errors.INVALID_TOPIC_EXCEPTION:
        return f"{quoted(topic)} is not a valid topic name, so no broker creates it on first use."
    return (f"Topic {quoted(topic)} does not exist, and the brokers do not create topics on first use "
            f"(auto.create.topics.enable=false): create it first. Kafka's producer would wait max.block.ms "
            f"({max_block_ms:,} ms) and then fail every send with \"Topic {topic} not present in metadata\".")


@dataclass(eq=False)
class RunningConsumer:
    """A consumer with its background poll loop and the records it returned."""

    group: str
    client_id: str
    consumer: Consumer
    buffer: deque[ConsumerRecord] = field(default_factory=lambda: deque(maxlen=BUFFER_RECORDS))
    paused: bool = False
    polls: int = 0
    #: Set for a stream processor: where its records go after each poll.
    processor: Processor | None = None
    #: The message of the error a poll() last raised (reported once, until a poll returns records).
    last_poll_error: str | None = None


@dataclass(eq=False)
class SteadyProducer:
    """A producer sending ``rate`` records per second until stopped."""

    producer_id: str
    topic: str
    rate: float
    producer: Producer
    timers: TimerGroup
    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    last_error: str | None = None


class SessionClients:
    """Every named client of one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.consumers: dict[tuple[str, str], RunningConsumer] = {}
        self.steady: dict[str, SteadyProducer] = {}
        self._producers: dict[tuple[tuple[str, Any], ...], Producer] = {}

    # -- producers -----------------------------------------------------------------

    def producer(self, config: dict[str, Any]) -> Producer:
        """The session's producer for this configuration (created on first use)."""
        key = tuple(sorted(config.items()))
        producer = self._producers.get(key)
        if producer is None:
            producer = self._producers[key] = self.session.cluster.producer(config)
        return producer

    def require_topic(self, producer: Producer, topic: str) -> Process[None]:
        """Refuse at once a topic that does not exist and will not be created on first use.

        Kafka's producer would block each ``send()`` for ``max.block.ms`` (a minute) and then fail it
        with "Topic ... not present in metadata": a learner would wait a minute to learn of a typo, and
        a steady producer would only count failures, silently.
        """
        if self.session.cluster.partition_count(topic) is None:
            # Not in ZooKeeper: the broker's answer says whether it creates the topic now.
            status = yield producer.topic_status(topic)
            if status in (Errors.UNKNOWN_TOPIC_OR_PARTITION, Errors.INVALID_TOPIC_EXCEPTION):
                raise KafkaError(status, _missing_topic(topic, status, producer.config["max.block.ms"]))

    def start_steady(self, producer_id: str, topic: str, rate: float, config: dict[str, Any],
                     record: Any) -> Process[SteadyProducer]:
        """Send ``record(i)`` -> (key, value) at ``rate`` records/s until ``stop_steady`` (a missing topic is refused
        at once: ``require_topic``)."""
        self._refuse_running_steady(producer_id)
        producer = self.session.cluster.producer(config)
        try:
            yield from self.require_topic(producer, topic)
        except KafkaError:
            producer.crash()  # it sent nothing: nothing to flush
            raise
        self._refuse_running_steady(producer_id)
        timers = TimerGroup(self.session.scheduler, f"steady producer {producer_id}")
        steady = SteadyProducer(producer_id, topic, rate, producer, timers)
        self.steady[producer_id] = steady
        owed = 0.0

        def tick() -> None:
            nonlocal owed
            if steady.producer.buffer_exhausted:
                owed = 0.0  # Kafka's send() would block this producer's thread: it sends nothing meanwhile
                return
            owed += rate * STEADY_TICK_MS / 1000.0
            while owed >= 1:
                owed -= 1
                key, value = record(steady.sent)
                steady.sent += 1
                try:
                    sent = steady.producer.send(topic, value, key)
                except KafkaError as exc:
                    # One bad send is counted, as an application catching send()'s exception would; the loop goes on.
                    self._count(steady, exc)
                    continue
                sent.add_done_callback(lambda f: self._count(steady, f.error))

        timers.every(STEADY_TICK_MS, tick)
        return steady

    def _refuse_running_steady(self, producer_id: str) -> None:
        if producer_id in self.steady:
            raise KafkaError(Errors.ILLEGAL_STATE, f"A steady producer named {quoted(producer_id)} is already running; "
                                                   f"stop it first or choose another name.")

    @staticmethod
    def _count(steady: SteadyProducer, error: BaseException | None) -> None:
        if error is None:
            steady.acknowledged += 1
        else:
            steady.failed += 1
            steady.last_error = error.name if isinstance(error, KafkaError) else str(error)

    def stop_steady(self, producer_id: str) -> SteadyProducer:
        """Stop a steady producer (records already sent still complete)."""
        steady = self.steady.pop(producer_id, None)
        if steady is None:
            raise KafkaError(Errors.INVALID_ARGUMENT, f"No steady producer named {quoted(producer_id)} is running.")
        steady.timers.cancel_all()
        steady.producer.close()
        return steady

    # -- consumers -----------------------------------------------------------------

    def running(self, group: str, client_id: str) -> RunningConsumer:
        """A started consumer, or INVALID_ARGUMENT naming the ones that exist."""
        running = self.consumers.get((group, client_id))
        if running is None:
            known = ", ".join(f"{g}/{c}" for g, c in sorted(self.consumers)) or "none"
            raise KafkaError(Errors.INVALID_ARGUMENT,
                             f"No consumer {quoted(client_id)} is running in group {quoted(group)} (running: {known}).")
        return running

    def start_consumer(self, group: str, client_id: str, topics: tuple[str, ...], config: dict[str, Any],
                       background: bool = True, listener: Callable[[Consumer], Any] | None = None) -> RunningConsumer:
        """Create a consumer in ``group``, subscribe it (with the rebalance listener ``listener`` makes for it, if
        given) and (by default) start its poll loop."""
        for running_group, running_id in self.consumers:
            if running_id == client_id:
                raise KafkaError(Errors.ILLEGAL_STATE, f"Consumer {quoted(client_id)} is already running in group "
                                                       f"{quoted(running_group)}: stop it first, or give this one "
                                                       f"another client id.")
        consumer = self.session.cluster.consumer({**config, "group.id": group, "client.id": client_id})
        consumer.subscribe(topics, listener(consumer) if listener is not None else None)
        running = RunningConsumer(group, client_id, consumer)
        self.consumers[(group, client_id)] = running
        if background:
            spawn(consumer.timers, self._poll_loop(running), name="poll loop")
        return running

    def start_processor(self, group: str, client_id: str, processor: Processor, config: dict[str, Any]) -> RunningConsumer:
        """Start a stream processor: a consumer of ``processor.source`` in ``group`` whose poll loop forwards
        each record to ``processor.sink`` and commits every ``processor.commit_interval_ms`` (never auto-commit)
        if it processed anything, and before its partitions move in a rebalance."""
        topics = {topic.name for topic in self.session.cluster.snapshot().topics}
        for role, topic in (("source", processor.source), ("sink", processor.sink)):
            if topic not in topics:
                raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"The processor's {role} topic {quoted(topic)} does "
                                                                    f"not exist; create it first.")
        if processor.source == processor.sink:
            raise KafkaError(Errors.INVALID_ARGUMENT, "A processor that writes the topic it reads would read its own "
                                                      "output forever; give it another sink topic.")
        # Loaded with the processor that needs it: a session that runs none (the TUI's start) leaves it out (issue 18).
        from kafkalab.session.processors import ProcessorRebalanceListener

        scheduler = self.session.scheduler
        running = self.start_consumer(
            group, client_id, (processor.source,), {**config, "enable.auto.commit": False}, background=False,
            listener=lambda consumer: ProcessorRebalanceListener(processor, consumer, consumer.timers,
                                                                 lambda: scheduler.now_ms))
        running.processor = processor
        spawn(running.consumer.timers, self._poll_loop(running), name="stream processor loop")
        return running

    def _poll_loop(self, running: RunningConsumer) -> Process[None]:
        scheduler = self.session.scheduler
        while not running.consumer.closed:
            if running.paused:
                yield Sleep(POLL_TIMEOUT_MS)
                continue
            records = yield from self.poll_once(running)
            processor = running.processor
            if processor is None:
                continue
            try:
                # A commit under way (the rebalance listener's) ends before more is processed.
                yield from processor.settled()
                if self.consumers.get((running.group, running.client_id)) is not running:
                    return  # stopped meanwhile: its close committed what it processed
                if processor.failure is not None:
                    raise processor.failure
                processor.forward(records, running.consumer.assignment())
                if processor.due(scheduler.now_ms):
                    yield from processor.commit(running.consumer, lambda: scheduler.now_ms)
            except KafkaError as exc:
                # As a Kafka Streams thread dies on a lost output: leave without committing.
                processor.failure = exc
                self.session.last_error = exc.name
                self.session.cluster.journal.emit(ProcessorFailed, client_id=running.client_id, group_id=running.group,
                                                  sink=processor.sink, failed=processor.failed, error=exc.name)
                self.consumers.pop((running.group, running.client_id), None)
                processor.producer.crash()
                running.consumer.close()
                return

    def poll_once(self, running: RunningConsumer) -> Process[list[ConsumerRecord]]:
        """One poll(); its records go to the buffer and the session's counts."""
        try:
            records = yield running.consumer.poll(POLL_TIMEOUT_MS)
        except KafkaError as exc:
            # Kafka's poll() throws and the application decides; the loop reports and keeps polling.
            self.session.last_error = exc.name
            if running.last_poll_error != exc.message:
                running.last_poll_error = exc.message
                self.session.cluster.journal.emit(PollFailed, client_id=running.client_id, group_id=running.group,
                                                  error=exc.name, reason=exc.message)
            yield Sleep(POLL_TIMEOUT_MS)
            return []
        if records:
            running.last_poll_error = None
        running.polls += 1
        running.buffer.extend(records)
        self.session.record_consumed(running.group, running.client_id, records)
        return records

    def stop_consumer(self, group: str, client_id: str, crash: bool = False) -> Process[None]:
        """Close a consumer cleanly (commit, LeaveGroup) or crash it (the group waits for the session timeout)."""
        running = self.running(group, client_id)
        del self.consumers[(group, client_id)]
        processor = running.processor
        if crash:
            running.consumer.crash()
            if processor is not None:
                processor.producer.crash()
            return
        if processor is not None:
            # Kafka Streams' close(): stop processing, flush the output, commit the input.
            running.paused = True
            try:
                yield from processor.commit(running.consumer, lambda: self.session.scheduler.now_ms)
            except KafkaError:
                processor.producer.crash()
                yield running.consumer.close()
                raise
            yield processor.producer.close()
        yield running.consumer.close()

    def close(self) -> None:
        """Stop every client without waiting (the session is ending)."""
        for steady in self.steady.values():
            steady.timers.cancel_all()
        for running in self.consumers.values():
            running.consumer.crash()
            if running.processor is not None:
                running.processor.producer.crash()
