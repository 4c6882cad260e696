"""Followers replicate by fetching from leaders (Kafka's ``ReplicaFetcherThread``).

One fetcher per leader broker loops: first, for partitions that just became followers,
it asks the leader where the follower's latest epoch ended (OffsetsForLeaderEpoch,
KIP-101/279) and truncates any divergent tail; then it sends Fetch requests and appends
the returned batches as they are. A failed fetch backs off ``replica.fetch.backoff.ms``.

A failure while applying what was fetched stays with its partition, as in Kafka's
``AbstractFetcherThread``: invalid or corrupt records make the partition retry after
the backoff; anything else marks it failed (``markPartitionFailed``): it leaves the
fetcher until the controller next sends LeaderAndIsr for it, and the rest go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kafkalab.broker.context import BrokerContext
from kafkalab.clients.fetch_session_handler import FetchSessionHandler, SessionFetch
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.failures import ReplicaFetchFailed
from kafkalab.protocol.fetch import (
    EpochEndOffset,
    EpochRequest,
    FetchPartition,
    FetchPartitionData,
    FetchRequest,
    OffsetsForLeaderEpochRequest,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.failures import Failure
from kafkalab.sim.process import Future, Process, Sleep, spawn

if TYPE_CHECKING:
    from kafkalab.broker.replica_manager import ReplicaManager

#: Errors after which Kafka's fetcher retries the partition after the backoff instead of marking it failed
#: (``CorruptRecordException`` and ``InvalidRecordException``: possibly a transient state of the log).
RETRIED_ERRORS = frozenset({Errors.CORRUPT_MESSAGE, Errors.INVALID_RECORD})

#: Errors a leader answers with when its data or disk is damaged, unlike leadership churn: journaled.
NARRATED_LEADER_ERRORS = frozenset({Errors.CORRUPT_MESSAGE, Errors.UNKNOWN_SERVER_ERROR, Errors.KAFKA_STORAGE_ERROR})


@dataclass(slots=True)
class FetchState:
    """Where a follower is with one partition."""

    leader_epoch: int
    fetch_offset: int
    truncating: bool = True
    #: The leader has a newer epoch than ours: wait for the controller's LeaderAndIsr.
    fenced: bool = False
    #: After a retriable error the partition sits out until then (``replica.fetch.backoff.ms``).
    delayed_until_ms: float = 0.0
    #: The error the partition is retrying after, so a run of the same one is journaled once.
    retrying_after: str | None = None


def _request(ctx: BrokerContext, node: str, destination: str, request: Any, timeout_ms: float) -> Future[Any]:
    """Send ``request`` from ``node`` (this broker's name, made once per fetch loop) to ``destination``."""
    future: Future[Any] = Future()

    def done(response: Any, error: Errors | None) -> None:
        future.set_result(error if error is not None else response)

    ctx.network.request(node, destination, request, done, timeout_ms)
    return future


class ReplicaFetcher:
    """Fetches every partition this broker follows from one leader broker.

    A round looks only at the partitions whose state may have changed since the last request
    (``touched``: added, removed, answered, truncated) and at those whose backoff has ended, and
    its fetch session names only those whose fetch position changed (KIP-227): the others are
    asked for as before, so an idle partition costs a round nothing.
    """

    def __init__(self, ctx: BrokerContext, replicas: ReplicaManager, leader_id: int) -> None:
        self.ctx = ctx
        self.replicas = replicas
        self.leader_id = leader_id
        self.partitions: dict[TopicPartition, FetchState] = {}
        #: Followers fetch in an incremental session (KIP-227), as Kafka's do since 1.1: the leader
        #: then answers only partitions with news, so idle partitions cost a round little.
        self.session = FetchSessionHandler()
        self.running = False
        #: Partitions whose state may have changed since the last request was built (an ordered set).
        self._touched: dict[TopicPartition, None] = {}
        #: Partitions neither fenced nor backing off, as of the last look: what a round fetches, or truncates.
        self._ready: dict[TopicPartition, FetchState] = {}
        self._truncating: set[TopicPartition] = set()
        #: Partitions backing off after an error (``replica.fetch.backoff.ms``), looked at again when it ends.
        self._backing_off: dict[TopicPartition, FetchState] = {}

    @property
    def name(self) -> str:
        """The fetcher as failures name it (Kafka's ``ReplicaFetcherThread-0-<leader>``)."""
        return f"replica fetcher from broker {self.leader_id}"

    def add(self, tp: TopicPartition, state: FetchState) -> None:
        """Fetch ``tp`` from ``state`` on, starting the loop if it had stopped."""
        self.partitions[tp] = state
        self._touched[tp] = None
        self.start()

    def remove(self, tp: TopicPartition) -> None:
        """Stop fetching ``tp``."""
        if self.partitions.pop(tp, None) is not None:
            self._touched[tp] = None

    def start(self) -> None:
        if not self.running and self.partitions:
            self.running = True
            spawn(self.ctx.group, self._run(), name=self.name)

    def _run(self) -> Process[None]:
        try:
            yield from self._fetch_rounds()
        finally:
            # Ended or failed (then reported): the next partition added starts the loop again.
            self.running = False

    def _look(self, now: float) -> None:
        """Sort the touched partitions, and those whose backoff has ended, into ready, truncating and backing off."""
        touched = self._touched
        if self._backing_off:
            touched.update(dict.fromkeys(tp for tp, s in self._backing_off.items() if s.delayed_until_ms <= now))
        ready, backing_off, truncating = self._ready, self._backing_off, self._truncating
        for tp in touched:
            state = self.partitions.get(tp)
            ready.pop(tp, None)
            backing_off.pop(tp, None)
            truncating.discard(tp)
            if state is None or state.fenced:
                continue
            if state.delayed_until_ms > now:
                backing_off[tp] = state
                continue
            ready[tp] = state
            if state.truncating:
                truncating.add(tp)

    def _build(self, max_bytes: int) -> SessionFetch:
        """The next request's partitions: all of them for a full fetch, else those touched since the last one."""
        ready, touched = self._ready, self._touched
        self._touched = {}
        if self.session.full_due:
            return self.session.build({tp: FetchPartition(s.fetch_offset, s.leader_epoch, max_bytes)
                                       for tp, s in self.partitions.items() if tp in ready})
        changed: dict[TopicPartition, FetchPartition | None] = {}
        # A loop, not a comprehension (a frame of its own): every round, for a partition or two.
        for tp in touched:
            state = ready.get(tp)
            changed[tp] = None if state is None else FetchPartition(state.fetch_offset, state.leader_epoch, max_bytes)
        return self.session.build_changed(changed)

    def _fetch_rounds(self) -> Process[None]:
        config = self.ctx.config
        node = self.ctx.node
        leader_node = f"broker-{self.leader_id}"
        timeout = config["request.timeout.ms"]
        backoff = config["replica.fetch.backoff.ms"]
        max_bytes = config["replica.fetch.max.bytes"]
        wait_ms = config["replica.fetch.wait.max.ms"]
        while self.partitions:
            now = self.ctx.scheduler.now_ms
            self._look(now)
            if self._truncating:
                truncating = {tp: s for tp, s in self.partitions.items() if tp in self._truncating}
                ok = yield from self._truncate(leader_node, truncating, timeout)
                self._touched.update(dict.fromkeys(truncating))
                if not ok:
                    yield Sleep(backoff)
                continue
            ready = self._ready
            if not ready:
                if not self._backing_off:
                    break
                yield Sleep(min(s.delayed_until_ms for s in self._backing_off.values()) - now)
                continue
            sent = self._build(max_bytes)
            request = FetchRequest(self.ctx.broker_id, wait_ms, 1,
                                   10 * max_bytes, sent.partitions,
                                   session_id=sent.session_id, session_epoch=sent.epoch, forgotten=sent.forgotten)
            response = yield _request(self.ctx, node, leader_node, request, timeout + request.max_wait_ms)
            if isinstance(response, Errors):
                self.session.handle_error()
                yield Sleep(backoff)
                continue
            if not self.session.handle_response(sent, response):
                continue  # the session broke: the next request is full, at once (``RemoteLeaderEndPoint.fetch``)
            touched = self._touched
            for tp, data in response.partitions.items():
                state = self.partitions.get(tp)
                if state is None or state is not ready.get(tp):
                    continue  # removed or re-added while the fetch was in flight
                touched[tp] = None
                self._guarded(tp, state, self._process_partition_data, data)

    def _process_partition_data(self, tp: TopicPartition, state: FetchState, data: FetchPartitionData) -> None:
        """Apply one partition's part of a fetch response."""
        if data.error == Errors.NONE:
            if data.records and state.fetch_offset != self.replicas.partitions[tp].log.log_end_offset:
                return
            state.fetch_offset = self.replicas.append_as_follower(tp, data)
            state.retrying_after = None
        elif data.error == Errors.OFFSET_OUT_OF_RANGE:
            self._handle_out_of_range(tp, state, data.log_start_offset, data.log_end_offset)
        else:
            self._on_partition_error(tp, state, data.error)

    def _guarded(self, tp: TopicPartition, state: FetchState, work: Callable[..., None], *args: Any) -> None:
        """Run one partition's share of a round; an error stays with that partition (``AbstractFetcherThread``)."""
        try:
            work(tp, state, *args)
        except KafkaError as error:
            if error.error in RETRIED_ERRORS:
                state.delayed_until_ms = self.ctx.now_ms + self.ctx.config["replica.fetch.backoff.ms"]
                if state.retrying_after != error.name:
                    state.retrying_after = error.name
                    self._journal(tp, state, error.name, error.message, retrying=True)
            else:
                self._mark_failed(tp, state, error.name, error.message)
        except OSError as error:
            # A disk fault: Kafka's KafkaStorageException, which marks the partition failed as well.
            self._mark_failed(tp, state, Errors.KAFKA_STORAGE_ERROR.name, str(error))
        except Exception as error:
            # Kafka catches any Throwable here too; a bug is also reported as such, so it never passes unseen.
            self._mark_failed(tp, state, type(error).__name__, str(error))
            self.ctx.group.scheduler.report(Failure(self.ctx.node, f"{self.name} ({tp})", error))

    def _mark_failed(self, tp: TopicPartition, state: FetchState, error: str, message: str) -> None:
        """Stop fetching ``tp`` until LeaderAndIsr adds it again (``markPartitionFailed``)."""
        if self.partitions.get(tp) is state:
            self.remove(tp)
        self._journal(tp, state, error, message, retrying=False)

    def _journal(self, tp: TopicPartition, state: FetchState, error: str, message: str, retrying: bool) -> None:
        self.ctx.journal.emit(ReplicaFetchFailed, broker_id=self.ctx.broker_id, leader_id=self.leader_id,
                              topic=tp.topic, partition=tp.partition, fetch_offset=state.fetch_offset, error=error,
                              message=message, retrying=retrying)

    def _on_partition_error(self, tp: TopicPartition, state: FetchState, error: Errors) -> None:
        """Kafka's AbstractFetcherThread: a fenced epoch waits for LeaderAndIsr, anything else retries.

        NOT_LEADER_OR_FOLLOWER or UNKNOWN_LEADER_EPOCH are normal right after an election,
        when the follower heard from the controller before the new leader did; a leader that
        answers with damaged data or a failing disk is not, and is journaled once per run.
        """
        if error == Errors.FENCED_LEADER_EPOCH:
            state.fenced = True
            return
        state.delayed_until_ms = self.ctx.now_ms + self.ctx.config["replica.fetch.backoff.ms"]
        if error in NARRATED_LEADER_ERRORS and state.retrying_after != error.name:
            state.retrying_after = error.name
            self._journal(tp, state, error.name, f"the leader answered {error.name}.", retrying=True)

    def _truncate(self, leader_node: str, truncating: dict[TopicPartition, FetchState], timeout: float) -> Process[bool]:
        partitions = {}
        for tp, state in truncating.items():
            latest_epoch = self.replicas.partitions[tp].log.leader_epoch_cache.latest_epoch
            if latest_epoch is None or latest_epoch < 0:
                self._guarded(tp, state, self._truncate_to_high_watermark)
                continue
            partitions[tp] = EpochRequest(state.leader_epoch, latest_epoch)
        if not partitions:
            return True
        response = yield _request(self.ctx, self.ctx.node, leader_node,
                                  OffsetsForLeaderEpochRequest(self.ctx.broker_id, partitions), timeout)
        if isinstance(response, Errors):
            return False
        for tp, result in response.partitions.items():
            answered = self.partitions.get(tp)
            if answered is None or answered is not truncating.get(tp):
                continue
            if result.error != Errors.NONE:
                self._on_partition_error(tp, answered, result.error)
                continue
            self._guarded(tp, answered, self._truncate_to_epoch_end, result)
        return True

    def _truncate_to_high_watermark(self, tp: TopicPartition, state: FetchState) -> None:
        """No epoch history (an empty or pre-epoch log): Kafka truncates to the high watermark."""
        partition = self.replicas.partitions[tp]
        self.replicas.truncate(tp, partition.high_watermark, "no leader epoch history; truncated to the high watermark")
        state.fetch_offset = partition.log_end_offset
        state.truncating = False

    def _truncate_to_epoch_end(self, tp: TopicPartition, state: FetchState, result: EpochEndOffset) -> None:
        partition = self.replicas.partitions[tp]
        done = self._apply_epoch_end(tp, partition, result.leader_epoch, result.end_offset)
        state.fetch_offset = partition.log_end_offset
        state.truncating = not done

    def _apply_epoch_end(self, tp: TopicPartition, partition: Any, leader_epoch: int, leader_end: int) -> bool:
        """KIP-279's truncation rule; returns True when no further round is needed."""
        log = partition.log
        if leader_end < 0:
            # The leader knows nothing of our epoch: fall back to the high watermark (pre-KIP-101).
            self.replicas.truncate(tp, partition.high_watermark, "leader had no record of our epoch; "
                                                                 "truncated to the high watermark")
            return True
        follower_epoch, follower_end = log.leader_epoch_cache.end_offset_for(leader_epoch, log.log_end_offset)
        target = min(leader_end, follower_end if follower_epoch >= 0 else log.log_end_offset)
        self.replicas.truncate(tp, target, f"diverged from the leader's log at leader epoch {leader_epoch}")
        return follower_epoch == leader_epoch or follower_epoch < 0

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
        fetcher.add(tp, FetchState(leader_epoch, fetch_offset))

    def remove(self, tp: TopicPartition) -> None:
        """Stop fetching ``tp``."""
        for fetcher in self.fetchers.values():
            fetcher.remove(tp)

    def following(self) -> dict[TopicPartition, int]:
        """Each followed partition and the leader it fetches from."""
        return {tp: fetcher.leader_id for fetcher in self.fetchers.values() for tp in fetcher.partitions}
