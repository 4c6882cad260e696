"""Followers replicate by fetching from leaders (Kafka's ``ReplicaFetcherThread``).

One fetcher per leader broker loops: first, for partitions that just became followers,
it asks the leader where the follower's latest epoch ended (OffsetsForLeaderEpoch,
KIP-101/279) and truncates any divergent tail; then it sends Fetch requests and appends
the returned batches as they are. A failed fetch backs off ``replica.fetch.backoff.ms``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kafkalab.broker.context import BrokerContext
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import ReplicaFetchFailed
from kafkalab.protocol.fetch import (
    EpochRequest,
    FetchPartition,
    FetchPartitionData,
    FetchRequest,
    OffsetsForLeaderEpochRequest,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process, Sleep, spawn

if TYPE_CHECKING:
    from kafkalab.broker.replica_manager import ReplicaManager

#: Errors that mean damaged data rather than leadership churn: a follower says so when it meets one.
_NARRATED_ERRORS = frozenset({Errors.CORRUPT_MESSAGE, Errors.UNKNOWN_SERVER_ERROR, Errors.KAFKA_STORAGE_ERROR})


@dataclass
class FetchState:
    """Where a follower is with one partition."""

    leader_epoch: int
    fetch_offset: int
    truncating: bool = True
    #: The leader has a newer epoch than ours: wait for the controller's LeaderAndIsr.
    fenced: bool = False
    #: After a retriable error the partition sits out until then (``replica.fetch.backoff.ms``).
    delayed_until_ms: float = 0.0
    #: (fetch offset, error) of the last failure narrated, so a retry that fails alike stays quiet.
    last_failure: tuple[int, Errors] | None = None


def _request(ctx: BrokerContext, destination: str, request: Any, timeout_ms: float) -> Future[Any]:
    future: Future[Any] = Future()

    def done(response: Any, error: Errors | None) -> None:
        future.set_result(error if error is not None else response)

    ctx.network.request(ctx.node, destination, request, done, timeout_ms)
    return future


class ReplicaFetcher:
    """Fetches every partition this broker follows from one leader broker."""

    def __init__(self, ctx: BrokerContext, replicas: ReplicaManager, leader_id: int) -> None:
        self.ctx = ctx
        self.replicas = replicas
        self.leader_id = leader_id
        self.partitions: dict[TopicPartition, FetchState] = {}
        self.running = False

    def start(self) -> None:
        if not self.running and self.partitions:
            self.running = True
            spawn(self.ctx.group, self._run())

    def _run(self) -> Process[None]:
        config = self.ctx.config
        leader_node = f"broker-{self.leader_id}"
        timeout = config["request.timeout.ms"]
        backoff = config["replica.fetch.backoff.ms"]
        while self.partitions:
            now = self.ctx.now_ms
            ready = {tp: s for tp, s in self.partitions.items() if not s.fenced and s.delayed_until_ms <= now}
            truncating = {tp: s for tp, s in ready.items() if s.truncating}
            if truncating:
                ok = yield from self._truncate(leader_node, truncating, timeout)
                if not ok:
                    yield Sleep(backoff)
                continue
            if not ready:
                delayed = [s.delayed_until_ms for s in self.partitions.values() if not s.fenced]
                if not delayed:
                    break
                yield Sleep(min(delayed) - now)
                continue
            request = FetchRequest(self.ctx.broker_id, config["replica.fetch.wait.max.ms"], 1,
                                   10 * config["replica.fetch.max.bytes"],
                                   {tp: FetchPartition(s.fetch_offset, s.leader_epoch, config["replica.fetch.max.bytes"])
                                    for tp, s in ready.items()})
            response = yield _request(self.ctx, leader_node, request, timeout + request.max_wait_ms)
            if isinstance(response, Errors):
                yield Sleep(backoff)
                continue
            for tp, data in response.partitions.items():
                state = self.partitions.get(tp)
                if state is None or state is not ready.get(tp):
                    continue  # removed or re-added while the fetch was in flight
                self._isolated(tp, state, functools.partial(self._process, tp, state, data))
        self.running = False

    def _isolated(self, tp: TopicPartition, state: FetchState, work: Callable[[], object]) -> bool:
        """Run ``work`` on one partition's log; a KafkaError sets that partition aside and returns False.

        Kafka's ``processFetchRequest`` does the same: the failure is this partition's alone,
        it backs off and the fetcher goes on with the rest.
        """
        try:
            work()
        except KafkaError as exc:
            self._on_partition_error(tp, state, exc.error, exc.message)
            return False
        return True

    def _process(self, tp: TopicPartition, state: FetchState, data: FetchPartitionData) -> None:
        """Append what the leader sent for ``tp``, or act on its error."""
        if data.error == Errors.NONE:
            if data.records and state.fetch_offset != self.replicas.partitions[tp].log_end_offset:
                return
            state.fetch_offset = self.replicas.append_as_follower(tp, data)
            state.last_failure = None
        elif data.error == Errors.OFFSET_OUT_OF_RANGE:
            self._handle_out_of_range(tp, state, data.log_start_offset, data.log_end_offset)
        else:
            self._on_partition_error(tp, state, data.error, f"the leader answered {data.error.name}")

    def _on_partition_error(self, tp: TopicPartition, state: FetchState, error: Errors, reason: str) -> None:
        """Kafka's AbstractFetcherThread: a fenced epoch waits for LeaderAndIsr, anything else retries.

        NOT_LEADER_OR_FOLLOWER or UNKNOWN_LEADER_EPOCH are normal right after an election,
        when the follower heard from the controller before the new leader did; damaged data
        is not, and is narrated once per offset.
        """
        if error == Errors.FENCED_LEADER_EPOCH:
            state.fenced = True
            return
        state.delayed_until_ms = self.ctx.now_ms + self.ctx.config["replica.fetch.backoff.ms"]
        failure = (state.fetch_offset, error)
        if error in _NARRATED_ERRORS and state.last_failure != failure:
            state.last_failure = failure
            self.ctx.journal.emit(ReplicaFetchFailed, broker_id=self.ctx.broker_id, leader=self.leader_id,
                                  topic=tp.topic, partition=tp.partition, offset=state.fetch_offset,
                                  error=error.name, reason=reason)

    def _truncate(self, leader_node: str, truncating: dict[TopicPartition, FetchState], timeout: float) -> Process[bool]:
        partitions = {}
        for tp, state in truncating.items():
            partition = self.replicas.partitions[tp]
            latest_epoch = partition.log.leader_epoch_cache.latest_epoch
            if latest_epoch is None or latest_epoch < 0:
                # No epoch history (an empty or pre-epoch log): Kafka truncates to the high watermark.
                if not self._isolated(tp, state, functools.partial(
                        self.replicas.truncate, tp, partition.high_watermark,
                        "no leader epoch history; truncated to the high watermark")):
                    continue
                state.fetch_offset = partition.log_end_offset
                state.truncating = False
                continue
            partitions[tp] = EpochRequest(state.leader_epoch, latest_epoch)
        if not partitions:
            return True
        response = yield _request(self.ctx, leader_node, OffsetsForLeaderEpochRequest(self.ctx.broker_id, partitions),
                                  timeout)
        if isinstance(response, Errors):
            return False
        for tp, result in response.partitions.items():
            answered = self.partitions.get(tp)
            if answered is None or answered is not truncating.get(tp):
                continue
            if result.error != Errors.NONE:
                self._on_partition_error(tp, answered, result.error, f"the leader answered {result.error.name}")
                continue
            partition = self.replicas.partitions[tp]
            self._isolated(tp, answered, functools.partial(self._apply_epoch_end, tp, answered, partition,
                                                           result.leader_epoch, result.end_offset))
        return True

    def _apply_epoch_end(self, tp: TopicPartition, state: FetchState, partition: Any, leader_epoch: int,
                         leader_end: int) -> None:
        """KIP-279's truncation rule; fetching starts once no further round is needed."""
        log = partition.log
        if leader_end < 0:
            # The leader knows nothing of our epoch: fall back to the high watermark (pre-KIP-101).
            self.replicas.truncate(tp, partition.high_watermark, "leader had no record of our epoch; "
                                                                 "truncated to the high watermark")
            done = True
        else:
            follower_epoch, follower_end = log.leader_epoch_cache.end_offset_for(leader_epoch, log.log_end_offset)
            target = min(leader_end, follower_end if follower_epoch >= 0 else log.log_end_offset)
            self.replicas.truncate(tp, target, f"diverged from the leader's log at leader epoch {leader_epoch}")
            done = follower_epoch == leader_epoch or follower_epoch < 0
        state.fetch_offset = partition.log_end_offset
        state.truncating = not done

    def _handle_out_of_range(self, tp: TopicPartition, state: FetchState, leader_start: int, leader_end: int) -> None:
        partition = self.replicas.partitions[tp]
        if state.fetch_offset > leader_end >= 0:
            self.replicas.truncate(tp, leader_end, "the leader's log ends earlier")
        elif state.fetch_offset < leader_start:
            partition.log.truncate_fully_and_start_at(leader_start, int(self.ctx.now_ms))
        state.fetch_offset = partition.log_end_offset


class FetcherManager:
    """Keeps one ReplicaFetcher per leader broker, moving partitions as leaders change."""

    def __init__(self, ctx: BrokerContext, replicas: ReplicaManager) -> None:
        self.ctx = ctx
        self.replicas = replicas
        self.fetchers: dict[int, ReplicaFetcher] = {}

    def add(self, tp: TopicPartition, leader_id: int, leader_epoch: int, fetch_offset: int) -> None:
        """Follow ``tp`` from ``leader_id``, starting with epoch-based truncation."""
        self.remove(tp)
        fetcher = self.fetchers.get(leader_id)
        if fetcher is None:
            fetcher = self.fetchers[leader_id] = ReplicaFetcher(self.ctx, self.replicas, leader_id)
        fetcher.partitions[tp] = FetchState(leader_epoch, fetch_offset)
        fetcher.start()

    def remove(self, tp: TopicPartition) -> None:
        """Stop fetching ``tp``."""
        for fetcher in self.fetchers.values():
            fetcher.partitions.pop(tp, None)

    def following(self) -> dict[TopicPartition, int]:
        """Each followed partition and the leader it fetches from."""
        return {tp: fetcher.leader_id for fetcher in self.fetchers.values() for tp in fetcher.partitions}
