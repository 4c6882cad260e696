"""The consumers and steady producers a user started on a real cluster, known by name, as the lab's session keeps them.

A started consumer is a confluent-kafka ``Consumer`` on a thread of its own that polls
continuously, as an application's poll loop does and as the lab's started consumer does
(``kafkalab/session/clients.py``); what its polls return waits in a buffer for ``consume``
steps. librdkafka's consumer is called only from that thread: a commit, a seek or a close
is handed to it and runs between two polls, so a record is never returned while its
partition is being moved. Pausing stops the polling, which is how a slow consumer looks to
its group: after ``max.poll.interval.ms`` it leaves (KIP-62; librdkafka enforces it too).
A crash (``kill_consumer``) drops the consumer without closing it: confluent-kafka destroys an
unclosed consumer with ``RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE`` (its ``Consumer_dealloc``), so
nothing is committed and no LeaveGroup is sent, and the group notices only when
``session.timeout.ms`` passes, as with the lab's crashed consumer. A stream processor's consumer
forwards what it polls to its ``RealProcessor`` (``processor.py``) on the same thread.
A steady producer sends ``rate`` records a second from a thread of its own until stopped.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from kafkalab.actions.results import ConsumedRecord
from kafkalab.attach.processor import RealProcessor
from kafkalab.errors import Errors, KafkaError, quoted

T = TypeVar("T")

#: Records a running consumer keeps for ``consume`` steps (the lab's ``BUFFER_RECORDS``).
BUFFER_RECORDS = 10_000
#: One poll waits at most this long, so commands and a close are served within it (the lab's ``POLL_TIMEOUT_MS``).
POLL_TIMEOUT_S = 0.1
#: A steady producer sends in ticks of this length (the lab's ``STEADY_TICK_MS``).
STEADY_TICK_S = 0.01


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", errors="replace")


class RealConsumer:
    """One librdkafka consumer and the thread that owns it."""

    def __init__(self, ck: ModuleType, config: dict[str, Any], group: str, client_id: str,
                 topics: tuple[str, ...], processor: RealProcessor | None = None) -> None:
        self.group, self.client_id = group, client_id
        self._ck = ck
        self.processor = processor
        self._consumer: Any = ck.Consumer(config)
        if processor is None:
            self._consumer.subscribe(list(topics))
        else:
            # Streams' rebalance listener: commit before partitions are revoked (librdkafka calls it inside consume()).
            self._consumer.subscribe(list(topics), on_revoke=processor.on_revoke, on_lost=processor.on_lost)
        self._buffer: deque[ConsumedRecord] = deque(maxlen=BUFFER_RECORDS)
        self._arrived = threading.Condition()
        self._commands: queue.SimpleQueue[tuple[Callable[[Any], Any], Future[Any]]] = queue.SimpleQueue()
        self.paused = False
        #: The last error a poll returned (the lab's ``last_poll_error``).
        self.last_poll_error: str | None = None
        self._closing = False
        self._crashed = False
        #: Why a processor's loop stopped on its own (an output lost for good), as the lab's ProcessorFailed says.
        self.failure: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"kafkalab-consumer-{client_id}", daemon=True)
        self._thread.start()

    def call(self, work: Callable[[Any], T], timeout_s: float) -> T:
        """``work(consumer)`` run on the consumer's own thread between two polls; its result or its exception. A
        processor whose loop stopped on its own runs nothing more, and that is said rather than waited out."""
        future: Future[T] = Future()
        self._commands.put((work, future))
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return future.result(min(POLL_TIMEOUT_S, max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                if future.done():
                    raise  # the work's own
                if not self._thread.is_alive():
                    raise KafkaError(Errors.INVALID_ARGUMENT, self.gone()) from None
                if time.monotonic() >= deadline:
                    raise KafkaError(Errors.REQUEST_TIMED_OUT, f"Consumer {quoted(self.client_id)} did not get to "
                                                               f"the request within {timeout_s:g} s.") from None

    def gone(self) -> str:
        """Why it no longer runs, as the lab's ProcessorFailed says it."""
        return (f"Consumer {quoted(self.client_id)} of group {quoted(self.group)} is no longer running: "
                f"{self.failure or 'it was stopped'}")

    def set_paused(self, paused: bool, timeout_s: float) -> None:
        """Stop or restart the polling. Set on the consumer's thread between two polls, so once paused no poll is
        under way: nothing produced after the pause reaches the buffer."""
        def pause(consumer: Any) -> None:
            self.paused = paused

        self.call(pause, timeout_s)

    def take(self, max_records: int, deadline: float) -> list[ConsumedRecord]:
        """Records the polls returned, oldest first: up to ``max_records``, waiting until ``deadline``
        (``time.monotonic()``) for more."""
        taken: list[ConsumedRecord] = []
        with self._arrived:
            while True:
                while self._buffer and len(taken) < max_records:
                    taken.append(self._buffer.popleft())
                remaining = deadline - time.monotonic()
                if len(taken) >= max_records or remaining <= 0:
                    return taken
                self._arrived.wait(remaining)

    @property
    def stopped(self) -> bool:
        """True once its thread ended without being asked to (a processor that lost an output)."""
        return self.failure is not None and not self._thread.is_alive()

    def close(self, timeout_s: float) -> None:
        """Close cleanly on its thread: with auto-commit it commits, and it leaves the group (LeaveGroup). A processor
        closes as Kafka Streams' close() does: its output flushed, then its input committed."""
        def close(consumer: Any) -> None:
            self._closing = True
            if self.processor is not None:
                try:
                    self.processor.commit(consumer)
                except BaseException:
                    self.processor.crash()
                    consumer.close()
                    raise
            consumer.close()

        try:
            self.call(close, timeout_s)
        finally:
            self._thread.join(timeout_s)

    def crash(self, timeout_s: float) -> None:
        """Stop as a process that dies: no commit, no LeaveGroup (the consumer is dropped unclosed when its thread
        ends), and a processor's unsent output is lost."""
        def crash(consumer: Any) -> None:
            self._closing = self._crashed = True
            if self.processor is not None:
                self.processor.crash()

        try:
            self.call(crash, timeout_s)
        finally:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            if self._crashed:
                # The last reference: confluent-kafka's Consumer_dealloc destroys it without consumer_close().
                self._consumer = None

    def _process(self, messages: list[Any]) -> None:
        """Forward a poll's records to the processor and commit when due; a lost output stops it, as it stops a
        Kafka Streams thread: no commit, and its consumer leaves the group."""
        assert self.processor is not None
        try:
            self.processor.forward(messages)
            if self.processor.due():
                self.processor.commit(self._consumer)
        except (KafkaError, self._ck.KafkaException) as exc:
            self.failure = exc.message if isinstance(exc, KafkaError) else str(exc)
            self.processor.crash()
            self._closing = True
            self._consumer.close()

    def _loop(self) -> None:
        while not self._closing:
            self._serve_commands(block=self.paused)
            if self._closing or self.paused:
                continue
            messages = self._consumer.consume(500, POLL_TIMEOUT_S)
            returned = []
            for message in messages:
                error = message.error()
                if error is not None:
                    self.last_poll_error = error.str()  # the application sees it and polls on, as the lab's loop does
                    continue
                returned.append(message)
            records = [ConsumedRecord(message.topic(), message.partition(), message.offset(), _text(message.key()),
                                      _text(message.value())) for message in returned]
            if self.processor is not None:
                self._process(returned)
            if records:
                self.last_poll_error = None
                with self._arrived:
                    self._buffer.extend(records)
                    self._arrived.notify_all()

    def _serve_commands(self, block: bool) -> None:
        """Run the commands handed over; a paused consumer waits for one instead of polling."""
        try:
            work, future = self._commands.get(timeout=POLL_TIMEOUT_S) if block else self._commands.get_nowait()
        except queue.Empty:
            return
        while True:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(work(self._consumer))
                except BaseException as exc:
                    future.set_exception(exc)
            if self._closing:
                return
            try:
                work, future = self._commands.get_nowait()
            except queue.Empty:
                return


@dataclass(eq=False)
class SteadyCounts:
    """What a steady producer sent and how it ended (the lab's ``SteadyProducer`` counts)."""

    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    last_error: str | None = None


class RealSteadyProducer:
    """A librdkafka producer sending ``record(i)`` -> (key, value) to ``topic`` at ``rate`` records a second."""

    def __init__(self, ck: ModuleType, config: dict[str, Any], topic: str, rate: float,
                 record: Callable[[int], tuple[str | None, str | None]]) -> None:
        self.topic, self.rate = topic, rate
        self._producer = ck.Producer(config)
        self._record = record
        self.counts = SteadyCounts()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"kafkalab-producer-{topic}", daemon=True)

    def topic_known(self, timeout_s: float) -> bool:
        """Whether the brokers know ``topic``, asked with Metadata for it (a broker that creates topics on first use,
        ``auto.create.topics.enable``, creates it now, as the lab's ``require_topic`` asks)."""
        metadata = self._producer.list_topics(self.topic, timeout=timeout_s)
        described = metadata.topics.get(self.topic)
        return described is not None and described.error is None

    def start(self) -> None:
        self._thread.start()

    def _delivered(self, error: Any, message: Any) -> None:
        with self._lock:
            if error is None:
                self.counts.acknowledged += 1
            else:
                self.counts.failed += 1
                self.counts.last_error = error.name()

    def _run(self) -> None:
        owed = 0.0
        last = time.monotonic()
        while not self._stop.wait(STEADY_TICK_S):
            now = time.monotonic()
            owed += self.rate * (now - last)
            last = now
            while owed >= 1:
                owed -= 1
                key, value = self._record(self.counts.sent)
                try:
                    self._producer.produce(self.topic, value=value, key=key, on_delivery=self._delivered)
                except BufferError:
                    owed = 0.0  # the queue is full: Kafka's send() would block this thread, so nothing is owed
                    break
                with self._lock:
                    self.counts.sent += 1
            self._producer.poll(0)

    def stop(self, timeout_s: float) -> SteadyCounts:
        """Stop sending; records already sent still complete (flush), as the lab's ``close()`` lets them."""
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout_s)
        self._producer.flush(timeout_s)
        with self._lock:
            return SteadyCounts(self.counts.sent, self.counts.acknowledged, self.counts.failed, self.counts.last_error)


class RealClients:
    """Every named consumer and steady producer of one attached session."""

    def __init__(self) -> None:
        self.consumers: dict[tuple[str, str], RealConsumer] = {}
        self.steady: dict[str, RealSteadyProducer] = {}

    def running(self, group: str, client_id: str) -> RealConsumer:
        """A started consumer, or INVALID_ARGUMENT naming the ones that exist (the lab's wording); a processor that
        stopped on a lost output is no longer running, and the error says why it stopped."""
        running = self.consumers.get((group, client_id))
        if running is not None and running.stopped:
            del self.consumers[(group, client_id)]
            raise KafkaError(Errors.INVALID_ARGUMENT, running.gone())
        if running is None:
            known = ", ".join(f"{g}/{c}" for g, c in sorted(self.consumers)) or "none"
            raise KafkaError(Errors.INVALID_ARGUMENT,
                             f"No consumer {quoted(client_id)} is running in group {quoted(group)} (running: {known}).")
        return running

    def add_consumer(self, consumer: Callable[[], RealConsumer], group: str, client_id: str) -> RealConsumer:
        """Start ``consumer()`` under its name; a client id already running in any group is refused, as in the lab."""
        self.refuse_running(client_id)
        started = self.consumers[(group, client_id)] = consumer()
        return started

    def refuse_running(self, client_id: str) -> None:
        """ILLEGAL_STATE if a consumer of ``client_id`` runs in any group, as in the lab."""
        self._forget_stopped()
        for running_group, running_id in self.consumers:
            if running_id == client_id:
                raise KafkaError(Errors.ILLEGAL_STATE, f"Consumer {quoted(client_id)} is already running in group "
                                                       f"{quoted(running_group)}: stop it first, or give this one "
                                                       f"another client id.")

    def stop_consumer(self, group: str, client_id: str, timeout_s: float, crash: bool = False) -> None:
        """Close a consumer cleanly (commit with auto-commit, LeaveGroup) or crash it (the group waits for the session
        timeout)."""
        running = self.running(group, client_id)
        del self.consumers[(group, client_id)]
        if crash:
            running.crash(timeout_s)
        else:
            running.close(timeout_s)

    def refuse_running_steady(self, producer_id: str) -> None:
        if producer_id in self.steady:
            raise KafkaError(Errors.ILLEGAL_STATE, f"A steady producer named {quoted(producer_id)} is already running; "
                                                   f"stop it first or choose another name.")

    def add_steady(self, producer_id: str, producer: RealSteadyProducer) -> None:
        self.refuse_running_steady(producer_id)
        self.steady[producer_id] = producer
        producer.start()

    def stop_steady(self, producer_id: str, timeout_s: float) -> SteadyCounts:
        steady = self.steady.pop(producer_id, None)
        if steady is None:
            raise KafkaError(Errors.INVALID_ARGUMENT, f"No steady producer named {quoted(producer_id)} is running.")
        return steady.stop(timeout_s)

    def close(self, timeout_s: float) -> None:
        """Stop every client cleanly (the session is ending): consumers leave their groups rather than wait to be
        timed out of them on someone's cluster."""
        for producer_id in list(self.steady):
            self.stop_steady(producer_id, timeout_s)
        self._forget_stopped()
        for group, client_id in list(self.consumers):
            self.stop_consumer(group, client_id, timeout_s)

    def _forget_stopped(self) -> None:
        """Processors that stopped on their own have closed their consumers already."""
        for key in [key for key, consumer in self.consumers.items() if consumer.stopped]:
            del self.consumers[key]
