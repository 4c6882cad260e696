"""An in-process producer that behaves like Kafka's Java ``KafkaProducer``.

``send()`` never blocks: it returns a future that resolves to the record's partition
and offset (or fails with Kafka's error); where Kafka's would block because unsettled
records fill ``buffer.memory``, ``buffer_exhausted`` says so and the caller waits.
Records wait in per-partition batches (``batch.size``, ``linger.ms``) and a sender
ships them to the partition leaders,
retrying after leader changes; with ``enable.idempotence`` (the default) retries
cannot duplicate a record. Keys and values are bytes or str (sent as UTF-8, like
Kafka's ``StringSerializer``). Everything runs on the cluster's scheduler.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafkalab.clients.client_config import merge_client_configs
from kafkalab.clients.network_client import ClientNode
from kafkalab.clients.partitioners import BuiltInPartitioner, choose_partition
from kafkalab.clients.producer_accumulator import RecordAccumulator, RecordMetadata, record_size
from kafkalab.clients.producer_config import build_partitioner, parse_producer_config
from kafkalab.clients.producer_sender import Sender
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.journal import EventJournal
from kafkalab.protocol.metadata import MetadataRequest, TopicMetadata
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process, spawn
from kafkalab.storage.records import BATCH_OVERHEAD, Header

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


@dataclass(eq=False)
class _AwaitingMetadata:
    """A send() whose topic is not in the producer's metadata yet (Kafka blocks up to max.block.ms)."""

    topic: str
    partition: int | None
    record: tuple[bytes | None, bytes | None, tuple[Header, ...], int]
    size: int
    future: Future[RecordMetadata]
    deadline_ms: float


class Producer:
    """A Kafka producer on the in-process network; build one with ``Cluster.producer(...)``."""

    def __init__(self, client: ClientNode, journal: EventJournal, rng: random.Random,
                 config: Mapping[str, Any] | None = None, **settings: Any) -> None:
        self.config, partitioner, self.idempotent = parse_producer_config(merge_client_configs(config, settings))
        self._client = client
        self._partitioner = build_partitioner(partitioner, self.config["batch.size"], rng)
        self._accumulator = RecordAccumulator(self.config["batch.size"], self.config["linger.ms"],
                                              self.config["buffer.memory"])
        self._sender = Sender(client, journal, self.config, self._accumulator, self.idempotent, self._place_waiting)
        self._awaiting: list[_AwaitingMetadata] = []
        #: Partitions with a leader per topic, with the metadata they were read from.
        self._available: dict[str, tuple[TopicMetadata, list[int]]] = {}
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
        if not isinstance(topic, str) or not topic:
            raise KafkaError(Errors.INVALID_ARGUMENT, "Topic cannot be null or empty.")
        if partition is not None and (isinstance(partition, bool) or not isinstance(partition, int) or partition < 0):
            raise KafkaError(Errors.INVALID_ARGUMENT, f"Invalid partition: {partition}. Partition number should "
                                                      f"always be non-negative or null.")
        if timestamp is not None and timestamp < 0:
            raise KafkaError(Errors.INVALID_ARGUMENT, f"Invalid timestamp: {timestamp}. Timestamp should always be "
                                                      f"non-negative or null.")
        record = (_serialize("key", key), _serialize("value", value), _headers(headers),
                  self._client.group.scheduler.now_int_ms() if timestamp is None else timestamp)
        size = record_size(record[0], record[1], record[2])
        future: Future[RecordMetadata] = Future()
        limit, memory = self.config["max.request.size"], self.config["buffer.memory"]
        if size + BATCH_OVERHEAD > limit:
            future.set_error(KafkaError(Errors.MESSAGE_TOO_LARGE, f"The message is {size + BATCH_OVERHEAD} bytes when "
                                        f"serialized which is larger than {limit}, which is the value of the "
                                        f"max.request.size configuration."))
            return future
        if size + BATCH_OVERHEAD > memory:
            future.set_error(KafkaError(Errors.MESSAGE_TOO_LARGE, f"The message is {size + BATCH_OVERHEAD} bytes when "
                                        f"serialized which is larger than the total memory buffer you have "
                                        f"configured with the buffer.memory configuration."))
            return future
        self._accumulator.buffered_bytes += size
        future.add_done_callback(lambda _: self._release(size))
        waiting = _AwaitingMetadata(topic, partition, record, size, future,
                                    self._client.now_ms + self.config["max.block.ms"])
        self._sender.topics.add(topic)
        if self._client.topic(topic) is not None:
            self._place(waiting)
        else:
            self._awaiting.append(waiting)
            self._sender.refresh_metadata()
        return future

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

    def _release(self, size: int) -> None:
        self._accumulator.buffered_bytes -= size

    @property
    def buffer_exhausted(self) -> bool:
        """True while unsettled records fill ``buffer.memory``: Kafka's ``send()`` would block now."""
        return self._accumulator.exhausted

    def _place(self, waiting: _AwaitingMetadata) -> None:
        """Choose the partition (Kafka's ``partition()``) and append to its batch."""
        metadata = self._client.topic(waiting.topic)
        assert metadata is not None
        key = None if self.config["partitioner.ignore.keys"] else waiting.record[0]
        cached = self._available.get(waiting.topic)
        if cached is None or cached[0] is not metadata:  # recomputed only when metadata was refreshed
            cached = self._available[waiting.topic] = (metadata, [p.partition for p in metadata.partitions
                                                                  if p.leader >= 0])
        available = cached[1]
        if waiting.partition is None and key is None and isinstance(self._partitioner, BuiltInPartitioner):
            sticky = self._partitioner.sticky_partition(waiting.topic)
            if sticky is not None and self._accumulator.all_batches_full(TopicPartition(waiting.topic, sticky)):
                # A switch deferred while the sticky partition's batch was open can happen now (partitionChanged).
                self._partitioner.record_appended(waiting.topic, sticky, None, 0, True)
        try:
            chosen = choose_partition(self._partitioner, waiting.topic, waiting.partition, key, waiting.record[1],
                                      len(metadata.partitions), available)
        except KafkaError as exc:
            waiting.future.set_error(exc)
            return
        batch_full = self._accumulator.append(TopicPartition(waiting.topic, chosen), waiting.record, waiting.size,
                                              self._client.now_ms, waiting.future)
        if waiting.partition is None:
            self._partitioner.record_appended(waiting.topic, chosen, key, waiting.size, batch_full)
        self._sender.wakeup()

    def _place_waiting(self) -> None:
        """New metadata arrived: place the sends that waited for it, fail those past max.block.ms."""
        still: list[_AwaitingMetadata] = []
        now = self._client.now_ms
        for waiting in self._awaiting:
            if self._client.topic(waiting.topic) is not None:
                self._place(waiting)
            elif now >= waiting.deadline_ms:
                waiting.future.set_error(KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                                                    f"Topic {waiting.topic} not present in metadata after "
                                                    f"{self.config['max.block.ms']} ms."))
            else:
                still.append(waiting)
        self._awaiting = still
        if still:
            self._client.group.call_later(self.config["retry.backoff.ms"], self._sender.refresh_metadata)

    def flush(self) -> Future[None]:
        """Send everything queued now, without waiting for linger.ms; completes when all of it is settled."""
        futures = [f for batch in self._accumulator.pending() for f in batch.futures]
        futures += [f for batches in self._sender.unsettled.values() for batch in batches for f in batch.futures]
        futures += [waiting.future for waiting in self._awaiting]
        self._accumulator.flushing = True
        self._sender.wakeup()
        done = all_done(futures)
        done.add_done_callback(lambda _: setattr(self._accumulator, "flushing", False))
        return done

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
