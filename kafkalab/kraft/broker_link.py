"""A KRaft broker's side of the quorum: it follows the metadata log and keeps its registration (Kafka 4.1).

Three of Kafka's ``BrokerServer`` parts in one object per broker incarnation:

* the broker's Raft replica, an *observer* of ``__cluster_metadata-0`` in its log dir,
  which fetches the log from the quorum leader and replays it into a ``MetadataImage``;
* the metadata publishers (``KRaftMetadataCachePublisher``, ``BrokerMetadataPublisher``):
  each committed change is applied to the broker's metadata cache and to its replicas,
  which become leader or follower as the partition registrations say, in place of the
  LeaderAndIsr and UpdateMetadata a ZooKeeper-mode controller sends;
* the ``BrokerLifecycleManager``: register with the active controller, heartbeat every
  ``broker.heartbeat.interval.ms`` with the metadata offset applied, ask to be unfenced once
  ready, and to shut down (controlled shutdown) when stopping.

What only the controller serves (topic creation, configs, elections) is forwarded to the
active controller (KIP-590), so clients may send it to any broker.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.replica_manager import ReplicaManager
from kafkalab.config import TopicConfig
from kafkalab.errors import Errors
from kafkalab.events.kraft import BrokerRegistrationRefused
from kafkalab.metadata.image import MetadataImage, PartitionRegistration
from kafkalab.metadata.records import (
    TOPIC_RESOURCE,
    ConfigRecord,
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    RemoveTopicRecord,
    TopicRecord,
    decode_record,
)
from kafkalab.protocol import controller_api as ctl
from kafkalab.protocol.groups import InitProducerIdRequest, InitProducerIdResponse
from kafkalab.protocol.kraft import (
    AllocateProducerIdsRequest,
    AllocateProducerIdsResponse,
    BrokerHeartbeatRequest,
    BrokerHeartbeatResponse,
    BrokerRegistrationRequest,
    BrokerRegistrationResponse,
    Listener,
    not_controller_response,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.raft.client import RaftNode
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.listeners import CommittedBatch, LeaderAndEpoch
from kafkalab.raft.snapshots import SnapshotContents
from kafkalab.sim.network import Responder
from kafkalab.sim.process import Future
from kafkalab.sim.scheduler import Timer
from kafkalab.storage.log_manager import LogManager


def partition_state(tp: TopicPartition, registration: PartitionRegistration) -> ctl.PartitionState:
    """A partition registration in the shape brokers apply (controller epoch -1: KRaft has none)."""
    return ctl.PartitionState(tp.topic, tp.partition, -1, registration.leader, registration.leader_epoch,
                              registration.isr, registration.partition_epoch, registration.replicas)


@dataclass(frozen=True)
class QuorumSettings:
    """What a KRaft broker needs to join the quorum: the voters (``controller.quorum.voters``), cluster id, config."""

    voters: Mapping[int, str]
    cluster_id: str
    config: QuorumConfig


#: How long the lifecycle manager waits before trying an unanswered or refused request again.
RETRY_BACKOFF_MS = 100


class BrokerQuorumLink:
    """One broker incarnation's observer replica, metadata publishing and lifecycle with the controller."""

    def __init__(self, ctx: BrokerContext, log_dir: Path, voters: Mapping[int, str], cluster_id: str,
                 rng: random.Random, quorum_config: QuorumConfig, listener: tuple[str, int]) -> None:
        self.ctx = ctx
        self.log_dir = log_dir
        self.cluster_id = cluster_id
        self.rng = rng
        self.listener = listener
        self.image = MetadataImage()
        self.raft = RaftNode(ctx.broker_id, voters, node_name=ctx.node, cluster_id=cluster_id, log_dir=log_dir,
                             scheduler=ctx.group.scheduler, network=ctx.network, journal=ctx.journal,
                             rng=random.Random(rng.random()), config=quorum_config)
        self.incarnation_id = base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode().rstrip("=")
        self.replicas: ReplicaManager | None = None
        #: Done once registered (the broker epoch is in ``ctx.broker_epoch``).
        self.registered: Future[None] = Future()
        #: Done once the controller says this broker has applied the log up to its registration.
        self.caught_up: Future[None] = Future()
        #: Done once the controller has unfenced this broker.
        self.unfenced: Future[None] = Future()
        #: Done once the controller says this broker may stop (its controlled shutdown is complete).
        self.shutdown_allowed: Future[None] = Future()
        self.ready_to_unfence = False
        self.want_shut_down = False
        self._registration_refused = False
        self._heartbeat_timer: Timer | None = None
        self._heartbeat_in_flight = False
        self._heartbeat_again = False
        self.fenced = True
        self._configs: dict[str, TopicConfig] = {}
        self._pending = _Changes()
        self._producer_ids: tuple[int, int] = (0, -1)  # next, last of this broker's block
        self._producer_id_waiters: list[Callable[[], None]] = []
        self._allocating = False

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self.ctx.metadata.kraft = True
        self.ctx.metadata.cluster_id = self.cluster_id
        self.raft.register(self)
        self.raft.start()
        self._register()

    def stop(self, clean: bool) -> None:
        """Stop the observer replica with the broker: flushed and closed after a clean stop, abruptly in a crash."""
        if clean:
            self.raft.close()
        else:
            self.raft.kill()

    def _controller(self) -> str | None:
        return self.ctx.metadata.controller_node()

    def _send(self, request: Any, on_answer: Callable[[Any], None], retry: Callable[[], None]) -> None:
        """Send ``request`` to the active controller; ``retry`` after a backoff when there is none or it failed."""
        controller = self._controller()
        if controller is None:
            self.ctx.group.call_later(RETRY_BACKOFF_MS, retry)
            return

        def answered(response: Any, error: Errors | None) -> None:
            if error is not None or getattr(response, "error", None) == Errors.NOT_CONTROLLER:
                self.ctx.group.call_later(RETRY_BACKOFF_MS, retry)
            else:
                on_answer(response)

        # A lifecycle request unanswered when the next heartbeat is due is abandoned and sent again
        # (a broker cut off from the controller resumes as soon as the link heals).
        self.ctx.network.request(self.ctx.node, controller, request, answered,
                                 self.ctx.config["broker.heartbeat.interval.ms"])

    def _register(self) -> None:
        request = BrokerRegistrationRequest(
            self.ctx.broker_id, self.cluster_id, self.incarnation_id,
            (Listener("PLAINTEXT", *self.listener),),
            previous_broker_epoch=LogManager.clean_shutdown_broker_epoch(self.log_dir))

        def answered(response: BrokerRegistrationResponse) -> None:
            if response.error != Errors.NONE:
                # DUPLICATE_BROKER_REGISTRATION while a previous incarnation's session lasts: try again.
                if not self._registration_refused:
                    self._registration_refused = True
                    self.ctx.journal.emit(BrokerRegistrationRefused, broker_id=self.ctx.broker_id,
                                          error=response.error.name)
                self.ctx.group.call_later(self.ctx.config["broker.heartbeat.interval.ms"], self._register)
                return
            self.ctx.broker_epoch = response.broker_epoch
            self.registered.set_result(None)
            self._heartbeat()  # at once, as Kafka's lifecycle manager does after registering

        self._send(request, answered, self._register)

    def _heartbeat(self) -> None:
        """Send a heartbeat now (one at a time: a request made while one is out goes when it is answered)."""
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
            self._heartbeat_timer = None
        if self._heartbeat_in_flight:
            self._heartbeat_again = True
            return
        self._heartbeat_in_flight = True
        request = BrokerHeartbeatRequest(self.ctx.broker_id, self.ctx.broker_epoch, self.image.offset,
                                         want_fence=not self.ready_to_unfence, want_shut_down=self.want_shut_down)
        interval = self.ctx.config["broker.heartbeat.interval.ms"]

        def answered(response: BrokerHeartbeatResponse) -> None:
            self._heartbeat_in_flight = False
            if response.error in (Errors.STALE_BROKER_EPOCH, Errors.BROKER_ID_NOT_REGISTERED):
                self._next_heartbeat(interval)
                return
            if response.is_caught_up:
                self.caught_up.set_result(None)
            self.fenced = response.is_fenced
            if not response.is_fenced:
                self.unfenced.set_result(None)
            if response.should_shut_down:
                self.shutdown_allowed.set_result(None)
                return
            # While shutting down, the next heartbeat goes at once (Kafka's PENDING_CONTROLLED_SHUTDOWN).
            self._next_heartbeat(RETRY_BACKOFF_MS if self.want_shut_down else interval)

        def retry() -> None:
            self._heartbeat_in_flight = False
            self._heartbeat()

        self._send(request, answered, retry)

    def _next_heartbeat(self, delay_ms: float) -> None:
        if self._heartbeat_again:
            self._heartbeat_again = False
            delay_ms = 0
        self._heartbeat_timer = self.ctx.group.call_later(delay_ms, self._heartbeat)

    def set_ready_to_unfence(self) -> None:
        """The logs are open and the image applied: ask to be unfenced in a heartbeat sent now."""
        self.ready_to_unfence = True
        self._heartbeat()

    def begin_controlled_shutdown(self) -> Future[None]:
        """Ask the controller, in the next heartbeat, to move this broker's leaderships and let it stop."""
        self.want_shut_down = True
        self._heartbeat()
        return self.shutdown_allowed

    # -- the Raft listener: replay and publish -----------------------------------------------

    def handle_commit(self, batches: Sequence[CommittedBatch]) -> None:
        for batch in batches:
            if not batch.is_control:
                for value in batch.records:
                    record = decode_record(value)
                    self._pending.note(record, self.image)
                    self.image.replay(record)
            self.image.offset = batch.last_offset
        self._publish()

    def handle_load_snapshot(self, snapshot: SnapshotContents) -> None:
        self.image = MetadataImage()
        self.image.replay_all(decode_record(value) for value in snapshot.records)
        self.image.offset = snapshot.snapshot_id.offset - 1
        self._pending = _Changes(full=True)
        self._publish()

    def handle_leader_change(self, leader: LeaderAndEpoch) -> None:
        self.ctx.metadata.kraft_controller = leader.leader_id

    def attach(self, replicas: ReplicaManager) -> None:
        """The logs are open: apply the whole image to the replicas, then publish every change."""
        self.replicas = replicas
        self._pending = _Changes(full=True)
        self._publish()

    def config_for(self, topic: str) -> TopicConfig:
        """A topic's effective config as the metadata log says (``DynamicConfigPublisher``)."""
        config = self._configs.get(topic)
        if config is None:
            config = self._configs[topic] = TopicConfig.build(self.image.topic_config(topic), self.ctx.config)
        return config

    def overrides(self, topic: str) -> dict[str, str]:
        return self.image.topic_config(topic)

    def _publish(self) -> None:
        changes, self._pending = self._pending, _Changes()
        image = self.image
        for topic in changes.configs:
            self._configs.pop(topic, None)
        if changes.full:
            self._configs.clear()
        self._update_metadata_cache(changes)
        replicas = self.replicas
        if replicas is None:
            return  # ``attach`` applies the whole image once the logs are open
        for topic in sorted(changes.configs):
            if topic in image.topics:
                replicas.update_topic_config(topic, self.config_for(topic))
        deleted = [tp for tp in replicas.partitions if tp.topic in changes.deleted]
        if deleted:
            replicas.handle_stop_replica(ctl.StopReplicaRequest(-1, -1, -1, tuple(
                ctl.StopReplicaPartition(tp, delete=True) for tp in deleted)))
        if changes.full:
            replicas.delete_stray_logs(set(image.topics))
        states = self._local_states(changes)
        if states:
            replicas.handle_leader_and_isr(ctl.LeaderAndIsrRequest(-1, -1, -1, tuple(states), ()))

    def _local_states(self, changes: _Changes) -> list[ctl.PartitionState]:
        """The changed partitions this broker holds a replica of, as the replica manager takes them.

        A follower whose leader and leader epoch did not change is left alone, as Kafka's
        ``makeFollower`` leaves its fetcher alone; a leader takes every change (its ISR).
        """
        assert self.replicas is not None
        broker_id = self.ctx.broker_id
        image = self.image
        wanted = ([TopicPartition(name, index) for name, topic in image.topics.items() for index in topic.partitions]
                  if changes.full else sorted(changes.partitions))
        states = []
        for tp in wanted:
            registration = image.partition(tp.topic, tp.partition)
            if registration is None or broker_id not in registration.replicas:
                continue
            current = self.replicas.partitions.get(tp)
            if current is not None and registration.leader != broker_id and not changes.full and \
                    current.leader_id == registration.leader and current.leader_epoch == registration.leader_epoch:
                continue
            states.append(partition_state(tp, registration))
        return states

    def _update_metadata_cache(self, changes: _Changes) -> None:
        """``KRaftMetadataCache``: live brokers are the unfenced ones; clients are told one of them is the controller."""
        image = self.image
        live = tuple(ctl.BrokerEndpoint(b.broker_id, b.end_points[0].host, b.end_points[0].port, b.rack)
                     for b in sorted(image.brokers.values(), key=lambda r: r.broker_id)
                     if not b.fenced and b.end_points)
        if changes.full:
            partitions = [(TopicPartition(name, index), registration) for name, topic in image.topics.items()
                          for index, registration in topic.partitions.items()]
        else:
            partitions = [(tp, registration) for tp in sorted(changes.partitions)
                          if (registration := image.partition(tp.topic, tp.partition)) is not None]
        # Kafka 4 answers clients with a random live broker as "controller" (it forwards); the lowest id here.
        controller = live[0].broker_id if live else -1
        self.ctx.metadata.update(ctl.UpdateMetadataRequest(
            controller, -1, -1, tuple(partition_state(tp, registration) for tp, registration in partitions), live,
            deleted_topics=tuple(sorted(changes.deleted)),
            update_type=ctl.ControlRequestType.FULL if changes.full else ctl.ControlRequestType.INCREMENTAL,
            topic_ids=tuple((name, image.topics[name].topic_id) for name in
                            ({tp.topic for tp, _ in partitions} & set(image.topics)))))

    # -- requests only the controller serves: forwarded (KIP-590) ------------------------------

    def forward(self, request: Any, respond: Responder) -> None:
        """Send ``request`` on to the active controller and relay its answer (NOT_CONTROLLER when there is none)."""
        controller = self._controller()
        if controller is None:
            respond(not_controller_response(request))
            return
        self.ctx.network.request(self.ctx.node, controller, request,
                                 lambda response, error: respond(not_controller_response(request) if error is not None
                                                                 else response),
                                 self.ctx.config["request.timeout.ms"])

    def handle_init_producer_id(self, request: InitProducerIdRequest, respond: Responder) -> None:
        """A non-transactional producer's fresh id at epoch 0 (the transaction coordinator answers the others)."""
        if request.transactional_id is not None:
            respond(InitProducerIdResponse(Errors.INVALID_REQUEST))
            return
        self.generate().add_done_callback(lambda future: respond(InitProducerIdResponse(Errors.NONE, future.result(), 0)))

    def generate(self) -> Future[int]:
        """The next producer id of this broker's block; a new block comes from the controller (KIP-730)."""
        future: Future[int] = Future()

        def take() -> None:
            next_id, last = self._producer_ids
            if next_id <= last:
                self._producer_ids = (next_id + 1, last)
                future.set_result(next_id)
                return
            self._producer_id_waiters.append(take)
            self._allocate_producer_ids()

        take()
        return future

    def _allocate_producer_ids(self) -> None:
        if self._allocating:
            return
        self._allocating = True

        def answered(response: AllocateProducerIdsResponse) -> None:
            self._allocating = False
            waiters, self._producer_id_waiters = self._producer_id_waiters, []
            if response.error != Errors.NONE:
                self.ctx.group.call_later(RETRY_BACKOFF_MS, self._retry_producer_ids, waiters)
                return
            self._producer_ids = (response.producer_id_start, response.producer_id_start + response.producer_id_len - 1)
            for waiter in waiters:
                waiter()

        self._send(AllocateProducerIdsRequest(self.ctx.broker_id, self.ctx.broker_epoch), answered,
                   lambda: self._retry_producer_ids([]))

    def _retry_producer_ids(self, waiters: list[Callable[[], None]]) -> None:
        self._allocating = False
        self._producer_id_waiters[:0] = waiters
        if self._producer_id_waiters:
            self._allocate_producer_ids()


class _Changes:
    """What committed records changed since the last publish: partitions, deleted topics, configs, or everything."""

    def __init__(self, full: bool = False) -> None:
        self.full = full
        self.partitions: set[TopicPartition] = set()
        self.deleted: set[str] = set()
        self.configs: set[str] = set()

    def note(self, record: MetadataRecord, image: MetadataImage) -> None:
        if isinstance(record, PartitionRecord | PartitionChangeRecord):
            name = image.topic_names.get(record.topic_id)
            if name is not None:
                self.partitions.add(TopicPartition(name, record.partition_id))
        elif isinstance(record, RemoveTopicRecord):
            name = image.topic_names.get(record.topic_id)
            if name is not None:
                self.deleted.add(name)
                self.partitions = {tp for tp in self.partitions if tp.topic != name}
                self.configs.discard(name)
        elif isinstance(record, TopicRecord):
            self.deleted.discard(record.name)
        elif isinstance(record, ConfigRecord) and record.resource_type == TOPIC_RESOURCE:
            self.configs.add(record.resource_name)
