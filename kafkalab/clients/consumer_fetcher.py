"""Fetching records and choosing positions for a consumer (Kafka's ``Fetcher`` and ``OffsetFetcher``).

One Fetch request per leader broker covers every assigned, unpaused partition that
has a position and no unread data; the broker long-polls up to ``fetch.max.wait.ms``
and never returns records at or past the high watermark. Fetched batches stay bytes
until poll() takes records from them, decoding one batch at a time. Partitions
without a position get the group's committed offset or, failing that, the offset
``auto.offset.reset`` names (ListOffsets: earliest = log start, latest = high watermark).
"""

from __future__ import annotations

import functools
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
    FetchPartition,
    FetchRequest,
    FetchResponse,
    ListOffsetsRequest,
    ListOffsetsResponse,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process, Sleep
from kafkalab.storage.records import iter_batch_headers, iter_records

_TIMESTAMPS = {"earliest": EARLIEST_TIMESTAMP, "latest": LATEST_TIMESTAMP}


class CompletedFetch:
    """One partition's fetched bytes, decoded a batch at a time as poll() asks for records."""

    __slots__ = ("batches", "data", "next_batch", "pending", "tp")

    def __init__(self, tp: TopicPartition, data: bytes) -> None:
        self.tp = tp
        self.data = data
        self.batches = [(pos, header) for pos, header in iter_batch_headers(data)]
        self.next_batch = 0
        self.pending: list[ConsumerRecord] = []

    @property
    def exhausted(self) -> bool:
        return not self.pending and self.next_batch >= len(self.batches)

    def take(self, position: int, max_records: int) -> list[ConsumerRecord]:
        """Up to ``max_records`` records from ``position`` on, in offset order."""
        out: list[ConsumerRecord] = []
        topic, partition = self.tp.topic, self.tp.partition
        while len(out) < max_records:
            if not self.pending:
                if self.next_batch >= len(self.batches):
                    break
                pos, header = self.batches[self.next_batch]
                self.next_batch += 1
                if header.next_offset <= position or header.is_control:
                    continue
                self.pending = [ConsumerRecord(topic, partition, r.offset, r.timestamp, r.key, r.value, r.headers)
                                for r in iter_records(self.data, pos, header) if r.offset >= position]
                self.pending.reverse()  # pop() from the end is cheap
            room = max_records - len(out)
            taken = self.pending[-room:]
            del self.pending[-room:]
            taken.reverse()
            out.extend(taken)
        return out


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
        #: An error to raise from the next poll() (OFFSET_OUT_OF_RANGE with auto.offset.reset=none).
        self.error: KafkaError | None = None
        self._on_data = on_data

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
                                   self.config["fetch.max.bytes"], partitions, client_id=self.client.node)
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
                    self.completed[tp] = CompletedFetch(tp, data.records)
            elif data.error == Errors.OFFSET_OUT_OF_RANGE:
                self._out_of_range(tp, state.position, data.log_start_offset, data.log_end_offset)
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
            taken = completed.take(state.position, max_records - len(records))
            if taken:
                state.position = taken[-1].offset + 1
                records.extend(taken)
            if completed.exhausted:
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
            response = yield self.client.send(leader, ListOffsetsRequest(partitions), self.config["request.timeout.ms"])
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
