"""A broker's replicas: roles from the controller, produce and fetch, ISR and high watermark.

This is Kafka's ``ReplicaManager``: it applies LeaderAndIsr, appends produced batches as
leader (assigning offsets, never re-encoding records), serves fetches from followers and
consumers (consumers only up to the high watermark), parks long-poll fetches and
``acks=all`` produces in purgatories; ISR proposals to the controller live in ``isr_changes.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.fetch_serving import serve_fetch
from kafkalab.broker.fetch_sessions import FetchSession, SessionsByPartition
from kafkalab.broker.fetcher import FetcherManager
from kafkalab.broker.isr_changes import IsrChanges
from kafkalab.broker.partition import Partition
from kafkalab.broker.purgatory import Purgatory
from kafkalab.broker.replica_descriptions import ReplicaDescriptions
from kafkalab.broker.txn_verification import TxnVerifier
from kafkalab.config import TopicConfig
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import DuplicateBatchIgnored
from kafkalab.events.cluster import HighWatermarkAdvanced, LogTruncated, ProduceRejected
from kafkalab.events.storage import CorruptDataFound, SegmentRolled
from kafkalab.protocol.controller_api import (
    LeaderAndIsrRequest,
    LeaderAndIsrResponse,
    PartitionState,
    StopReplicaRequest,
    StopReplicaResponse,
)
from kafkalab.protocol.fetch import (
    FetchPartitionData,
    FetchRequest,
)
from kafkalab.protocol.produce import PartitionProduceResponse, ProduceRequest, ProduceResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.files import KafkaStorageError
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.log_manager import LogManager
from kafkalab.storage.producer_state import ProducerStates
from kafkalab.storage.records import iter_batch_headers
from kafkalab.storage.results import LogAppendInfo
from kafkalab.storage.segment import CorruptSegmentError
from kafkalab.validation import is_internal
from kafkalab.views import HostedReplica, ReplicaChanges

Responder = Callable[[Any], None]

class ReplicaManager:
    """Every partition replica hosted by one broker and the requests that touch them."""

    def __init__(self, ctx: BrokerContext, log_manager: LogManager, high_watermarks: dict[TopicPartition, int],
                 topic_config: Callable[[str], TopicConfig]) -> None:
        self.ctx = ctx
        self.log_manager = log_manager
        self.topic_config = topic_config
        self.partitions: dict[TopicPartition, Partition] = {}
        self._descriptions = ReplicaDescriptions(self.last_stable_offset)
        self.produce_purgatory = Purgatory(ctx.group)
        self.fetch_purgatory = Purgatory(ctx.group)
        #: The follower fetch sessions holding each partition, told when it changes here (``fetch_sessions.py``).
        self.follower_sessions = SessionsByPartition()
        self._appended_since_check: set[TopicPartition] = set()
        #: (file, position, problem) of damage already narrated by a CorruptDataFound event.
        self._corruption_reported: set[tuple[str, int, str]] = set()
        self.fetchers = FetcherManager(ctx, self)
        self.verifier = TxnVerifier(ctx)
        self.producer_states = ProducerStates()
        #: Called with (partition, is_leader, leader_epoch) after a role change (Kafka's ``onLeadershipChange``).
        self.leadership_listeners: list[Callable[[TopicPartition, bool, int], None]] = []
        self.controller_epoch = -1
        self._initial_high_watermarks = high_watermarks
        self.records_in = 0
        self.bytes_in = 0
        #: ``replica.lag.time.max.ms``, read at every high-watermark check (a broker's config does not change).
        self._lag_max_ms = ctx.config["replica.lag.time.max.ms"]
        self.isr_changes = IsrChanges(ctx, self.leader_partitions, self._after_leader_change)
        #: Serve a follower's or consumer's fetch, long-polling when there is nothing yet (``fetch_serving.py``):
        #: ``serve_fetch`` bound to these replicas, so every fetch goes to it without a frame of ours in between.
        self.handle_fetch: Callable[[FetchRequest, Responder, FetchSession | None], None] = partial(serve_fetch, self)
        ctx.group.every(ctx.config["replica.lag.time.max.ms"] / 2, self.isr_changes.shrink_if_needed)
        ctx.group.every(ctx.config["replica.high.watermark.checkpoint.interval.ms"], self.checkpoint_high_watermarks)

    # -- partitions ----------------------------------------------------------------

    def _partition(self, tp: TopicPartition) -> Partition:
        partition = self.partitions.get(tp)
        if partition is None:
            config = self.topic_config(tp.topic)
            log = self.log_manager.get_or_create_log(tp.topic, tp.partition, config, int(self.ctx.now_ms))
            partition = Partition(self.ctx.broker_id, tp, log, config, self._initial_high_watermarks.get(tp, 0),
                                  self.follower_sessions.changed, self._descriptions.mark)
            self.partitions[tp] = partition
        return partition

    def leader_partitions(self) -> list[Partition]:
        """Partitions this broker currently leads."""
        return [p for p in self.partitions.values() if p.is_leader]

    def update_topic_config(self, topic: str, config: TopicConfig) -> None:
        """Apply a changed topic config to this broker's replicas of the topic."""
        for partition in self.partitions.values():
            if partition.tp.topic == topic:
                partition.config = config
                partition.log.update_config(config)

    # -- controller requests -------------------------------------------------------

    def _stale(self, controller_epoch: int, broker_epoch: int) -> Errors | None:
        if controller_epoch < self.controller_epoch:
            return Errors.STALE_CONTROLLER_EPOCH
        if broker_epoch not in (-1, self.ctx.broker_epoch):
            return Errors.STALE_BROKER_EPOCH
        self.controller_epoch = controller_epoch
        return None

    def handle_leader_and_isr(self, request: LeaderAndIsrRequest) -> LeaderAndIsrResponse:
        """Become leader or follower of each partition in the request (Kafka's becomeLeaderOrFollower)."""
        stale = self._stale(request.controller_epoch, request.broker_epoch)
        if stale is not None:
            return LeaderAndIsrResponse(stale, {})
        errors: dict[TopicPartition, Errors] = {}
        roles: list[tuple[TopicPartition, bool, int]] = []
        now = self.ctx.now_ms
        for state in request.partition_states:
            try:
                role = self._become_leader_or_follower(state, now)
            except KafkaError as exc:
                # Kafka answers KAFKA_STORAGE_ERROR for a partition whose log cannot be created or written.
                errors[state.tp] = exc.error
                continue
            if role is None:
                errors[state.tp] = Errors.STALE_CONTROLLER_EPOCH
                continue
            roles.extend(role)
            errors[state.tp] = Errors.NONE
        self._notify_roles(roles)
        return LeaderAndIsrResponse(Errors.NONE, errors)

    def _become_leader_or_follower(self, state: PartitionState,
                                   now: float) -> list[tuple[TopicPartition, bool, int]] | None:
        """Apply one partition's state; the role taken (none if it stays as it is), or None if the state is stale."""
        partition = self._partition(state.tp)
        if state.leader == self.ctx.broker_id:
            if not partition.make_leader(state, now):
                return None
            self.fetchers.remove(state.tp)
            self.producer_states.load(partition.log)
            self._after_leader_change(partition)
            return [(state.tp, True, state.leader_epoch)]
        if state.leader not in self.ctx.metadata.brokers and partition.leader_id != -1:
            # Kafka 3.9 ReplicaManager.makeFollowers (ZK mode): "cannot become follower since the new
            # leader is unavailable": the replica keeps its state and its fetcher until a leader is elected.
            return []
        if not partition.make_follower(state):
            return None
        self.produce_purgatory.check_and_complete(state.tp)
        self._check_fetches(state.tp)
        if state.leader >= 0:
            self.fetchers.add(state.tp, state.leader, state.leader_epoch, partition.log_end_offset)
        else:
            self.fetchers.remove(state.tp)
        return [(state.tp, False, state.leader_epoch)]

    def _notify_roles(self, roles: list[tuple[TopicPartition, bool, int]]) -> None:
        for listener in self.leadership_listeners:
            for tp, is_leader, leader_epoch in roles:
                listener(tp, is_leader, leader_epoch)

    def handle_stop_replica(self, request: StopReplicaRequest) -> StopReplicaResponse:
        """Stop replicas (a departing broker's followers) or delete them (topic deletion)."""
        stale = self._stale(request.controller_epoch, request.broker_epoch)
        if stale is not None:
            return StopReplicaResponse(stale)
        for item in request.partitions:
            self.fetchers.remove(item.tp)
            partition = self.partitions.get(item.tp)
            if item.delete:
                if partition is not None:
                    del self.partitions[item.tp]
                    self.follower_sessions.changed(item.tp)
                    self._descriptions.mark(item.tp)
                self._delete_log(item.tp)
                self.producer_states.forget(item.tp.topic, item.tp.partition)
            elif partition is not None:
                partition.stop()
            self.produce_purgatory.check_and_complete(item.tp)
            self._check_fetches(item.tp)
        self._notify_roles([(item.tp, False, -1) for item in request.partitions])
        return StopReplicaResponse(Errors.NONE)

    def delete_stray_logs(self, known_topics: set[str]) -> None:
        """Remove local logs of topics deleted while this broker was away."""
        for topic, partition in list(self.log_manager.logs()):
            if topic not in known_topics:
                tp = TopicPartition(topic, partition)
                self.partitions.pop(tp, None)
                self.follower_sessions.changed(tp)
                self._descriptions.mark(tp)
                self.fetchers.remove(tp)
                self._delete_log(tp)

    def _delete_log(self, tp: TopicPartition) -> None:
        """Remove a replica's log; a disk that refuses has already taken the log dir offline (the broker halts)."""
        try:
            self.log_manager.delete_log(tp.topic, tp.partition)
        except KafkaStorageError:
            pass

    # -- produce -------------------------------------------------------------------

    def unknown_or_not_leader(self, tp: TopicPartition) -> Errors:
        if tp.topic not in self.ctx.metadata.partition_counts:
            return Errors.UNKNOWN_TOPIC_OR_PARTITION
        if tp.partition >= self.ctx.metadata.partition_counts[tp.topic]:
            return Errors.UNKNOWN_TOPIC_OR_PARTITION
        return Errors.NOT_LEADER_OR_FOLLOWER

    def handle_produce(self, request: ProduceRequest, respond: Responder, internal_topics_allowed: bool = False,
                       from_coordinator: bool = False) -> None:
        """Append each partition's batches as leader; answer per ``acks``.

        Only the broker's own coordinators may write internal topics (Kafka's ``internalTopicsAllowed``):
        a client's record there would be read back as group metadata. Only a transaction
        coordinator's WriteTxnMarkers (``from_coordinator``) may append control batches. A transactional
        producer's first batch in a partition waits for its coordinator to confirm the partition is in
        its transaction (``txn_verification.py``, KIP-890).
        """
        if request.acks not in (0, 1, -1):
            respond(ProduceResponse({tp: PartitionProduceResponse(
                Errors.INVALID_REQUIRED_ACKS, message=f"acks must be 0, 1 or -1 (all), not {request.acks}.")
                for tp in request.partitions}))
            return
        verifying = (request.transactional_id is not None and not from_coordinator
                     and bool(self.ctx.config["transaction.partition.verification.enable"]))
        guards, producer = self._start_verification(request) if verifying else ({}, None)
        if not guards or producer is None:
            self._produce(request, respond, internal_topics_allowed, from_coordinator, verifying, guards, {})
            return
        assert request.transactional_id is not None
        self.verifier.verify(request.transactional_id, producer[0], producer[1], tuple(sorted(guards)),
                             lambda unverified: self._produce(request, respond, internal_topics_allowed,
                                                              from_coordinator, verifying, guards, unverified),
                             request.abortable_errors)

    def _start_verification(self, request: ProduceRequest) -> tuple[dict[TopicPartition, object], tuple[int, int] | None]:
        """The partitions this leader must verify with the transaction coordinator before appending, with their
        guards, and the (producer id, epoch) to verify (Kafka 3.9 ``handleProduceAppend``)."""
        guards: dict[TopicPartition, object] = {}
        producer = None
        for tp, batches in request.partitions.items():
            partition = self.partitions.get(tp)
            if partition is None or not partition.is_leader:
                continue  # the append answers why
            try:
                header = next((h for _, h in iter_batch_headers(batches) if h.is_transactional and not h.is_control),
                              None)
                if header is None:
                    continue
                guard = self.producer_states.start_verification(partition.log, header.producer_id)
            except KafkaError:
                continue  # malformed batches or a damaged log: the append refuses them and says why
            producer = (header.producer_id, header.producer_epoch)
            if guard is not None:
                guards[tp] = guard
        return guards, producer

    def _produce(self, request: ProduceRequest, respond: Responder, internal_topics_allowed: bool,
                 from_coordinator: bool, verifying: bool, guards: dict[TopicPartition, object],
                 unverified: dict[TopicPartition, tuple[Errors, str]]) -> None:
        results: dict[TopicPartition, PartitionProduceResponse] = {}
        required: dict[TopicPartition, int] = {}
        for tp, batches in request.partitions.items():
            if tp in unverified:
                error, message = unverified[tp]
                self._reject(tp, error, message)
                results[tp] = PartitionProduceResponse(error, message=message)
                continue
            if is_internal(tp.topic) and not internal_topics_allowed:
                # ReplicaManager.appendToLocalLog: nothing is appended.
                message = f"Cannot append to internal topic {tp.topic}."
                self._reject(tp, Errors.INVALID_TOPIC_EXCEPTION, message)
                results[tp] = PartitionProduceResponse(Errors.INVALID_TOPIC_EXCEPTION, message=message)
                continue
            result = self._append_as_leader(tp, batches, request.acks, from_coordinator, verifying, guards.get(tp))
            results[tp] = result
            if result.error == Errors.NONE and request.acks == -1:
                required[tp] = self.partitions[tp].log_end_offset
        if request.acks == 0:
            return
        if not required:
            respond(ProduceResponse(results))
            return
        self._wait_for_replication(results, required, request.timeout_ms, respond)

    def _append_as_leader(self, tp: TopicPartition, batches: bytes, acks: int, from_coordinator: bool = False,
                          verifying: bool = False, guard: object | None = None) -> PartitionProduceResponse:
        partition = self.partitions.get(tp)
        if partition is None or not partition.is_leader:
            error = self.unknown_or_not_leader(tp)
            return PartitionProduceResponse(error, message=f"Broker {self.ctx.broker_id} does not lead {tp}.")
        # Kafka 3.9 Partition.appendRecordsToLeader: acks=all needs the committed ISR at the effective min ISR.
        min_isr = partition.effective_min_isr
        if acks == -1 and len(partition.isr) < min_isr:
            reason = f"ISR {list(partition.isr)} has fewer than {_min_isr_text(partition)} members"
            self._reject(tp, Errors.NOT_ENOUGH_REPLICAS, reason)
            return PartitionProduceResponse(Errors.NOT_ENOUGH_REPLICAS, message=reason + "; nothing was written.")
        log = partition.log
        try:
            # Kafka 3.9 UnifiedLog.append: the batches are validated, then checked against their producers' state.
            checked = log.validate_as_leader(batches, from_coordinator)
            duplicate = self.producer_states.check_leader_append(log, batches, checked, from_coordinator, verifying,
                                                                 guard)
            if duplicate is not None:
                # KIP-98: a retry of a batch already written gets its original offset; nothing is appended.
                self.ctx.journal.emit(DuplicateBatchIgnored, broker_id=self.ctx.broker_id, topic=tp.topic,
                                      partition=tp.partition, producer_id=duplicate.producer_id,
                                      first_sequence=duplicate.first_seq, last_sequence=duplicate.last_seq,
                                      base_offset=duplicate.first_offset)
                return PartitionProduceResponse(Errors.NONE, duplicate.first_offset, -1, log.log_start_offset)
            info = log.append_as_leader(batches, partition.leader_epoch, int(self.ctx.scheduler.now_ms),
                                        from_coordinator, checked)
        except KafkaError as exc:
            self._reject(tp, exc.error, exc.message)
            return PartitionProduceResponse(exc.error, message=exc.message)
        self.producer_states.record_append(log, batches, info, True)  # as leader
        self.records_in += info.record_count
        self.bytes_in += len(batches)
        if info.rolled:
            self._report_rolls(partition, info)
        self._after_leader_append(partition)
        return PartitionProduceResponse(Errors.NONE, info.first_offset, -1, log.log_start_offset)

    def _reject(self, tp: TopicPartition, error: Errors, reason: str) -> None:
        self.ctx.journal.emit(ProduceRejected, broker_id=self.ctx.broker_id, topic=tp.topic, partition=tp.partition,
                              error=error.name, reason=reason)

    def _wait_for_replication(self, results: dict[TopicPartition, PartitionProduceResponse],
                              required: dict[TopicPartition, int], timeout_ms: int, respond: Responder) -> None:
        pending = dict(required)

        def try_complete() -> bool:
            for tp, offset in list(pending.items()):
                partition = self.partitions.get(tp)
                if partition is None or not partition.is_leader:
                    results[tp] = PartitionProduceResponse(Errors.NOT_LEADER_OR_FOLLOWER,
                                                           message="Leadership moved before the write was replicated.")
                elif partition.high_watermark >= offset:
                    # Kafka 3.9 Partition.checkEnoughReplicasReachOffset: written and committed, but the
                    # maximal ISR shrank below the minimum before this check. (While the ISR is under
                    # min ISR the HW stands still, so a shrink usually ends in REQUEST_TIMED_OUT instead.)
                    if len(partition.maximal_isr) < partition.effective_min_isr:
                        reason = f"written, but ISR {list(partition.isr)} is below {_min_isr_text(partition)}"
                        self._reject(tp, Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND, reason)
                        results[tp] = PartitionProduceResponse(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND, message=reason)
                else:
                    continue
                del pending[tp]
            if pending:
                return False
            respond(ProduceResponse(results))
            return True

        def on_expire() -> None:
            for tp in pending:
                results[tp] = PartitionProduceResponse(
                    Errors.REQUEST_TIMED_OUT, message="The in-sync replicas did not all get the write in time.")
            respond(ProduceResponse(results))

        self.produce_purgatory.try_complete_else_watch(tuple(required), try_complete, on_expire, timeout_ms)

    def _report_rolls(self, partition: Partition, info: LogAppendInfo) -> None:
        for rolled in info.rolled:
            self.ctx.journal.emit(SegmentRolled, broker_id=self.ctx.broker_id, topic=partition.tp.topic,
                                  partition=partition.tp.partition, base_offset=rolled.new_base_offset,
                                  reason=rolled.reason)

    def _after_leader_append(self, partition: Partition) -> None:
        self.follower_sessions.changed(partition.tp)
        self.maybe_increment_high_watermark(partition)
        # Kafka's ActionQueue: waiting fetches are completed after the request handlers are
        # done, so produce requests arriving together reach followers in one fetch response.
        if not self._appended_since_check:
            self.ctx.group.call_soon(self._complete_delayed_fetches)
        self._appended_since_check.add(partition.tp)

    def _complete_delayed_fetches(self) -> None:
        appended, self._appended_since_check = self._appended_since_check, set()
        for tp in sorted(appended):
            self._check_fetches(tp)

    def _check_fetches(self, tp: TopicPartition, sessions: bool = True) -> None:
        """Re-check the fetches waiting on ``tp``: those that named it and (``sessions``) those of follower sessions
        holding it.

        A follower session's waiting fetch watches one key, its session's clock, rather than each of
        its partitions: entering and leaving 18 watch lists per fetch was most of what it cost to wait.
        """
        self.fetch_purgatory.check_and_complete(tp)
        if sessions:
            for session in self.follower_sessions.holding(tp):
                self.fetch_purgatory.check_and_complete(session.clock)

    def _after_leader_change(self, partition: Partition) -> None:
        self.maybe_increment_high_watermark(partition)
        self.produce_purgatory.check_and_complete(partition.tp)
        self._check_fetches(partition.tp)

    def maybe_increment_high_watermark(self, partition: Partition) -> None:
        """Move ``partition``'s high watermark if its ISR allows, and complete what waited for it."""
        moved = partition.maybe_increment_high_watermark(self.ctx.scheduler.now_ms, self._lag_max_ms,
                                                         self.isr_changes.eligible)
        if moved is None:
            return
        tp = partition.tp
        self.ctx.journal.emit(HighWatermarkAdvanced, broker_id=self.ctx.broker_id, topic=tp.topic,
                              partition=tp.partition, old=moved[0], new=moved[1])
        self.produce_purgatory.check_and_complete(tp)
        # A follower session's waiting fetch reads to the log end, and a high watermark never completes it
        # (Kafka 3.9 ``DelayedFetch.tryComplete`` with ``FetchIsolation.LOG_END``); the changes that would (a new
        # role or epoch, a replica stopped or deleted) check it themselves. Only an append, whose check waits for
        # the action queue (``_complete_delayed_fetches``), could be answered by this check first: only then is it made.
        self._check_fetches(tp, sessions=bool(self._appended_since_check))

    # -- fetch ---------------------------------------------------------------------

    def last_stable_offset(self, partition: Partition, build: bool = False) -> int:
        """The partition's LSO: below it every transaction is decided (KIP-98)."""
        return self.producer_states.last_stable_offset(partition.log, partition.high_watermark, build)

    def report_corruption(self, tp: TopicPartition, error: CorruptSegmentError, fetch_offset: int) -> None:
        """Narrate damage a read met (``fetch_offset`` -1 if no fetch), once per place: every retry meets it again."""
        where = (str(error.log_path), error.position, error.problem)
        if where in self._corruption_reported:
            return
        self._corruption_reported.add(where)
        offset = fetch_offset if error.base_offset is None else error.base_offset
        self.ctx.journal.emit(CorruptDataFound, broker_id=self.ctx.broker_id, topic=tp.topic, partition=tp.partition,
                              file=str(error.log_path), position=error.position, offset=offset, problem=error.problem)

    # -- follower side (called by the fetchers) ------------------------------------

    def append_as_follower(self, tp: TopicPartition, data: FetchPartitionData) -> int:
        """Append the leader's batches as they are; returns the new log end offset."""
        partition = self.partitions[tp]
        log = partition.log
        if data.records:
            info = log.append_as_follower(data.records, int(self.ctx.scheduler.now_ms))
            self.producer_states.record_append(log, data.records, info, False)  # as follower
            self.records_in += info.record_count
            self.bytes_in += len(data.records)
            if info.rolled:
                self._report_rolls(partition, info)
        if data.log_start_offset > log.log_start_offset:
            log.maybe_increment_log_start_offset(min(data.log_start_offset, partition.high_watermark))
        partition.update_follower_high_watermark(data.high_watermark)
        return log.log_end_offset

    def truncate(self, tp: TopicPartition, offset: int, reason: str) -> None:
        """Cut a follower's log back to ``offset`` (never below its log start)."""
        partition = self.partitions[tp]
        old_end, high_watermark = partition.log_end_offset, partition.high_watermark
        # Called even when nothing is cut: the log then drops epoch starts past its end, as Kafka does.
        partition.log.truncate_to(offset, int(self.ctx.now_ms))
        if offset >= old_end:
            return
        partition.set_high_watermark(min(high_watermark, partition.log_end_offset))
        # Records below our high watermark had been committed (acknowledged to acks=all producers);
        # only an unclean election or a leader whose own log lost them can make a replica cut them.
        committed_lost = max(0, min(high_watermark, old_end) - partition.log_end_offset)
        self.ctx.journal.emit(LogTruncated, broker_id=self.ctx.broker_id, topic=tp.topic, partition=tp.partition,
                              old_end=old_end, new_end=partition.log_end_offset, reason=reason,
                              committed_lost=committed_lost)

    # -- checkpoints ---------------------------------------------------------------

    def checkpoint_high_watermarks(self) -> None:
        """Write every replica's high watermark to ``replication-offset-checkpoint``."""
        self.log_manager.write_high_watermarks(
            {(tp.topic, tp.partition): p.high_watermark for tp, p in self.partitions.items()})

    def take_producer_snapshots(self) -> None:
        """Write every replica's producer state to a ``.snapshot`` file, as Kafka does on a clean shutdown."""
        self.producer_states.take_snapshots(p.log for p in self.partitions.values())

    # -- views ---------------------------------------------------------------------

    def describe(self, only: TopicPartition | None = None) -> dict[TopicPartition, HostedReplica]:
        """This broker's replicas (or just ``only``, if hosted here): role, ISR, offsets and size.

        Kept between snapshots while a replica does not change (``replica_descriptions.py``).
        """
        return self._descriptions.describe(self.partitions, self.producer_states.unstable_partitions(), only)

    def describe_changes(self, since: tuple[int, int] | None) -> ReplicaChanges:
        """Every replica's description, naming those that changed after ``since`` (a stamp this gave before)."""
        return self._descriptions.changed_since(since, self.partitions, self.producer_states.unstable_partitions())

    def stale_descriptions(self) -> list[TopicPartition]:
        """Replicas whose kept description no longer matches their state: always empty unless a bug.

        The invariant checks (``cluster/invariants.py``) call it after every step.
        """
        return self._descriptions.stale(self.partitions, self.producer_states.unstable_partitions())

    def replica_log(self, tp: TopicPartition) -> PartitionLog | None:
        """The log of this broker's replica of ``tp``, to read records, segments and epochs from (never to write)."""
        partition = self.partitions.get(tp)
        return partition.log if partition is not None else None


def _min_isr_text(partition: Partition) -> str:
    """The effective min ISR for messages, naming the cap when the replication factor lowers it."""
    configured = partition.config.min_insync_replicas
    effective = partition.effective_min_isr
    if effective == configured:
        return f"min.insync.replicas={configured}"
    return f"min.insync.replicas={configured} (capped at the replication factor, {effective})"
