"""A KRaft controller node (``process.roles=controller``): a voter of the quorum and, when it leads, the active controller.

Kafka 4.1's ``ControllerServer`` with its ``QuorumController``. Every controller replays the
committed metadata log into its ``MetadataImage``; the one whose Raft replica leads the
epoch (announced once it has applied everything before that epoch) becomes active: it
decides, appends the records that carry the decision, replays them at once into a working
copy of the image (so the next decision sees them, as Kafka's timeline structures do), and
answers each request once its records are committed. Losing the lead drops the working
copy and answers what was not committed with NOT_CONTROLLER.

The active controller also keeps the brokers' sessions (``BrokerHeartbeatManager``): a
broker that sent no heartbeat for ``broker.session.timeout.ms`` is fenced. Brokers reach it
at ``controller-N``, the same node its Raft replica answers on. Topic, config, election and
AlterPartition requests are answered in ``topic_requests.py``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kafkalab.config import BrokerConfig
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import IsrShrunk, LeaderElected
from kafkalab.events.journal import EventJournal
from kafkalab.events.kraft import (
    BrokerControlledShutdownStarted,
    BrokerFenced,
    BrokerRegisteredWithController,
    BrokerUnfenced,
    ControllerActivated,
    ControllerDeactivated,
)
from kafkalab.kraft.features import BOOTSTRAP_FEATURES
from kafkalab.kraft.replication import Change, ReplicationControl
from kafkalab.kraft.snapshot_generator import SnapshotGenerator
from kafkalab.kraft.topic_requests import TopicRequests
from kafkalab.metadata.image import MetadataImage, PartitionRegistration
from kafkalab.metadata.records import (
    FENCE,
    UNFENCE,
    BrokerEndpoint,
    BrokerRegistrationChangeRecord,
    FeatureLevelRecord,
    MetadataRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    decode_record,
    encode_record,
)
from kafkalab.protocol.kraft import (
    AllocateProducerIdsRequest,
    AllocateProducerIdsResponse,
    BrokerHeartbeatRequest,
    BrokerHeartbeatResponse,
    BrokerRegistrationRequest,
    BrokerRegistrationResponse,
    not_controller_response,
)
from kafkalab.protocol.raft import OffsetAndEpoch
from kafkalab.protocol.types import TopicPartition
from kafkalab.raft.client import RaftNode
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.epoch_states import Role
from kafkalab.raft.listeners import CommittedBatch, LeaderAndEpoch
from kafkalab.raft.snapshots import SnapshotContents
from kafkalab.raft.views import ControllerStatus
from kafkalab.sim.network import Network, Responder
from kafkalab.sim.process import Future
from kafkalab.sim.scheduler import Scheduler, TimerGroup
from kafkalab.views import SessionDeadline

#: How often the active controller looks for brokers whose session expired.
FENCE_CHECK_INTERVAL_MS = 250
#: Producer ids per AllocateProducerIds block (``ProducerIdControlManager``).
PRODUCER_ID_BLOCK_SIZE = 1000


def controller_node_name(node_id: int) -> str:
    """A controller's name on the network: ``controller-N``."""
    return f"controller-{node_id}"


class ControllerNode:
    """One controller: its Raft replica of ``__cluster_metadata-0``, its image, and the active controller's duties."""

    def __init__(self, node_id: int, voters: Mapping[int, str], log_dir: Path, *, cluster_id: str,
                 scheduler: Scheduler, network: Network, journal: EventJournal, rng: random.Random,
                 broker_config: BrokerConfig, quorum_config: QuorumConfig) -> None:
        self.node_id = node_id
        self.node = controller_node_name(node_id)
        self.voters = dict(voters)
        self.log_dir = log_dir
        self.cluster_id = cluster_id
        self.scheduler = scheduler
        self.network = network
        self.journal = journal
        self.rng = rng
        self.config = broker_config
        self.quorum_config = quorum_config
        self.raft: RaftNode | None = None
        self.image = MetadataImage()
        self._working: MetadataImage | None = None
        self.replication = ReplicationControl(lambda: self._working or self.image, broker_config, rng)
        self.topic_requests = TopicRequests(self)
        self._group: TimerGroup | None = None
        self._epoch = -1
        #: The active controller's last heartbeat time per broker (Kafka's ``BrokerHeartbeatManager``).
        self._last_contact: dict[int, float] = {}
        #: Writes waiting to be committed: (offset of their last record, future).
        self._waiting: list[tuple[int, Future[None]]] = []
        self._snapshots = SnapshotGenerator(quorum_config, scheduler.now_ms)
        self._snapshot_pending = False
        #: The epoch of the last committed batch applied (a snapshot's id names it).
        self._last_epoch = 0

    # -- lifecycle -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.raft is not None and self.raft.running

    @property
    def active(self) -> bool:
        """True while this controller is the active controller."""
        return self._working is not None

    def start(self) -> None:
        """Start a new incarnation from the log directory: replay the log, then join the quorum."""
        if self.running:
            raise KafkaError(Errors.BROKER_ALREADY_RUNNING, f"Controller {self.node_id} is already running.")
        self.image = MetadataImage()
        self._working = None
        self._waiting = []
        self._snapshots = SnapshotGenerator(self.quorum_config, self.scheduler.now_ms)
        self._group = TimerGroup(self.scheduler, self.node)
        self.raft = RaftNode(self.node_id, self.voters, node_name=self.node, cluster_id=self.cluster_id,
                             log_dir=self.log_dir, scheduler=self.scheduler, network=self.network,
                             journal=self.journal, rng=random.Random(self.rng.random()), config=self.quorum_config,
                             other_requests=self._on_request)
        self.raft.register(self)
        self.raft.start()

    def kill(self) -> None:
        """Crash: the Raft replica stops at once, what is not committed is answered NOT_CONTROLLER."""
        if self.raft is not None:
            self.raft.kill()
        self._stopped("it crashed")

    def shutdown(self) -> Future[None]:
        """Stop cleanly: an active controller resigns and waits for a successor (Raft's graceful shutdown)."""
        if self.raft is None or not self.raft.running:
            return Future.completed(None)
        done = self.raft.shutdown()
        done.add_done_callback(lambda _: self._stopped("it shut down"))
        return done

    def stop_for_exit(self) -> None:
        """Close for an app exit: the log is flushed and closed, nothing moves."""
        if self.raft is not None:
            self.raft.close()
        self._stopped("kafkalab exited")

    def _stopped(self, reason: str) -> None:
        self._deactivate(reason)
        if self._group is not None:
            self._group.cancel_all()
            self._group = None

    def describe(self) -> ControllerStatus:
        raft = self.raft.describe() if self.raft is not None and self.raft._log_or_none is not None else None
        return ControllerStatus(self.node_id, self.running, self.active, self.image.offset, raft)

    # -- the Raft listener -------------------------------------------------------------

    def handle_commit(self, batches: Sequence[CommittedBatch]) -> None:
        size = 0
        for batch in batches:
            if not batch.is_control:
                for value in batch.records:
                    self.image.replay(decode_record(value))
                size += batch.size_in_bytes
            self.image.offset = batch.last_offset
            self._last_epoch = batch.epoch
        self._complete_waiting()
        if batches and self._snapshots.committed(size, self.scheduler.now_ms) \
                and not self._snapshot_pending and self._group is not None:
            # Kafka's SnapshotGenerator writes off the controller thread; here: right after this callback.
            self._snapshot_pending = True
            self._group.call_soon(self._snapshot)

    def _snapshot(self) -> None:
        self._snapshot_pending = False
        if self.raft is None or not self.raft.running or self.image.offset < 0:
            return
        self._snapshots.reset(self.scheduler.now_ms)
        records = [encode_record(record) for record in self.image.write()]
        self.raft.create_snapshot(OffsetAndEpoch(self.image.offset + 1, self._last_epoch), records,
                                  self.scheduler.now_int_ms())

    def handle_load_snapshot(self, snapshot: SnapshotContents) -> None:
        self.image = MetadataImage()
        self.image.replay_all(decode_record(value) for value in snapshot.records)
        self.image.offset = snapshot.snapshot_id.offset - 1
        self._last_epoch = snapshot.snapshot_id.epoch
        self._snapshots.reset(self.scheduler.now_ms)
        self._complete_waiting()

    def handle_leader_change(self, leader: LeaderAndEpoch) -> None:
        if leader.leader_id == self.node_id and self.raft is not None and self.raft.role is Role.LEADER:
            self._activate(leader.epoch)
        else:
            self._deactivate(f"controller {leader.leader_id} leads epoch {leader.epoch}" if leader.leader_id is not None
                             else f"epoch {leader.epoch} has no leader yet")

    # -- activation ----------------------------------------------------------------------

    def _activate(self, epoch: int) -> None:
        assert self._group is not None
        self._working = self.image.copy()
        self._epoch = epoch
        now = self.scheduler.now_ms
        # A new active controller has heard no heartbeat yet: every broker gets a whole session from now.
        self._last_contact = {broker_id: now for broker_id in self._working.brokers}
        self.journal.emit(ControllerActivated, node_id=self.node_id, epoch=epoch, metadata_offset=self.image.offset)
        if "metadata.version" not in self._working.features:
            self.write([FeatureLevelRecord(name, level) for name, level in BOOTSTRAP_FEATURES])
        group = self._group
        group.every(FENCE_CHECK_INTERVAL_MS, lambda: self._fence_stale_brokers() if self._group is group else None)

    def _deactivate(self, reason: str) -> None:
        if self._working is None:
            return
        self._working = None
        waiting, self._waiting = self._waiting, []
        for _, future in waiting:
            future.set_error(KafkaError(Errors.NOT_CONTROLLER, f"Controller {self.node_id} lost the lead: {reason}."))
        if self._group is not None:
            # The fence check and anything else of this activation stop; a new group serves the next one.
            self._group.cancel_all()
            self._group = TimerGroup(self.scheduler, self.node) if self.running else None
        self.journal.emit(ControllerDeactivated, node_id=self.node_id, reason=reason)

    # -- writing -------------------------------------------------------------------------

    @property
    def working(self) -> MetadataImage:
        if self._working is None:
            raise KafkaError(Errors.NOT_CONTROLLER, f"Controller {self.node_id} is not the active controller.")
        return self._working

    def write(self, records: Sequence[MetadataRecord]) -> Future[None]:
        """Append ``records`` in this epoch and replay them into the working image; done once committed."""
        if not records:
            return Future.completed(None)
        assert self.raft is not None
        working = self.working
        try:
            offset = self.raft.append([encode_record(record) for record in records], self._epoch)
        except KafkaError as exc:
            if exc.error != Errors.NOT_LEADER_OR_FOLLOWER:
                raise
            # The quorum moved on and the listener has not been told yet: nothing was written.
            return Future.failed(KafkaError(Errors.NOT_CONTROLLER, f"Controller {self.node_id} no longer leads."))
        working.replay_all(records)
        working.offset = offset
        future: Future[None] = Future()
        self._waiting.append((offset, future))
        return future

    @staticmethod
    def after_commit(committed: Future[None], action: Callable[[], object]) -> None:
        """Run ``action`` (a narration) once ``committed`` succeeds."""

        def run(done: Future[None]) -> None:
            if done.error is None:
                action()

        committed.add_done_callback(run)

    def _complete_waiting(self) -> None:
        if not self._waiting or self._waiting[0][0] > self.image.offset:
            return
        done = [future for offset, future in self._waiting if offset <= self.image.offset]
        self._waiting = [(offset, future) for offset, future in self._waiting if offset > self.image.offset]
        for future in done:
            future.set_result(None)

    def write_changes(self, changes: Sequence[Change], reason: str, extra: Sequence[MetadataRecord] = (),
                       before: Sequence[MetadataRecord] = ()) -> Future[None]:
        """Write partition changes (with ``before`` and ``extra`` records) and narrate them once committed."""
        working = self.working
        old = {tp: working.partition(tp.topic, tp.partition) for tp, _ in changes}
        future = self.write([*before, *(record for _, record in changes), *extra])
        new = {tp: working.partition(tp.topic, tp.partition) for tp, _ in changes}
        self.after_commit(future, lambda: self._narrate(old, new, reason))
        return future

    def _narrate(self, old: Mapping[TopicPartition, PartitionRegistration | None],
                 new: Mapping[TopicPartition, PartitionRegistration | None], reason: str) -> None:
        for tp, after in new.items():
            before = old.get(tp)
            if after is None or before is None:
                continue
            if after.leader != before.leader and after.leader >= 0:
                self.journal.emit(LeaderElected, topic=tp.topic, partition=tp.partition, leader=after.leader,
                                  previous_leader=before.leader, leader_epoch=after.leader_epoch, isr=after.isr,
                                  reason=reason, unclean=after.leader not in before.isr and after.leader not in before.elr)
            removed = tuple(r for r in before.isr if r not in after.isr)
            if removed and after.leader == before.leader:
                self.journal.emit(IsrShrunk, topic=tp.topic, partition=tp.partition, leader=after.leader,
                                  removed=removed, isr=after.isr, reason=reason)

    # -- requests ----------------------------------------------------------------------

    def _on_request(self, source: str, request: Any, respond: Responder) -> None:
        handler = self._handlers().get(type(request))
        if handler is None:
            return
        if self._working is None:
            respond(not_controller_response(request))
            return
        try:
            answer = handler(request)
        except KafkaError as exc:
            if exc.error not in (Errors.NOT_CONTROLLER, Errors.NOT_LEADER_OR_FOLLOWER):
                raise
            respond(not_controller_response(request))
            return
        response, committed = answer

        def done(future: Future[None]) -> None:
            if future.error is None:
                respond(response() if callable(response) else response)
            else:
                respond(not_controller_response(request))

        committed.add_done_callback(done)

    def _handlers(self) -> dict[type, Callable[[Any], tuple[Any, Future[None]]]]:
        return {
            BrokerRegistrationRequest: self._register_broker,
            BrokerHeartbeatRequest: self._heartbeat,
            **self.topic_requests.handlers(),
            AllocateProducerIdsRequest: self._allocate_producer_ids,
        }

    # -- brokers -------------------------------------------------------------------------

    def _register_broker(self, request: BrokerRegistrationRequest) -> tuple[Any, Future[None]]:
        """``ClusterControlManager.registerBroker``: a new epoch, fenced; an unclean restart leaves the ELRs."""
        working = self.working
        if request.cluster_id != self.cluster_id:
            return BrokerRegistrationResponse(Errors.INCONSISTENT_CLUSTER_ID), Future.completed(None)
        existing = working.brokers.get(request.broker_id)
        now = self.scheduler.now_ms
        if existing is not None and existing.incarnation_id == request.incarnation_id:
            return BrokerRegistrationResponse(Errors.NONE, existing.epoch), Future.completed(None)
        if existing is not None and not existing.fenced and \
                now - self._last_contact.get(request.broker_id, -1e18) < self.config["broker.session.timeout.ms"]:
            return BrokerRegistrationResponse(Errors.DUPLICATE_BROKER_REGISTRATION), Future.completed(None)
        assert self.raft is not None
        epoch = self.raft.next_append_offset
        if epoch is None:
            raise KafkaError(Errors.NOT_CONTROLLER, "The quorum leader changed.")
        # The record goes first, so the broker epoch is its offset: a broker that applied it has caught up.
        register = RegisterBrokerRecord(request.broker_id, request.incarnation_id, epoch,
                                        tuple(BrokerEndpoint(listener.name, listener.host, listener.port)
                                              for listener in request.listeners), rack=request.rack)
        changes: list[Change] = []
        if existing is not None and request.previous_broker_epoch != existing.epoch and self.replication.elr_enabled:
            # KIP-966: a broker that did not shut down cleanly may have lost unflushed records; it leaves ISRs and ELRs.
            changes = self.replication.leader_and_isr_updates(
                self.replication.partitions_where(lambda p: request.broker_id in p.isr or request.broker_id in p.elr),
                unclean_shutdown=request.broker_id)
        self._last_contact[request.broker_id] = now
        committed = self.write_changes(changes, f"broker {request.broker_id} restarted after an unclean shutdown",
                                        before=[register])
        self.after_commit(committed, lambda: self.journal.emit(
            BrokerRegisteredWithController, broker_id=request.broker_id, broker_epoch=epoch, controller_id=self.node_id))
        return BrokerRegistrationResponse(Errors.NONE, epoch), committed

    def _leads_any(self, broker_id: int) -> bool:
        return any(p.leader == broker_id for topic in self.working.topics.values() for p in topic.partitions.values())

    def _heartbeat(self, request: BrokerHeartbeatRequest) -> tuple[Any, Future[None]]:
        """``BrokerHeartbeatManager.calculateNextBrokerState`` and what each state change writes."""
        working = self.working
        broker_id = request.broker_id
        registration = working.brokers.get(broker_id)
        if registration is None:
            return BrokerHeartbeatResponse(Errors.BROKER_ID_NOT_REGISTERED), Future.completed(None)
        if registration.epoch != request.broker_epoch:
            return BrokerHeartbeatResponse(Errors.STALE_BROKER_EPOCH), Future.completed(None)
        self._last_contact[broker_id] = self.scheduler.now_ms
        caught_up = request.current_metadata_offset >= registration.epoch
        committed: Future[None] = Future.completed(None)
        should_shut_down = False
        if registration.fenced:
            if request.want_shut_down:
                should_shut_down = True
            elif not request.want_fence and caught_up:
                committed = self._unfence(broker_id, registration.epoch)
        elif request.want_fence:
            committed = self._fence(broker_id, "it asked to be fenced")
        elif request.want_shut_down:
            if not registration.in_controlled_shutdown:
                committed = self._begin_controlled_shutdown(broker_id, registration.epoch)
            if not self._leads_any(broker_id):
                committed = self._fence(broker_id, "its controlled shutdown is complete")
                should_shut_down = True

        def response() -> BrokerHeartbeatResponse:
            current = self.image.brokers.get(broker_id)
            return BrokerHeartbeatResponse(Errors.NONE, caught_up, current is None or current.fenced, should_shut_down)

        return response, committed

    def _unfence(self, broker_id: int, epoch: int) -> Future[None]:
        """``handleBrokerUnfenced``: unfence, then give leaderless partitions it can lead a leader."""
        record = BrokerRegistrationChangeRecord(broker_id, epoch, fenced=UNFENCE)
        changes = self.replication.leader_and_isr_updates(
            self.replication.partitions_where(lambda p: p.leader < 0), broker_to_add=broker_id)
        committed = self.write_changes(changes, f"broker {broker_id} was unfenced", before=[record])
        self.after_commit(committed, lambda: self.journal.emit(BrokerUnfenced, broker_id=broker_id, broker_epoch=epoch))
        return committed

    def _fence(self, broker_id: int, reason: str) -> Future[None]:
        """``handleBrokerFenced``: out of every ISR (leaders move, with no epoch bump for followers), then fenced."""
        registration = self.working.brokers[broker_id]
        changes = self.replication.leader_and_isr_updates(
            self.replication.partitions_where(lambda p: broker_id in p.isr), broker_to_remove=broker_id)
        record = BrokerRegistrationChangeRecord(broker_id, registration.epoch, fenced=FENCE)
        committed = self.write_changes(changes, f"broker {broker_id} was fenced ({reason})", extra=[record])
        self.after_commit(committed, lambda: self.journal.emit(
            BrokerFenced, broker_id=broker_id, broker_epoch=registration.epoch, reason=reason))
        return committed

    def _begin_controlled_shutdown(self, broker_id: int, epoch: int) -> Future[None]:
        """``handleBrokerInControlledShutdown``: mark it, then move its leaderships and take it out of every ISR."""
        record = BrokerRegistrationChangeRecord(broker_id, epoch, in_controlled_shutdown=1)
        self.working.replay(record)  # so the elections below see it as not acceptable
        changes = self.replication.leader_and_isr_updates(
            self.replication.partitions_where(lambda p: broker_id in p.isr), broker_to_remove=broker_id)
        committed = self.write_changes(changes, f"broker {broker_id} is shutting down cleanly (controlled shutdown)",
                                        before=[record])
        self.journal.emit(BrokerControlledShutdownStarted, broker_id=broker_id, partitions_moved=len(changes))
        return committed

    def _fence_stale_brokers(self) -> None:
        """Fence every unfenced broker whose session expired (``maybeFenceOneStaleBroker``)."""
        if self._working is None:
            return
        now = self.scheduler.now_ms
        timeout = self.config["broker.session.timeout.ms"]
        for broker_id, registration in sorted(self._working.brokers.items()):
            if not registration.fenced and now - self._last_contact.get(broker_id, now) >= timeout:
                self._fence(broker_id, f"no heartbeat for broker.session.timeout.ms={timeout}")

    def session_deadlines(self) -> tuple[SessionDeadline, ...]:
        """When the active controller fences each unfenced broker unless it hears a heartbeat (none when standing by)."""
        if self._working is None:
            return ()
        timeout = self.config["broker.session.timeout.ms"]
        now = self.scheduler.now_ms
        return tuple(SessionDeadline(f"broker-{broker_id}", timeout, self._last_contact.get(broker_id, now) + timeout)
                     for broker_id, registration in sorted(self._working.brokers.items()) if not registration.fenced)

    def _allocate_producer_ids(self, request: AllocateProducerIdsRequest) -> tuple[Any, Future[None]]:
        working = self.working
        registration = working.brokers.get(request.broker_id)
        if registration is None or registration.epoch != request.broker_epoch:
            return AllocateProducerIdsResponse(Errors.STALE_BROKER_EPOCH), Future.completed(None)
        start = working.next_producer_id
        committed = self.write([ProducerIdsRecord(request.broker_id, request.broker_epoch,
                                                   start + PRODUCER_ID_BLOCK_SIZE)])
        return AllocateProducerIdsResponse(Errors.NONE, start, PRODUCER_ID_BLOCK_SIZE), committed
