"""A broker process: start (with log recovery), register, serve requests, crash or shut down.

Each start is a new incarnation with its own timers, ZooKeeper session and in-memory
state; only the log directory carries over, exactly what survives a real process
restart. A crash cancels everything at once and writes nothing; a clean shutdown moves
leadership away through the controller, closes the session and flushes every log.

The mode is the one seam: a ZooKeeper-mode broker (Kafka 3.9) registers in ZooKeeper,
may be the controller and takes LeaderAndIsr and UpdateMetadata from it; a KRaft broker
(Kafka 4.1, given ``QuorumSettings``) follows the metadata log through its
``BrokerQuorumLink`` instead, which registers and heartbeats with the active controller
and applies the log to the same metadata cache and replica manager. Logs, replication,
groups and every client-facing request are the same in both.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafkalab.broker.auto_topics import AutoTopicCreation
from kafkalab.broker.config_describer import describe_configs
from kafkalab.broker.config_manager import TopicConfigManager
from kafkalab.broker.context import BrokerContext
from kafkalab.broker.fetch_sessions import FetchSessionCache
from kafkalab.broker.log_tasks import LogTasks
from kafkalab.broker.partition_queries import describe_producers, list_offsets, offsets_for_leader_epoch
from kafkalab.broker.producer_ids import ProducerIdManager, ProducerIdSource
from kafkalab.broker.replica_manager import ReplicaManager
from kafkalab.broker.txn_markers import TxnMarkerWriter
from kafkalab.config import BrokerConfig, TopicConfig
from kafkalab.controller.controller import Controller
from kafkalab.coordination import paths
from kafkalab.coordination.client import CoordinationClient, expired_session, session_bound
from kafkalab.coordination.protocol import WatchNotifications, ZkCode, ZkException
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import BrokerRegistered, BrokerRegistrationBlocked, BrokerStarted, BrokerStartupFailed, BrokerStopped
from kafkalab.events.journal import EventJournal
from kafkalab.events.storage import CheckpointUnreadable, LogDirFailed, LogRecovered
from kafkalab.groups.coordinator import GroupCoordinator
from kafkalab.protocol import admin as admin_api
from kafkalab.protocol import controller_api as ctl
from kafkalab.protocol.fetch import FetchRequest, ListOffsetsRequest, OffsetsForLeaderEpochRequest
from kafkalab.protocol.groups import FindCoordinatorRequest
from kafkalab.protocol.metadata import DescribeClusterRequest, MetadataRequest
from kafkalab.protocol.produce import ProduceRequest
from kafkalab.protocol.transactions import TRANSACTION_KEY_TYPE, DescribeProducersRequest, WriteTxnMarkersRequest
from kafkalab.protocol.types import TopicPartition
from kafkalab.server.zk_requests import ZkRequests
from kafkalab.sim.network import ConnectionRefused, Network, Responder
from kafkalab.sim.process import Future, Process, Sleep, Task, spawn
from kafkalab.sim.scheduler import Scheduler, TimerGroup
from kafkalab.storage.checkpoint_writer import CheckpointWriter, InlineCheckpointWriter
from kafkalab.storage.files import KafkaStorageError
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.log_manager import CLUSTER_METADATA_TOPIC, LogManager
from kafkalab.storage.results import RecoveryReport
from kafkalab.transactions.coordinator import TransactionCoordinator
from kafkalab.views import NO_REPLICAS, BrokerStatus, HostedReplica, ReplicaChanges

if TYPE_CHECKING:
    from kafkalab.kraft.broker_link import BrokerQuorumLink, QuorumSettings

#: Kafka's controlled.shutdown.max.retries and controlled.shutdown.retry.backoff.ms defaults.
CONTROLLED_SHUTDOWN_RETRIES = 3
CONTROLLED_SHUTDOWN_BACKOFF_MS = 5000


class BrokerState(Enum):
    """Kafka's broker states, as far as kafkalab models them."""

    NOT_RUNNING = "not running"
    STARTING = "starting"
    RUNNING = "running"
    PENDING_CONTROLLED_SHUTDOWN = "shutting down"


SESSION_EXPIRED_DURING_STARTUP = "its ZooKeeper session expired before it registered"


def _state_seed(rng: random.Random) -> int:
    """A seed taken from ``rng``'s state without drawing from it, the same in every run of a seed.

    Only the generator's words are hashed: its whole state ends in ``None``, which Python 3.11
    hashes by its address, so a hash of the whole state differed from one process to the next.
    """
    return hash(rng.getstate()[1])


class Broker:
    """One broker of the cluster, identified by ``broker_id`` and its log directory."""

    def __init__(self, broker_id: int, log_dir: Path, scheduler: Scheduler, network: Network,
                 journal: EventJournal, config: BrokerConfig, rng: random.Random,
                 quorum: QuorumSettings | None = None) -> None:
        self.broker_id = broker_id
        #: This broker's name on the network (an attribute: the wire gateway addresses every request to it).
        self.node = f"broker-{broker_id}"
        self.log_dir = log_dir
        self.scheduler = scheduler
        self.network = network
        self.journal = journal
        self.config = config
        self.rng = rng
        self.state = BrokerState.NOT_RUNNING
        self.ctx: BrokerContext | None = None
        self.zk: CoordinationClient | None = None
        self.log_manager: LogManager | None = None
        self.replicas: ReplicaManager | None = None
        self.controller: Controller | None = None
        self.topic_configs: TopicConfigManager | None = None
        self.groups: GroupCoordinator | None = None
        self.log_tasks: LogTasks | None = None
        self.producer_ids: ProducerIdManager | None = None
        self.transactions: TransactionCoordinator | None = None
        self.txn_markers: TxnMarkerWriter | None = None
        self.fetch_sessions: FetchSessionCache | None = None
        #: KRaft mode: the voters to follow; None in ZooKeeper mode.
        self.quorum_settings = quorum
        #: Who writes the log dir's periodic checkpoints (the cluster's writer thread on the real-time driver).
        self.checkpoint_writer: CheckpointWriter = InlineCheckpointWriter()
        #: KRaft mode: this incarnation's link to the quorum.
        self.quorum: BrokerQuorumLink | None = None
        #: This incarnation's request handlers by request type, built on the first request it serves.
        self._handler_table: dict[type, Callable[[Any, Responder], None]] | None = None
        self._ready: Future[None] = Future()
        self._startup_done: Future[None] | None = None
        #: The clean shutdown under way, which a second request to shut down waits for instead of starting another.
        self._stopping: Future[None] | None = None
        #: The host and port this broker registers for clients (Kafka's ``advertised.listeners``).
        self.advertised_listener: tuple[str, int] = ("localhost", paths.broker_port(broker_id))

    @property
    def running(self) -> bool:
        """True while the broker process is up (starting, running or shutting down)."""
        return self.state != BrokerState.NOT_RUNNING

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> Future[None]:
        """Start a new incarnation; the future completes once it is registered and serving."""
        if self.running:
            return self._ready
        self.state = BrokerState.STARTING
        self._ready = Future()
        self._startup_done = None
        group = TimerGroup(self.scheduler)
        self.ctx = BrokerContext(self.broker_id, group, self.network, self.journal, self.config)
        if self.quorum_settings is not None:
            self._start_kraft(self.quorum_settings)
            return self._ready
        self.zk = CoordinationClient(self.node, group, self.network, self.config["zookeeper.session.timeout.ms"],
                                     self._on_new_session)
        self.controller = Controller(self.broker_id, group, self.zk, self.network, self.journal, self.config,
                                     self.rng)
        self.topic_configs = TopicConfigManager(self.ctx, self.zk, self._on_topic_config_changed)
        self.network.attach(self.node, self._on_request)
        self.zk.start()
        return self._ready

    def _start_kraft(self, settings: QuorumSettings) -> None:
        """KRaft: join the quorum as an observer, register with the active controller, then open the logs."""
        assert self.ctx is not None
        # Each start is a new incarnation with an id of its own (Kafka draws a random one per process);
        # the virtual clock, saved with the data dir, keeps it new across app sessions too.
        from kafkalab.kraft.broker_link import BrokerQuorumLink  # KRaft's modules load only in KRaft mode

        incarnation = random.Random(f"{self.broker_id}-{self.scheduler.now_ms}-{_state_seed(self.rng)}")
        self.quorum = BrokerQuorumLink(self.ctx, self.log_dir, settings.voters, settings.cluster_id, incarnation,
                                       settings.config, self.advertised_listener)
        self.network.attach(self.node, self._on_request)
        try:
            self.quorum.start()
        except KafkaError as exc:
            self._fail_startup(f"its metadata log cannot be opened ({exc.message})")
            return
        startup = spawn(self.ctx.group, self._kraft_startup(), name="startup")
        startup.add_done_callback(lambda _: self._on_startup_done(startup))

    def _kraft_startup(self) -> Process[None]:
        """Kafka 4.1's ``BrokerServer.startup``: registered, caught up with the log, logs open, then unfenced."""
        assert self.ctx is not None and self.quorum is not None
        quorum = self.quorum
        yield quorum.registered
        yield quorum.caught_up
        if not self._open_logs(quorum.config_for):
            return
        self._start_transactions(quorum)
        assert self.replicas is not None
        quorum.attach(self.replicas)
        quorum.set_ready_to_unfence()
        yield quorum.unfenced
        self.state = BrokerState.RUNNING
        self._ready.set_result(None)

    def _on_new_session(self) -> None:
        assert self.ctx is not None
        if self.state != BrokerState.STARTING:
            spawn(self.ctx.group, session_bound(self._rejoin()), name="registration in a new ZooKeeper session")
        elif self._startup_done is None:
            startup = spawn(self.ctx.group, self._startup(), name="startup")
            self._startup_done = startup
            startup.add_done_callback(lambda _: self._on_startup_done(startup))
        else:
            self._fail_startup(SESSION_EXPIRED_DURING_STARTUP)

    def _on_startup_done(self, startup: Task[None]) -> None:
        """A startup that failed stops the broker, as Kafka's "Fatal error during KafkaServer startup" does.

        An expired session is told by ``BrokerStartupFailed`` alone; any other error also stays
        unclaimed, so it is journaled as ``ProcessFailed`` with its cause.
        """
        error = startup.error
        if error is None:
            return
        if expired_session(error):
            startup.claim()
            self._fail_startup(SESSION_EXPIRED_DURING_STARTUP)
        else:
            self._fail_startup(str(error))

    def _fail_startup(self, reason: str) -> None:
        """Kafka's broker exits when its startup fails ("Fatal error during KafkaServer startup"); so does ours."""
        if self.state != BrokerState.STARTING:
            return
        ready = self._ready
        self.journal.emit(BrokerStartupFailed, broker_id=self.broker_id, reason=reason)
        self.crash()
        ready.set_error(KafkaError(Errors.BROKER_NOT_AVAILABLE, f"Broker {self.broker_id} failed to start: {reason}."))

    def _startup(self) -> Process[None]:
        assert self.ctx is not None and self.topic_configs is not None and self.controller is not None
        assert self.zk is not None
        cluster_id = yield self.zk.get_data(paths.CLUSTER_ID)
        self.ctx.metadata.cluster_id = paths.json_value(cluster_id.data, "id")
        yield from self.topic_configs.load_all()
        if not self._open_logs(self.topic_configs.config_for):
            return
        self.producer_ids = ProducerIdManager(self.ctx, self.zk)
        self._start_transactions(self.producer_ids)
        yield from self._register()
        self.state = BrokerState.RUNNING
        self.controller.on_new_session()
        self._ready.set_result(None)

    def _open_logs(self, config_for: Callable[[str], TopicConfig]) -> bool:
        """Open the log dir and start the replica manager, log tasks and group coordinator (both modes)."""
        assert self.ctx is not None
        first_start = not self.log_dir.exists() or not any(
            p for p in self.log_dir.iterdir() if p.name != f"{CLUSTER_METADATA_TOPIC}-0")
        try:
            self.log_manager, reports = LogManager.open(self.log_dir, config_for, int(self.scheduler.now_ms),
                                                       writer=self.checkpoint_writer)
            high_watermarks = {TopicPartition(topic, partition): offset
                               for (topic, partition), offset in self.log_manager.read_high_watermarks().items()}
        except KafkaError as exc:
            # Kafka 3.9 shuts down when none of its log dirs can be loaded: this start fails, in one line.
            if isinstance(exc, KafkaStorageError):
                self._on_log_dir_failure(exc)
            else:
                self._halt(str(exc), exc)
            return False
        self.log_manager.failures.listener = self._on_log_dir_failure
        how = "first" if first_start else "clean" if self.log_manager.had_clean_shutdown else "crash"
        self._report_loading(reports, high_watermarks)
        self.journal.emit(BrokerStarted, broker_id=self.broker_id, logs=len(reports), previous_stop=how)
        self.replicas = ReplicaManager(self.ctx, self.log_manager, high_watermarks, config_for)
        self.log_tasks = LogTasks(self.ctx, self.replicas)
        self.log_tasks.start()
        # Seeded from the broker's generator without drawing from it, so the controller's choices stay as they were.
        self.groups = GroupCoordinator(self.ctx, self.replicas, random.Random(_state_seed(self.rng)))
        self.replicas.leadership_listeners.append(self.groups.on_partition_role)
        return True

    def _start_transactions(self, producer_ids: ProducerIdSource) -> None:
        """The transaction coordinator and marker writer (both modes; producer ids come from ZooKeeper or the quorum)."""
        assert self.ctx is not None and self.replicas is not None and self.groups is not None
        self.transactions = TransactionCoordinator(self.ctx, self.replicas, producer_ids)
        self.replicas.leadership_listeners.append(self.transactions.on_partition_role)
        self.txn_markers = TxnMarkerWriter(self.ctx, self.replicas)
        self.txn_markers.offsets_listeners.append(self.groups.on_transaction_completed)

    def _report_loading(self, reports: tuple[RecoveryReport, ...], high_watermarks: dict[TopicPartition, int]) -> None:
        """Narrate what opening the log dir repaired: recovered logs, unreadable checkpoints."""
        assert self.log_manager is not None
        for reset in self.log_manager.checkpoint_resets:
            self.journal.emit(CheckpointUnreadable, broker_id=self.broker_id, file=reset.file, problem=reset.problem,
                              fallback=reset.fallback)
        for report in reports:
            if report.notes or (not report.clean_shutdown and (report.bytes_checked or report.bytes_truncated)):
                high_watermark = high_watermarks.get(TopicPartition(report.topic, report.partition), 0)
                self.journal.emit(LogRecovered, broker_id=self.broker_id, topic=report.topic,
                                  partition=report.partition, bytes_checked=report.bytes_checked,
                                  truncated_bytes=report.bytes_truncated, reason=report.truncation_reason or "intact",
                                  notes=report.notes,
                                  committed_lost=max(0, high_watermark - report.log_end_offset))

    def _rejoin(self) -> Process[None]:
        """After our session expired: register again and compete for controller again (Kafka does both)."""
        assert self.controller is not None and self.topic_configs is not None
        yield from self._register()
        yield from self.topic_configs.watch_changes()
        if self.state == BrokerState.STARTING:
            # The session of our startup expired while it registered, after the logs were open.
            self.state = BrokerState.RUNNING
            self._ready.set_result(None)
        self.controller.on_new_session()

    def _register(self) -> Process[None]:
        assert self.ctx is not None and self.zk is not None
        path = paths.broker_path(self.broker_id)
        blocked = False
        while True:
            try:
                registration = paths.broker_registration(self.broker_id, self.scheduler.now_int_ms(),
                                                         *self.advertised_listener)
                created = yield self.zk.create(path, registration, ephemeral=True)
            except ZkException as exc:
                if exc.code != ZkCode.NODE_EXISTS:
                    raise
                if not blocked:
                    self.journal.emit(BrokerRegistrationBlocked, broker_id=self.broker_id)
                    blocked = True
                yield Sleep(1000)
                continue
            self.ctx.broker_epoch = created.stat.czxid
            self.journal.emit(BrokerRegistered, broker_id=self.broker_id, broker_epoch=created.stat.czxid)
            return

    def crash(self) -> None:
        """Kill the process: no flush, no checkpoint, no goodbye. Its ZooKeeper session lingers."""
        self._halt("")

    def _halt(self, reason: str, error: KafkaError | None = None) -> None:
        """Stop at once as a crash does; ``reason`` says why the broker stopped itself, if it did.

        A start that had not finished fails with ``error`` (the restart's caller sees it in one line).
        """
        if not self.running:
            return
        assert self.ctx is not None
        self._ready.set_error(error or KafkaError(Errors.BROKER_NOT_AVAILABLE,
                                                  f"Broker {self.broker_id} stopped before it was ready."))
        if self._stopping is not None:  # its process is about to be cancelled: its caller hears why
            self._stopping.set_error(KafkaError(Errors.BROKER_NOT_AVAILABLE, f"Broker {self.broker_id} stopped "
                                                                             f"before its clean shutdown finished."))
        self.ctx.group.cancel_all()
        if self.quorum is not None:
            self.quorum.stop(clean=False)
        self.network.detach(self.node)
        if self.log_manager is not None:
            self.log_manager.crash()
        self._reset()
        self.journal.emit(BrokerStopped, broker_id=self.broker_id, clean=False, reason=reason,
                          kraft=self.quorum_settings is not None)

    def _on_log_dir_failure(self, error: KafkaStorageError) -> None:
        """Kafka's LogDirFailureHandler: the only log dir is offline, so the broker halts (Kafka 3.9 ``Exit.halt``).

        The halt comes right after the operation that failed has answered with KAFKA_STORAGE_ERROR.
        """
        self.journal.emit(LogDirFailed, broker_id=self.broker_id, log_dir=str(self.log_dir), path=error.path,
                          operation=error.operation, reason=error.reason)
        incarnation = self.ctx
        self.scheduler.call_soon(lambda: self._halt("its log dir failed", error) if self.ctx is incarnation else None)

    def shutdown(self) -> Future[None]:
        """Shut down cleanly: controlled shutdown, close the session, flush and checkpoint."""
        if not self.running:
            return Future.completed(None)
        assert self.ctx is not None
        if self.state == BrokerState.STARTING:
            self.crash()
            return Future.completed(None)
        if self.state == BrokerState.PENDING_CONTROLLED_SHUTDOWN and self._stopping is not None:
            # A second shutdown would end this one's process (cancel_all) and leave its caller waiting forever.
            return self._stopping
        self._stopping = spawn(self.ctx.group, self._shutdown(), name="controlled shutdown").claim()
        return self._stopping

    def _shutdown(self) -> Process[None]:
        assert self.ctx is not None and self.replicas is not None
        self.state = BrokerState.PENDING_CONTROLLED_SHUTDOWN
        if self.config["controlled.shutdown.enable"]:
            yield from self._controlled_shutdown()
        if self.zk is not None:
            try:
                yield self.zk.close()
            except ZkException:
                pass
        self.replicas.checkpoint_high_watermarks()
        self.replicas.take_producer_snapshots()
        assert self.log_manager is not None
        # A KafkaStorageError here fails the shutdown, and the broker halts instead.
        self.log_manager.shutdown(self.ctx.broker_epoch if self.quorum is not None else None)
        if self.quorum is not None:
            self.quorum.stop(clean=True)
        self.ctx.group.cancel_all()
        self.network.detach(self.node)
        self._reset()
        self.journal.emit(BrokerStopped, broker_id=self.broker_id, clean=True, kraft=self.quorum_settings is not None)

    def _controlled_shutdown(self) -> Process[None]:
        assert self.ctx is not None
        if self.quorum is not None:
            # KRaft: heartbeats ask for it; the controller moves leadership, then says the broker may stop.
            allowed = self.quorum.begin_controlled_shutdown()
            waited = 0
            while not allowed.done and waited < CONTROLLED_SHUTDOWN_RETRIES * CONTROLLED_SHUTDOWN_BACKOFF_MS:
                yield Sleep(100)
                waited += 100
            return
        for _ in range(CONTROLLED_SHUTDOWN_RETRIES):
            controller = self.ctx.metadata.controller_id
            if controller >= 0:
                response = yield self.request(f"broker-{controller}",
                                              ctl.ControlledShutdownRequest(self.broker_id, self.ctx.broker_epoch))
                if isinstance(response, ctl.ControlledShutdownResponse) and response.error == Errors.NONE \
                        and not response.remaining_partitions:
                    return
            yield Sleep(CONTROLLED_SHUTDOWN_BACKOFF_MS)

    def stop_for_exit(self) -> None:
        """Flush and close for an app exit: clean on disk, without moving leadership around."""
        if not self.running:
            return
        assert self.ctx is not None
        if self.replicas is not None:
            self.replicas.checkpoint_high_watermarks()
            self.replicas.take_producer_snapshots()
        if self.log_manager is not None:
            try:
                self.log_manager.shutdown(self.ctx.broker_epoch if self.quorum is not None else None)
            except KafkaStorageError:
                self.log_manager.crash()  # already narrated; the log dir is left as a crash leaves it
        if self.quorum is not None:
            self.quorum.stop(clean=True)
        self.ctx.group.cancel_all()
        self.network.detach(self.node)
        self._reset()

    def _reset(self) -> None:
        self.state = BrokerState.NOT_RUNNING
        self.ctx = self.zk = self.replicas = self.controller = self.topic_configs = None
        self.groups = self.producer_ids = self.log_tasks = self.quorum = None
        self.transactions = self.txn_markers = self.fetch_sessions = None
        self.log_manager = None
        self._handler_table = None
        self._stopping = None

    def request(self, destination: str, request: Any) -> Future[Any]:
        """Send ``request``; the future holds the response or the transport error."""
        assert self.ctx is not None
        future: Future[Any] = Future()
        self.network.request(self.node, destination, request,
                             lambda response, error: future.set_result(error or response),
                             self.config["request.timeout.ms"])
        return future

    # -- requests ------------------------------------------------------------------

    def _on_request(self, source: str, request: Any, respond: Responder) -> None:
        if isinstance(request, WatchNotifications):
            if self.zk is not None:
                self.zk.handle_notifications(request, respond)
            return
        if self.replicas is None or self.ctx is None or self.ctx.broker_epoch < 0:
            # Kafka 3.9 opens a broker's listeners only once it is registered (KafkaServer.startup calls
            # socketServer.enableRequestProcessing after zkClient.registerBroker; the Acceptor opens a fixed
            # port only then): a connection before that is refused, and the sender tries again. The
            # controller's RequestSendThread does after 100 ms, so a broker whose registration the controller
            # saw first still gets its UpdateMetadata and LeaderAndIsr.
            raise ConnectionRefused(self.node)
        if self._handler_table is None:
            self._handler_table = self._handlers()
        handler = self._handler_table.get(type(request))
        if handler is not None:
            handler(request, respond)

    def _handlers(self) -> dict[type, Callable[[Any, Responder], None]]:
        assert self.replicas is not None and self.ctx is not None and self.groups is not None
        return {**self._client_handlers(), **(self._kraft_handlers() if self.quorum is not None else ZkRequests(self).handlers())}

    def _client_handlers(self) -> dict[type, Callable[[Any, Responder], None]]:
        """What every broker serves clients, in both modes."""
        assert self.replicas is not None and self.ctx is not None
        assert self.groups is not None and self.transactions is not None and self.txn_markers is not None
        replicas = self.replicas
        groups, transactions = self.groups, self.transactions
        metadata = self.ctx.metadata
        # Seeded from the broker's generator without drawing from it (session ids are the wire clients' business).
        fetch_sessions = self.fetch_sessions = FetchSessionCache(
            self.ctx, replicas.handle_fetch, random.Random(_state_seed(self.rng)), replicas.follower_sessions)
        return {
            ProduceRequest: replicas.handle_produce,
            FetchRequest: fetch_sessions.handle,
            ListOffsetsRequest: lambda r, respond: respond(list_offsets(replicas, r)),
            DescribeProducersRequest: lambda r, respond: respond(describe_producers(replicas, r)),
            OffsetsForLeaderEpochRequest: lambda r, respond: respond(offsets_for_leader_epoch(replicas, r)),
            MetadataRequest: AutoTopicCreation(self.ctx).handle_metadata,
            DescribeClusterRequest: lambda r, respond: respond(metadata.describe_cluster()),
            admin_api.DescribeConfigsRequest: self._describe_configs,
            **self.groups.handlers(),
            **self.transactions.handlers(),
            # FindCoordinator's key type says which coordinator is looked for (KIP-98).
            FindCoordinatorRequest: lambda r, respond: (transactions.find_coordinator if r.key_type == TRANSACTION_KEY_TYPE
                                                        else groups.find_coordinator)(r, respond),
            WriteTxnMarkersRequest: self.txn_markers.handle,
        }

    def _kraft_handlers(self) -> dict[type, Callable[[Any, Responder], None]]:
        """KRaft: what only the controller serves is forwarded to the active one (KIP-590)."""
        assert self.quorum is not None
        forward = self.quorum.forward
        return {admin_api.CreateTopicsRequest: forward, admin_api.DeleteTopicsRequest: forward,
                admin_api.CreatePartitionsRequest: forward, admin_api.ElectLeadersRequest: forward,
                admin_api.IncrementalAlterConfigsRequest: forward}

    def _describe_configs(self, request: admin_api.DescribeConfigsRequest, respond: Responder) -> None:
        assert self.ctx is not None
        source = self.quorum if self.quorum is not None else self.topic_configs
        assert source is not None
        respond(describe_configs(request, self.broker_id, self.ctx.metadata.partition_counts,
                                 source.overrides(request.resource_name), self.config))

    def _on_topic_config_changed(self, topic: str) -> None:
        assert self.topic_configs is not None
        if self.replicas is not None:
            self.replicas.update_topic_config(topic, self.topic_configs.config_for(topic))
        controller = self.controller
        if controller is not None and controller.active:
            overrides = self.topic_configs.overrides(topic)
            controller.submit(lambda: controller.on_topic_config_change(topic, overrides), "TopicConfigChange")

    # -- views ---------------------------------------------------------------------

    def describe(self) -> BrokerStatus:
        """This broker as it sees itself now: its state, whether it controls, the groups it coordinates."""
        return BrokerStatus(self.broker_id, self.node, self.state.value, self.running,
                            self.controller is not None and self.controller.active,
                            self.replicas.records_in if self.replicas is not None else 0,
                            self.groups.describe() if self.groups is not None else (),
                            self.log_tasks.next_retention_check_ms if self.log_tasks is not None else None,
                            self.transactions.describe() if self.transactions is not None else ())

    def describe_replicas(self, only: TopicPartition | None = None) -> dict[TopicPartition, HostedReplica]:
        """This broker's replicas (or just ``only``'s) while it runs: role, ISR, offsets and size."""
        return self.replicas.describe(only) if self.replicas is not None else {}

    def describe_changes(self, since: tuple[int, int] | None) -> ReplicaChanges:
        """Every replica's description while it runs, naming those that changed after ``since`` (a stamp
        this broker gave): what a snapshot rebuilds (``ReplicaManager.describe_changes``)."""
        if self.replicas is not None:
            return self.replicas.describe_changes(since)
        # Stopped: nothing hosted; what it hosted before (another stamp) all went.
        return NO_REPLICAS if since == NO_REPLICAS.stamp else NO_REPLICAS._replace(changed=None)

    def stale_descriptions(self) -> list[TopicPartition]:
        """Replicas whose kept description no longer matches their state (a bug; see ``ReplicaManager.describe``)."""
        return self.replicas.stale_descriptions() if self.replicas is not None else []

    def overlooked_session_partitions(self) -> list[tuple[int, TopicPartition]]:
        """Follower sessions' partitions left alone that a read would answer (a bug; see ``fetch_sessions.py``)."""
        if self.fetch_sessions is None or self.replicas is None or self.ctx is None:
            return []
        return self.fetch_sessions.overlooked(self.replicas.partitions, self.ctx.broker_id)

    def replica_log(self, tp: TopicPartition) -> PartitionLog | None:
        """The log of this broker's replica of ``tp`` while it runs, to read (never to write)."""
        return self.replicas.replica_log(tp) if self.replicas is not None else None
