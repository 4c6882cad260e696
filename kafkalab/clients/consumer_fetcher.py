"""Fetching records and choosing positions for a consumer (Kafka's ``Fetcher`` and ``OffsetFetcher``).

One Fetch request per leader broker covers every assigned, unpaused partition that
has a position and no unread data; the broker long-polls up to ``fetch.max.wait.ms``
and never returns records at or past the high watermark (the last stable offset with
``isolation.level=read_committed``, when the batches of aborted transactions are skipped
here as the broker's list of them says, KIP-98). Fetched batches stay bytes
until poll() takes records from them, checking (``check.crcs``) and decoding one batch
at a time. Partitions
without a position get the group's committed offset or, failing that, the offset
``auto.offset.reset`` names (ListOffsets: earliest = log start, latest = high watermark).
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable
from typing import Any

from kafkalab.clients.client_config import ClientConfig
from kafkalab.clients.consumer_state import ConsumerRecord, SubscriptionState
from kafkalab.clients.network_client import ClientNode
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import OffsetReset
from kafkalab.events.journal import EventJournal
from kafkalab.protocol.fetch import (
    CONSUMER_REPLICA_ID,
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    READ_COMMITTED,
    READ_UNCOMMITTED,
    AbortedTransaction,
    FetchPartition,
    FetchRequest,
    FetchResponse,
    ListOffsetsRequest,
    ListOffsetsResponse,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process, Sleep
from kafkalab.storage.control_records import decode_end_txn_marker
from kafkalab.storage.records import BatchHeader, crc_problem, decode_batch, iter_records, read_batch_header

_TIMESTAMPS = {"earliest": EARLIEST_TIMESTAMP, "latest": LATEST_TIMESTAMP}
_SEEK_PAST = ". If needed, please seek past the record to continue consumption."


class CompletedFetch:
    """One partition's fetched bytes, checked and decoded a batch at a time as poll() asks for records.

    Like Kafka's ``CompletedFetch``, a batch that fails its CRC32C (with ``check.crcs``) or
    does not parse stops the partition there: records before it are returned, and every
    later take() raises CORRUPT_MESSAGE naming the partition and offset until the consumer
    seeks past it.
    """

    __slots__ = ("aborted", "aborted_producers", "check_crcs", "data", "error", "next_fetch_offset", "next_position",
                 "pending", "tp")

    def __init__(self, tp: TopicPartition, data: bytes, check_crcs: bool,
                 aborted: tuple[AbortedTransaction, ...] | None = None) -> None:
        self.tp = tp
        self.data = data
        self.check_crcs = check_crcs
        self.next_position = 0
        self.pending: list[ConsumerRecord] = []
        #: The damage met at the current position: raised by every take() from now on.
        self.error: KafkaError | None = None
        #: The offset after the last batch read: past control and aborted batches that return no records.
        self.next_fetch_offset = -1
        #: read_committed only: aborted transactions not reached yet, by first offset, and the producers
        #: whose transaction is being skipped (Kafka's ``abortedTransactions`` / ``abortedProducerIds``).
        self.aborted: list[tuple[int, int]] | None = None
        self.aborted_producers: set[int] = set()
        if aborted is not None:
            self.aborted = [(txn.first_offset, txn.producer_id) for txn in aborted]
            heapq.heapify(self.aborted)

    @property
    def exhausted(self) -> bool:
        return self.error is None and not self.pending and self.next_position >= len(self.data)

    def take(self, position: int, max_records: int) -> list[ConsumerRecord]:
        """Up to ``max_records`` records from ``position`` on, in offset order; CORRUPT_MESSAGE at damage."""
        if self.error is not None:
            raise self.error
        out: list[ConsumerRecord] = []
        while len(out) < max_records:
            if not self.pending:
                if self.next_position >= len(self.data):
                    break
                try:
                    self.pending = self._next_batch(position)
                except KafkaError as exc:
                    self.error = exc
                    if out:
                        break  # Kafka's FetchCollector returns what it has and raises on the next poll
                    raise
                self.pending.reverse()  # pop() from the end is cheap
                continue
            room = max_records - len(out)
            taken = self.pending[-room:]
            del self.pending[-room:]
            taken.reverse()
            out.extend(taken)
        return out

    def _next_batch(self, position: int) -> list[ConsumerRecord]:
        """The records at or after ``position`` of the next batch (none for a control or consumed batch)."""
        tp, data, pos = self.tp, self.data, self.next_position
        try:
            header = read_batch_header(data, pos)
        except KafkaError as exc:
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"Fetched data for partition {tp} at offset {position} is "
                                                     f"invalid, cause: {exc.message}{_SEEK_PAST}") from None
        where = f"Record batch for partition {tp} at offset {header.base_offset} is invalid, cause: "
        if pos + header.size_in_bytes > len(data):
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"{where}the batch is {header.size_in_bytes} bytes but only "
                                                     f"{len(data) - pos} were fetched{_SEEK_PAST}")
        if self.check_crcs:
            problem = crc_problem(data, pos, header)
            if problem is not None:
                raise KafkaError(Errors.CORRUPT_MESSAGE, f"{where}{problem}{_SEEK_PAST}")
        self.next_position = pos + header.size_in_bytes
        self.next_fetch_offset = header.next_offset
        if self.aborted is not None and header.producer_id >= 0 and self._skip_aborted(header, pos):
            return []
        if header.next_offset <= position or header.is_control:
            return []
        try:
            return [ConsumerRecord(tp.topic, tp.partition, r.offset, r.timestamp, r.key, r.value, r.headers)
                    for r in iter_records(data, pos, header) if r.offset >= position]
        except KafkaError as exc:
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"{where}{exc.message.rstrip('.')}{_SEEK_PAST}") from None


    def _skip_aborted(self, header: BatchHeader, pos: int) -> bool:
        """read_committed: whether this batch belongs to an aborted transaction (Kafka's ``CompletedFetch``)."""
        assert self.aborted is not None
        while self.aborted and self.aborted[0][0] <= header.last_offset:
            self.aborted_producers.add(heapq.heappop(self.aborted)[1])
        if header.is_control:
            records = decode_batch(self.data, pos)[1]
            marker = decode_end_txn_marker(records[0]) if records else None
            if marker is not None and not marker[0]:
                self.aborted_producers.discard(header.producer_id)  # the aborted transaction ends here
            return True
        return header.is_transactional and header.producer_id in self.aborted_producers


class Fetcher:
    """Fetch requests, buffered fetched data and position resets of one consumer."""

    def __init__(self, client: ClientNode, subscriptions: SubscriptionState, config: ClientConfig,
                 journal: EventJournal, on_data: Callable[[], None]) -> None:
        self.client = client
        self.subscriptions = subscriptions
        self.config = config
        self.journal = journal
        self.completed: dict[TopicPartition, CompletedFetch] = {}
        self.in_flight: set[int] = set()
        #: An error to raise from the next poll() (OFFSET_OUT_OF_RANGE with auto.offset.reset=none, CORRUPT_MESSAGE).
        self.error: KafkaError | None = None
        self._on_data = on_data
        self.isolation_level = READ_COMMITTED if config["isolation.level"] == "read_committed" else READ_UNCOMMITTED

    # -- fetching ------------------------------------------------------------------

    def send_fetches(self) -> bool:
        """Send a Fetch to each leader of fetchable partitions; returns whether some leader is unknown."""
        by_leader: dict[int, dict[TopicPartition, FetchPartition]] = {}
        unknown_leader = False
        max_partition = self.config["max.partition.fetch.bytes"]
        for tp in self.subscriptions.fetchable():
            if tp in self.completed:
                continue
            leader = self.client.leader_of(tp)
            if leader < 0:
                unknown_leader = True
            elif leader not in self.in_flight:
                position = self.subscriptions.assigned[tp].position
                assert position is not None
                by_leader.setdefault(leader, {})[tp] = FetchPartition(position, -1, max_partition)
        for leader, partitions in by_leader.items():
            request = FetchRequest(CONSUMER_REPLICA_ID, self.config["fetch.max.wait.ms"], self.config["fetch.min.bytes"],
                                   self.config["fetch.max.bytes"], partitions, client_id=self.client.node,
                                   isolation_level=self.isolation_level)
            self.in_flight.add(leader)
            timeout = self.config["request.timeout.ms"] + self.config["fetch.max.wait.ms"]
            self.client.send(leader, request, timeout).add_done_callback(
                functools.partial(self._on_fetch_done, leader, request))
        return unknown_leader

    def _on_fetch_done(self, leader: int, request: FetchRequest, sent: Future[Any]) -> None:
        self._on_fetch(leader, request, sent.result())

    def _on_fetch(self, leader: int, request: FetchRequest, response: Any) -> None:
        self.in_flight.discard(leader)
        if not isinstance(response, FetchResponse):
            self.client.metadata = None
            self._on_data()
            return
        for tp, data in response.partitions.items():
            state = self.subscriptions.assigned.get(tp)
            if state is None or state.position != request.partitions[tp].fetch_offset:
                continue  # revoked or sought meanwhile: the data is stale
            if data.error == Errors.NONE:
                state.high_watermark = data.high_watermark
                if data.records:
                    self.completed[tp] = CompletedFetch(tp, data.records, self.config["check.crcs"],
                                                        data.aborted_transactions)
            elif data.error == Errors.OFFSET_OUT_OF_RANGE:
                self._out_of_range(tp, state.position, data.log_start_offset, data.log_end_offset)
            elif data.error == Errors.CORRUPT_MESSAGE:
                # Kafka's FetchCollector: the broker could not read a whole, intact batch there.
                self.error = KafkaError(Errors.CORRUPT_MESSAGE, f"Encountered corrupt message when fetching offset "
                                                                f"{state.position} for topic-partition {tp}.")
            else:
                self.client.metadata = None  # the leader moved (or the topic is gone): look again
        self._on_data()

    def _out_of_range(self, tp: TopicPartition, position: int, start: int, end: int) -> None:
        strategy = self.config["auto.offset.reset"]
        where = f"offset {position} is outside [{start}, {end}]" if start >= 0 else f"offset {position} is out of range"
        if strategy == "none":
            self.error = KafkaError(Errors.OFFSET_OUT_OF_RANGE, f"Fetch position {position} is out of range for "
                                    f"partition {tp} ({where}) and auto.offset.reset=none; seek() to a valid offset.")
            return
        state = self.subscriptions.assigned[tp]
        state.reset, state.reset_reason = strategy, where

    def collect(self, max_records: int) -> list[ConsumerRecord]:
        """Take up to ``max_records`` buffered records, advancing each partition's position past them."""
        records: list[ConsumerRecord] = []
        for tp, completed in list(self.completed.items()):
            state = self.subscriptions.assigned.get(tp)
            if state is None or state.position is None or state.reset is not None:
                del self.completed[tp]
                continue
            if state.paused or len(records) >= max_records:
                continue
            try:
                taken = completed.take(state.position, max_records - len(records))
            except KafkaError:
                if records:
                    break  # the damaged partition raises on the next poll, as Kafka's collectFetch does
                raise
            if taken:
                state.position = taken[-1].offset + 1
                records.extend(taken)
            if completed.exhausted:
                # Control batches and aborted transactions return no records: the position moves past them anyway.
                state.position = max(state.position, completed.next_fetch_offset)
                del self.completed[tp]
        return records

    def discard(self, tp: TopicPartition) -> None:
        """Forget buffered data of a partition whose position was changed by hand."""
        self.completed.pop(tp, None)

    # -- positions -------------------------------------------------------------------

    def reset_positions(self) -> Process[None]:
        """Look up offsets for partitions awaiting a reset (ListOffsets at each leader)."""
        pending = [tp for tp, s in self.subscriptions.assigned.items() if s.reset is not None]
        if not pending:
            return
        if any(self.client.leader_of(tp) < 0 for tp in pending):
            yield from self.client.refresh_metadata(self.topics())
        by_leader: dict[int, dict[TopicPartition, int]] = {}
        for tp in pending:
            leader = self.client.leader_of(tp)
            if leader >= 0:
                by_leader.setdefault(leader, {})[tp] = _TIMESTAMPS[self.subscriptions.assigned[tp].reset or "latest"]
        for leader, partitions in by_leader.items():
            response = yield self.client.send(leader, ListOffsetsRequest(partitions, isolation_level=self.isolation_level),
                                              self.config["request.timeout.ms"])
            if not isinstance(response, ListOffsetsResponse):
                self.client.metadata = None
                continue
            for tp, result in response.partitions.items():
                state = self.subscriptions.assigned.get(tp)
                if state is None or state.reset is None or result.error != Errors.NONE:
                    if result.error != Errors.NONE:
                        self.client.metadata = None
                    continue
                self.journal.emit(OffsetReset, client_id=self.client.node, topic=tp.topic, partition=tp.partition,
                                  offset=result.offset, strategy=state.reset, reason=state.reset_reason)
                state.position, state.reset, state.reset_reason = result.offset, None, ""
                self.discard(tp)
        if any(s.reset is not None for s in self.subscriptions.assigned.values()):
            yield Sleep(self.config["retry.backoff.ms"])

    def topics(self) -> tuple[str, ...]:
        """Topics the consumer reads: its subscription plus those of its assigned partitions."""
        return tuple(sorted(set(self.subscriptions.topics) | {tp.topic for tp in self.subscriptions.assigned}))
