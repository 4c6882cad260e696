"""Sending batches to partition leaders, retrying, and idempotence bookkeeping (Kafka's ``Sender``).

Whenever batches become sendable the sender groups them by leader broker, at most one
batch per partition per request and ``max.in.flight.requests.per.connection`` requests
per broker, and sends Produce requests. A retriable failure puts the batch back in
its queue after ``retry.backoff.ms`` (refreshing metadata first when a leader moved);
``delivery.timeout.ms`` bounds the whole effort. With idempotence the producer first
gets a producer id (InitProducerId), numbers each partition's records from 0, and
resends a retried batch with its original sequence numbers so a broker that already
wrote it answers with the original offset instead of writing it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafkalab.clients.client_config import ClientConfig
from kafkalab.clients.network_client import ClientNode
from kafkalab.clients.producer_accumulator import ProducerBatch, RecordAccumulator
from kafkalab.clients.producer_config import acks_value
from kafkalab.clients.raw import RETRIABLE
from kafkalab.clients.transaction_manager import TransactionManager
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import ProduceFailed, ProduceRetried, ProduceRetriesEnded, ProducerIdAssigned
from kafkalab.events.journal import EventJournal
from kafkalab.protocol.groups import InitProducerIdRequest, InitProducerIdResponse
from kafkalab.protocol.produce import ProduceRequest, ProduceResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Process, Sleep, spawn
from kafkalab.sim.scheduler import Timer
from kafkalab.storage.compression import CompressionType

#: Errors after which the leader may have moved: refresh metadata before the retry.
_METADATA_ERRORS = frozenset({Errors.NOT_LEADER_OR_FOLLOWER, Errors.LEADER_NOT_AVAILABLE, Errors.NETWORK_EXCEPTION,
                              Errors.UNKNOWN_TOPIC_OR_PARTITION, Errors.FENCED_LEADER_EPOCH,
                              Errors.UNKNOWN_LEADER_EPOCH, Errors.REQUEST_TIMED_OUT})


class Sender:
    """Drains the accumulator to the brokers and settles each batch's futures."""

    def __init__(self, client: ClientNode, journal: EventJournal, config: ClientConfig,
                 accumulator: RecordAccumulator, idempotent: bool, on_metadata: Callable[[], None]) -> None:
        self.client = client
        self.journal = journal
        self.config = config
        self.accumulator = accumulator
        self.idempotent = idempotent
        self.acks = acks_value(config["acks"])
        self.compression = CompressionType.GZIP if config["compression.type"] == "gzip" else CompressionType.NONE
        self.topics: set[str] = set()
        self.producer_id = -1
        self.producer_epoch = -1
        self.in_flight: dict[int, int] = {}
        #: Batches drained but not yet settled, per partition (their sequences are "unresolved").
        self.unsettled: dict[TopicPartition, list[ProducerBatch]] = {}
        self._next_sequence: dict[TopicPartition, int] = {}
        self._on_metadata = on_metadata
        self._wakeup: Timer | None = None
        self._timer: Timer | None = None
        self._refreshing = False
        self._initializing = False
        #: Set for a transactional producer: it gives the producer id and adds partitions to transactions.
        self.txn: TransactionManager | None = None

    @property
    def client_id(self) -> str:
        return self.client.node

    def wakeup(self) -> None:
        """Run a send pass soon (several wakeups in one instant coalesce, so records batch up)."""
        if self._wakeup is None:
            self._wakeup = self.client.group.call_soon(self._run)

    # -- the send pass -------------------------------------------------------------

    def _run(self) -> None:
        self._wakeup = None
        now = self.client.now_ms
        self._expire(now)
        if self.idempotent and self.producer_id < 0:
            if self.txn is None:  # a transactional producer's id comes from init_transactions()
                self._init_producer_id()
            return
        requests: dict[int, dict[TopicPartition, ProducerBatch]] = {}
        sizes: dict[int, int] = {}
        need_metadata = False
        more = False
        for tp, queue in list(self.accumulator.queues.items()):
            batch = queue[0]
            if not self.accumulator.sendable(batch, now):
                continue
            leader = self.client.leader_of(tp)
            if leader < 0:
                need_metadata = True
                continue
            if leader not in requests and self.in_flight.get(leader, 0) >= self.config["max.in.flight.requests.per.connection"]:
                continue
            if self.idempotent and batch.is_retry and self.unsettled.get(tp):
                continue  # a retry goes out alone, after everything before it settled, to keep sequences in order
            if self.txn is not None and not self.txn.ready_to_send(tp):
                continue  # the coordinator adds the partition to the transaction first (AddPartitionsToTxn)
            request = requests.setdefault(leader, {})
            if request and sizes[leader] + batch.size_bytes > self.config["max.request.size"]:
                more = True
                continue
            self.accumulator.take_first(tp)
            more = more or tp in self.accumulator.queues
            self._prepare(batch)
            request[tp] = batch
            sizes[leader] = sizes.get(leader, 0) + batch.size_bytes
        for leader, batches in requests.items():
            self._send(leader, batches)
        if need_metadata:
            self.refresh_metadata()
        if more:
            self.wakeup()
        self._schedule_next(now)

    def _prepare(self, batch: ProducerBatch) -> None:
        """Stamp a new batch with the producer id and its partition's next sequence numbers."""
        if self.idempotent and batch.base_sequence < 0:
            batch.producer_id, batch.producer_epoch = self.producer_id, self.producer_epoch
            batch.transactional = self.txn is not None
            batch.base_sequence = self._next_sequence.get(batch.tp, 0)
            self._next_sequence[batch.tp] = (batch.base_sequence + batch.record_count) % (2**31)
        self.unsettled.setdefault(batch.tp, []).append(batch)

    def _schedule_next(self, now: float) -> None:
        due = self.accumulator.next_ready_ms(now)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if due is not None:
            self._timer = self.client.group.call_later(max(0.0, due - now), self.wakeup)

    def _send(self, leader: int, batches: dict[TopicPartition, ProducerBatch]) -> None:
        request = ProduceRequest(self.acks, self.config["request.timeout.ms"],
                                 {tp: batch.encode(self.compression) for tp, batch in batches.items()},
                                 client_id=self.client_id,
                                 transactional_id=self.txn.transactional_id if self.txn is not None else None)
        sent = self.client.send(leader, request, timeout_ms=self.config["request.timeout.ms"])
        if self.acks == 0:
            # Nobody answers acks=0: the records count as sent the moment they leave.
            for batch in batches.values():
                self._settle(batch)
                self.accumulator.complete(batch, -1)
            return
        self.in_flight[leader] = self.in_flight.get(leader, 0) + 1
        sent.add_done_callback(lambda f: self._on_response(leader, batches, f.result()))

    # -- responses -----------------------------------------------------------------

    def _on_response(self, leader: int, batches: dict[TopicPartition, ProducerBatch], response: Any) -> None:
        self.in_flight[leader] -= 1
        for tp, batch in batches.items():
            if isinstance(response, ProduceResponse):
                result = response.partitions[tp]
                error, message, base_offset = result.error, result.message, result.base_offset
            else:
                error, message, base_offset = response, f"no response from broker {leader}", -1
            self._settle(batch)
            if error in (Errors.NONE, Errors.DUPLICATE_SEQUENCE_NUMBER):
                if batch.attempts:
                    self.journal.emit(ProduceRetriesEnded, client_id=self.client_id, topic=batch.tp.topic,
                                      partition=batch.tp.partition, records=batch.record_count,
                                      attempts=batch.attempts + 1, base_offset=base_offset)
                self.accumulator.complete(batch, base_offset)
            elif self._can_retry(batch, error):
                self._retry(batch, error, message)
            else:
                self._fail(batch, error, self._final_word(batch, error, message))
        self.wakeup()

    def _settle(self, batch: ProducerBatch) -> None:
        unsettled = self.unsettled.get(batch.tp)
        if unsettled is not None and batch in unsettled:
            unsettled.remove(batch)
            if not unsettled:
                del self.unsettled[batch.tp]

    def _can_retry(self, batch: ProducerBatch, error: Errors) -> bool:
        if batch.attempts >= self.config["retries"]:
            return False
        if self.client.now_ms - batch.created_ms >= self.config["delivery.timeout.ms"]:
            return False
        if error == Errors.OUT_OF_ORDER_SEQUENCE_NUMBER:
            # Retriable only while a batch with a lower sequence is still unresolved (``TransactionManager.canRetry``).
            earlier = [b for b in (*self.unsettled.get(batch.tp, ()), *self.accumulator.queues.get(batch.tp, ()))
                       if 0 <= b.base_sequence < batch.base_sequence]
            return bool(earlier)
        return error in RETRIABLE

    def _retry(self, batch: ProducerBatch, error: Errors, message: str | None) -> None:
        if error in _METADATA_ERRORS:
            self.client.metadata = None
        # One event when a batch starts retrying or its reason changes, not one per attempt.
        news = error != batch.last_error
        batch.last_error, batch.last_message = error, message or error.description
        self.accumulator.reenqueue(batch, self.client.now_ms + self.config["retry.backoff.ms"])
        if news:
            self.journal.emit(ProduceRetried, client_id=self.client_id, topic=batch.tp.topic,
                              partition=batch.tp.partition, records=batch.record_count, attempt=batch.attempts,
                              error=error.name)

    def _final_word(self, batch: ProducerBatch, error: Errors, message: str | None) -> str:
        """Why a batch failed for good: the broker's answer, and the attempts before it."""
        reason = message or error.description
        if not batch.attempts:
            return reason
        return f"{reason} (after {batch.attempts + 1:,} attempts)"

    def _fail(self, batch: ProducerBatch, error: Errors, reason: str) -> None:
        self.journal.emit(ProduceFailed, client_id=self.client_id, topic=batch.tp.topic, partition=batch.tp.partition,
                          records=batch.record_count, error=error.name, reason=reason)
        if self.txn is not None:
            # The transaction can only abort now. Marked before the batch's outcome completes: a commit waiting for
            # that outcome resumes at once and must find the error (in Kafka the EndTxn goes out on the sender
            # thread only after ``handleFailedBatch``).
            self.txn.batch_failed(KafkaError(error, reason))
        self.accumulator.fail(batch, KafkaError(error, reason))
        if self.txn is None and error == Errors.OUT_OF_ORDER_SEQUENCE_NUMBER and self.idempotent:
            # The partition's sequence is broken: take a new producer id and renumber unsent batches (KIP-360).
            self.producer_id = -1
            self._next_sequence.clear()
            for queued in self.accumulator.pending():
                queued.base_sequence, queued.encoded = -1, None

    def _expire(self, now: float) -> None:
        """Fail queued batches older than ``delivery.timeout.ms`` (Kafka's ``expiredBatches``)."""
        timeout = self.config["delivery.timeout.ms"]
        for batch in self.accumulator.take_expired(now, timeout):
            # Kafka's words, then what the learner needs: what the broker kept answering.
            reason = (f"Expiring {batch.record_count} record(s) for {batch.tp}: {now - batch.created_ms:g} ms "
                      f"has passed since batch creation (delivery.timeout.ms={timeout})")
            if batch.last_error is not None:
                reason += (f"; the last of {batch.attempts:,} attempts got {batch.last_error.name}: "
                           f"{batch.last_message}")
            self._fail(batch, Errors.REQUEST_TIMED_OUT, reason)

    # -- metadata and producer id ----------------------------------------------------------

    def refresh_metadata(self) -> None:
        """Fetch metadata for every topic this producer uses (one refresh at a time)."""
        if self._refreshing:
            return
        self._refreshing = True

        def process() -> Process[None]:
            try:
                yield from self.client.refresh_metadata(tuple(sorted(self.topics)))
                if self.client.metadata is None:
                    yield Sleep(self.config["retry.backoff.ms"])
            finally:
                self._refreshing = False
            self._on_metadata()
            self.wakeup()

        spawn(self.client.group, process(), name="metadata refresh")

    def abort_undrained(self, error: KafkaError) -> None:
        """Fail every batch not sent yet: a fenced transactional producer sends nothing more (Kafka's
        ``Sender.maybeAbortBatches`` on a fatal error, ``abortUndrainedBatches``)."""
        for batch in self.accumulator.pending():
            self.accumulator.remove(batch)
            self.accumulator.fail(batch, error)

    def reset_producer_id(self, producer_id: int, producer_epoch: int) -> None:
        """A new producer id or epoch (a transactional producer's init): sequences start again at 0."""
        self.producer_id, self.producer_epoch = producer_id, producer_epoch
        self._next_sequence.clear()
        self.wakeup()

    def _init_producer_id(self) -> None:
        if self._initializing:
            return
        self._initializing = True

        def process() -> Process[None]:
            while True:
                response = yield from self.client.send_to_any(InitProducerIdRequest())
                if isinstance(response, InitProducerIdResponse) and response.error == Errors.NONE:
                    break
                yield Sleep(self.config["retry.backoff.ms"])
            self.producer_id, self.producer_epoch = response.producer_id, response.producer_epoch
            self._initializing = False
            self.journal.emit(ProducerIdAssigned, client_id=self.client_id, producer_id=self.producer_id,
                              producer_epoch=self.producer_epoch)
            self.wakeup()

        spawn(self.client.group, process(), name="InitProducerId")
