"""An in-process producer that behaves like Kafka's Java ``KafkaProducer``.

``send()`` never blocks: it returns a future that resolves to the record's partition
and offset (or fails with Kafka's error); where Kafka's would block because unsettled
records fill ``buffer.memory``, ``buffer_exhausted`` says so and the caller waits.
Records wait in per-partition batches (``batch.size``, ``linger.ms``) and a sender
ships them to the partition leaders,
retrying after leader changes; with ``enable.idempotence`` (the default) retries
cannot duplicate a record. With ``transactional.id`` the producer writes transactions
(``init_transactions``, ``begin_transaction``, ``commit_transaction``, ``abort_transaction``,
``send_offsets_to_transaction``; see ``transaction_manager.py``). Keys and values are bytes
or str (sent as UTF-8, like Kafka's ``StringSerializer``). Everything runs on the cluster's
scheduler.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafkalab.clients.client_config import merge_client_configs
from kafkalab.clients.group_metadata import ConsumerGroupMetadata
from kafkalab.clients.network_client import ClientNode
from kafkalab.clients.partitioners import MURMUR2_SEED, BuiltInPartitioner, choose_partition, murmur2_unsigned
from kafkalab.clients.producer_accumulator import (
    RECORD_OVERHEAD,
    ProducerBatch,
    RecordAccumulator,
    RecordFuture,
    RecordMetadata,
    headers_size,
)
from kafkalab.clients.producer_config import build_partitioner, parse_producer_config
from kafkalab.clients.producer_sender import Sender
from kafkalab.clients.transaction_manager import TransactionManager
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.journal import EventJournal
from kafkalab.protocol.metadata import MetadataRequest, MetadataResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process, Sleep, spawn
from kafkalab.storage.records import BATCH_OVERHEAD, Header, RecordInput

#: ``object.__new__``: makes a RecordFuture without a Python ``__init__`` call (see ``send()``).
_new_object = object.__new__

HeadersInput = Mapping[str, bytes | str | None] | Sequence[tuple[str, bytes | str | None]] | None

__all__ = ["Producer", "RecordMetadata"]


def _serialize(what: str, data: bytes | str | None) -> bytes | None:
    if data is None or isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise KafkaError(Errors.INVALID_ARGUMENT, f"A record {what} must be bytes, str or None, not {type(data).__name__}.")


def _headers(headers: HeadersInput) -> tuple[Header, ...]:
    if not headers:
        return ()
    items: Iterable[tuple[str, Any]] = headers.items() if isinstance(headers, Mapping) else headers
    return tuple(Header(str(key), _serialize("header value", value)) for key, value in items)


def all_done(futures: Sequence[Future[Any]]) -> Future[None]:
    """A future that completes (with None) once every one of ``futures`` has, whatever their outcome."""
    done: Future[None] = Future()
    remaining = len(futures)
    if not remaining:
        done.set_result(None)

    def one_done(_: Future[Any]) -> None:
        nonlocal remaining
        remaining -= 1
        if remaining == 0:
            done.set_result(None)

    for future in futures:
        future.add_done_callback(one_done)
    return done


@dataclass(eq=False, slots=True)
class _AwaitingMetadata:
    """A send() whose topic is not in the producer's metadata yet (Kafka blocks up to max.block.ms)."""

    topic: str
    partition: int | None
    record: RecordInput
    size: int
    future: RecordFuture
    deadline_ms: float


@dataclass(frozen=True)
class _Route:
    """Where a topic's records can go, read once per metadata response rather than once per record."""

    #: The response this was read from: a refresh replaces it, and the route is read again.
    source: MetadataResponse
    num_partitions: int
    #: Partitions with a leader, in metadata order (what the keyless partitioners choose from).
    available: tuple[int, ...]
    #: The TopicPartition of each partition number.
    partitions: tuple[TopicPartition, ...]
    #: The accumulator's open batch of each partition number (``RecordAccumulator.open_batches``).
    open_batches: list[ProducerBatch | None]


class Producer:
    """A Kafka producer on the in-process network; build one with ``Cluster.producer(...)``."""

    def __init__(self, client: ClientNode, journal: EventJournal, rng: random.Random,
                 config: Mapping[str, Any] | None = None, **settings: Any) -> None:
        self.config, partitioner, self.idempotent = parse_producer_config(merge_client_configs(config, settings))
        self._client = client
        self._scheduler = client.group.scheduler
        self._partitioner = build_partitioner(partitioner, self.config["batch.size"], rng)
        #: Keys go to murmur2(key) % partitions, with no partitioner state to update (``BuiltInPartitioner``).
        self._hash_keys = isinstance(self._partitioner, BuiltInPartitioner) and not self.config["partitioner.ignore.keys"]
        self._accumulator = RecordAccumulator(self.config["batch.size"], self.config["linger.ms"],
                                              self.config["buffer.memory"])
        self._sender = Sender(client, journal, self.config, self._accumulator, self.idempotent, self._place_waiting)
        self._txn = (TransactionManager(client, journal, self.config, self._sender) if self.config["transactional.id"]
                     else None)
        self._sender.txn = self._txn
        self._awaiting: list[_AwaitingMetadata] = []
        #: Completed (and replaced) each time records that waited for metadata are placed; flush() waits on it.
        self._placed: Future[None] | None = None
        self._routes: dict[str, _Route] = {}
        #: A record (with its batch's header) larger than either limit fails at once; see ``_too_large``.
        self._record_limit = min(self.config["max.request.size"], self.config["buffer.memory"])
        self._closed = False

    @property
    def client_id(self) -> str:
        """This producer's ``client.id``, also its name on the network (for cutting its links)."""
        return self._client.node

    @property
    def producer_id(self) -> int:
        """The idempotent producer id, or -1 before InitProducerId answered (or without idempotence)."""
        return self._sender.producer_id

    def send(self, topic: str, value: bytes | str | None = None, key: bytes | str | None = None,
             partition: int | None = None, headers: HeadersInput = None,
             timestamp: int | None = None) -> Future[RecordMetadata]:
        """Queue a record; the future resolves to its topic, partition and offset, or fails with Kafka's error.

        Invalid arguments (a negative partition, a key that is not bytes or str) raise
        INVALID_ARGUMENT at once, as Kafka's ``ProducerRecord`` constructor does.
        """
        if self._closed:
            raise KafkaError(Errors.ILLEGAL_STATE, "Cannot perform operation after producer has been closed.")
        if self._txn is not None:
            self._txn.check_send()
            self._txn.records += 1
        # A topic with a route from the current metadata is a valid name: only other topics need the checks.
        route = self._routes.get(topic) if type(topic) is str else None
        if route is None or route.source is not self._client.metadata:
            if not isinstance(topic, str) or not topic:
                raise KafkaError(Errors.INVALID_ARGUMENT, "Topic cannot be null or empty.")
            route = self._route(topic)
        if partition is not None and (isinstance(partition, bool) or not isinstance(partition, int) or partition < 0):
            raise KafkaError(Errors.INVALID_ARGUMENT, f"Invalid partition: {partition}. Partition number should "
                                                      f"always be non-negative or null.")
        now_ms = self._scheduler.now_ms
        if timestamp is None:
            timestamp = int(now_ms)  # the scheduler's now_int_ms()
        elif timestamp < 0:
            raise KafkaError(Errors.INVALID_ARGUMENT, f"Invalid timestamp: {timestamp}. Timestamp should always be "
                                                      f"non-negative or null.")
        if type(key) is not bytes:
            key = _serialize("key", key)
        if type(value) is not bytes:
            value = _serialize("value", value)
        header_tuple = _headers(headers) if headers else ()
        # An upper bound on the record's encoded size (Kafka's DefaultRecord.sizeInUpperBound).
        size = RECORD_OVERHEAD + (len(key) if key else 0) + (len(value) if value else 0)
        if header_tuple:
            size += headers_size(header_tuple)
        if size + BATCH_OVERHEAD > self._record_limit:
            return Future.failed(self._too_large(size + BATCH_OVERHEAD))
        accumulator = self._accumulator
        accumulator.buffered_bytes += size
        if route is not None and partition is None and key is not None and self._hash_keys:
            # Every keyed record with the default partitioner: no partitioner state to update, the record
            # encoded straight into its batch. Each Python call costs about a murmur2, so this path makes
            # none it can do without: partition_for_key, RecordAccumulator.append and wakes_sender are
            # written out here, and the record's future is made without RecordFuture.__init__'s frame.
            open_batches = route.open_batches
            number = (murmur2_unsigned(key, MURMUR2_SEED) & 0x7FFFFFFF) % route.num_partitions  # partition_for_key
            batch = open_batches[number]
            if batch is None or batch.size_bytes + size > accumulator.batch_size:
                batch = accumulator.new_batch(open_batches, route.partitions[number], timestamp, now_ms)
            records = batch.records
            records.append(key, value, header_tuple, timestamp)
            batch_bytes = batch.size_bytes = batch.size_bytes + size
            index = records.count - 1
            if not index or batch_bytes >= accumulator.batch_size or \
                    accumulator.buffered_bytes >= accumulator.buffer_memory:  # wakes_sender
                self._sender.wakeup()
            future = _new_object(RecordFuture)  # RecordFuture(batch, index)
            future._batch, future._index = batch, index
            return future
        record = (key, value, header_tuple, timestamp)
        if route is not None:
            return self._place(topic, route, partition, record, size, now_ms, None)
        future = RecordFuture.unplaced()
        self._awaiting.append(_AwaitingMetadata(topic, partition, record, size, future,
                                                now_ms + self.config["max.block.ms"]))
        self._sender.topics.add(topic)
        self._sender.refresh_metadata()
        return future

    def _too_large(self, size: int) -> KafkaError:
        if size > self.config["max.request.size"]:
            return KafkaError(Errors.MESSAGE_TOO_LARGE, f"The message is {size} bytes when serialized which is larger "
                                                        f"than {self.config['max.request.size']}, which is the value of "
                                                        f"the max.request.size configuration.")
        return KafkaError(Errors.MESSAGE_TOO_LARGE, f"The message is {size} bytes when serialized which is larger than "
                                                    f"the total memory buffer you have configured with the "
                                                    f"buffer.memory configuration.")

    def partitions_for(self, topic: str) -> Future[tuple[int, ...]]:
        """``topic``'s partition numbers once this producer has its metadata (Kafka's ``partitionsFor``).

        Kafka's ``send()`` blocks on the same wait the first time it meets a topic; here
        ``send()`` never blocks, and this lets a caller wait first. Fails with
        UNKNOWN_TOPIC_OR_PARTITION, as a waiting ``send()`` does, when the metadata has not
        come within ``max.block.ms``.
        """
        deadline = self._scheduler.now_ms + self.config["max.block.ms"]

        def wait() -> Process[tuple[int, ...]]:
            while (route := self._route(topic)) is None:
                if self._client.now_ms >= deadline:
                    raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {topic} not present in metadata after "
                                                       f"{self.config['max.block.ms']} ms.")
                self._sender.topics.add(topic)
                self._sender.refresh_metadata()
                yield Sleep(self.config["retry.backoff.ms"])
            return tuple(range(route.num_partitions))

        return spawn(self._client.group, wait(), name=f"partitions for {topic}").claim()

    def topic_status(self, topic: str) -> Future[Errors]:
        """Ask a broker about ``topic`` once, with the Metadata request its first ``send()`` makes.

        NONE: it exists. LEADER_NOT_AVAILABLE: a broker is creating it (``auto.create.topics.enable``).
        UNKNOWN_TOPIC_OR_PARTITION or INVALID_TOPIC_EXCEPTION: it does not exist and will not be
        created. A transport error (BROKER_NOT_AVAILABLE ...): no broker answered.
        """

        def ask() -> Process[Errors]:
            response = yield from self._client.send_to_any(MetadataRequest((topic,), True, self._client.node))
            if isinstance(response, Errors):
                return response
            return next((t.error for t in response.topics if t.name == topic), Errors.UNKNOWN_TOPIC_OR_PARTITION)

        return spawn(self._client.group, ask(), name=f"metadata for {topic}").claim()

    @property
    def buffer_exhausted(self) -> bool:
        """True while unsettled records fill ``buffer.memory``: Kafka's ``send()`` would block now."""
        return self._accumulator.exhausted

    def _route(self, topic: str) -> _Route | None:
        """The topic's partitions as the current metadata has them, or None if it has not got the topic."""
        route = self._routes.get(topic)
        metadata = self._client.metadata
        if route is not None and route.source is metadata:
            return route
        topic_metadata = self._client.topic(topic)
        if metadata is None or topic_metadata is None:
            return None
        count = len(topic_metadata.partitions)
        route = self._routes[topic] = _Route(metadata, count,
                                             tuple(p.partition for p in topic_metadata.partitions if p.leader >= 0),
                                             tuple(TopicPartition(topic, number) for number in range(count)),
                                             self._accumulator.open_batches(topic, count))
        return route

    def _place(self, topic: str, route: _Route, partition: int | None, record: RecordInput, size: int,
               now_ms: float, future: RecordFuture | None) -> RecordFuture:
        """Choose the partition (Kafka's ``partition()``) and append to its batch; ``future`` if the record waited.

        ``send()`` places most keyed records itself, without coming here.
        """
        key = None if self.config["partitioner.ignore.keys"] else record[0]
        if partition is None and key is None and isinstance(self._partitioner, BuiltInPartitioner):
            sticky = self._partitioner.sticky_partition(topic)
            if sticky is not None and self._accumulator.all_batches_full(route.partitions[sticky]):
                # A switch deferred while the sticky partition's batch was open can happen now (partitionChanged).
                self._partitioner.record_appended(topic, sticky, None, 0, True)
        try:
            chosen = choose_partition(self._partitioner, topic, partition, key, record[1], route.num_partitions,
                                      route.available)
        except KafkaError as exc:
            self._accumulator.buffered_bytes -= size
            failed = RecordFuture.unplaced() if future is None else future
            failed.set_error(exc)
            return failed
        batch = self._accumulator.append(route.open_batches, route.partitions[chosen], *record, size, now_ms)
        if partition is None:
            self._partitioner.record_appended(topic, chosen, key, size,
                                              batch.size_bytes >= self._accumulator.batch_size)
        if self._accumulator.wakes_sender(batch):
            self._sender.wakeup()
        if future is None:
            return RecordFuture(batch, batch.records.count - 1)
        future.bind(batch, batch.records.count - 1)
        return future

    def _place_waiting(self) -> None:
        """New metadata arrived: place the sends that waited for it, fail those past max.block.ms."""
        still: list[_AwaitingMetadata] = []
        now = self._client.now_ms
        for waiting in self._awaiting:
            route = self._route(waiting.topic)
            if route is not None:
                self._place(waiting.topic, route, waiting.partition, waiting.record, waiting.size, now, waiting.future)
            elif now >= waiting.deadline_ms:
                self._accumulator.buffered_bytes -= waiting.size
                waiting.future.set_error(KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                                                    f"Topic {waiting.topic} not present in metadata after "
                                                    f"{self.config['max.block.ms']} ms."))
            else:
                still.append(waiting)
        self._awaiting = still
        placed, self._placed = self._placed, None
        if placed is not None:
            placed.set_result(None)
        if still:
            self._client.group.call_later(self.config["retry.backoff.ms"], self._sender.refresh_metadata)

    def flush(self) -> Future[None]:
        """Send everything queued now, without waiting for linger.ms; completes when all of it is settled."""
        batches = [*self._accumulator.pending(), *(batch for queued in self._sender.unsettled.values()
                                                   for batch in queued)]
        awaiting = [waiting.future for waiting in self._awaiting]
        self._accumulator.flushing = True
        self._sender.wakeup()
        done = spawn(self._client.group, self._until_settled(batches, awaiting), name="flush").claim()
        done.add_done_callback(lambda _: setattr(self._accumulator, "flushing", False))
        return done

    def _until_settled(self, batches: list[ProducerBatch], awaiting: list[RecordFuture]) -> Process[None]:
        """Wait until ``batches`` and the records of ``awaiting`` (sent before their topic's metadata came) settle.

        One wait per batch, not per record: a waiting record is waited for through its batch once it has one.
        """
        while any(not future.done and future.batch is None for future in awaiting):
            if self._placed is None:
                self._placed = Future()
            yield self._placed
        outcomes: dict[int, Future[Any]] = {id(batch.outcome): batch.outcome for batch in batches}
        for future in awaiting:
            outcome = future if future.batch is None else future.batch.outcome
            outcomes[id(outcome)] = outcome
        yield all_done(list(outcomes.values()))

    # -- transactions (KIP-98) ------------------------------------------------------------

    @property
    def transaction_manager(self) -> TransactionManager:
        """The transaction state of a producer with ``transactional.id``; ILLEGAL_STATE without one."""
        if self._txn is None:
            raise KafkaError(Errors.ILLEGAL_STATE, "Transactional method invoked on a non-transactional producer "
                                                   "(set transactional.id).")
        return self._txn

    def init_transactions(self) -> Future[None]:
        """Get the producer id and a new epoch for ``transactional.id``, fencing older producers with that id."""
        return spawn(self._client.group, self.transaction_manager.initialize(), name="initTransactions").claim()

    def begin_transaction(self) -> None:
        """Start a transaction: the records sent from now on commit or abort together."""
        self.transaction_manager.begin()

    def send_offsets_to_transaction(self, offsets: Mapping[TopicPartition, int],
                                    group: ConsumerGroupMetadata | str) -> Future[None]:
        """Commit the group's offsets as part of the transaction: they count only if it commits.

        ``group`` is the consumer's ``group_metadata()`` (KIP-447): the group coordinator then refuses the
        offsets of a member it no longer has, and the future fails with COMMIT_FAILED (the transaction can
        only be aborted). A bare group id is Kafka's deprecated form: no generation, never refused so.
        """
        metadata = ConsumerGroupMetadata(group) if isinstance(group, str) else group
        return spawn(self._client.group, self.transaction_manager.send_offsets(dict(offsets), metadata),
                     name="sendOffsetsToTransaction").claim()

    def commit_transaction(self) -> Future[None]:
        """Send everything, then commit; the future fails if a batch failed (then abort) or the producer was fenced."""
        return spawn(self._client.group, self.transaction_manager.end(True, self._settle_all),
                     name="commitTransaction").claim()

    def abort_transaction(self) -> Future[None]:
        """Drop what was not sent yet, wait for what was, then abort: none of the transaction's records count."""
        txn = self.transaction_manager
        aborted = KafkaError(Errors.TRANSACTION_ABORTED)
        for batch in self._accumulator.pending():
            self._accumulator.remove(batch)
            self._accumulator.fail(batch, aborted)
        for waiting in self._awaiting:
            self._accumulator.buffered_bytes -= waiting.size
            waiting.future.set_error(aborted)
        self._awaiting = []
        return spawn(self._client.group, txn.end(False, self._settle_all), name="abortTransaction").claim()

    def _settle_all(self) -> Process[None]:
        yield self.flush()

    def crash(self) -> None:
        """Stop at once, like a killed process: records not sent yet are lost (requests in flight may still land)."""
        self._closed = True
        self._client.group.cancel_all()

    def close(self) -> Future[None]:
        """Flush, then stop; later sends raise ILLEGAL_STATE."""
        self._closed = True
        done = self.flush()
        done.add_done_callback(lambda _: self._client.group.cancel_all())
        return done
