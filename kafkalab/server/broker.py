"""A broker process: start (with log recovery), register, serve requests, crash or shut down.

Each start is a new incarnation with its own timers, ZooKeeper session and in-memory
state; only the log directory carries over, exactly what survives a real process
restart. A crash cancels everything at once and writes nothing; a clean shutdown moves
leadership away through the controller, closes the session and flushes every log.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from kafkalab.broker.config_describer import describe_configs
from kafkalab.broker.config_manager import TopicConfigManager
from kafkalab.broker.context import BrokerContext
from kafkalab.broker.fetch_sessions import FetchSessionCache
from kafkalab.broker.log_tasks import LogTasks
from kafkalab.broker.producer_ids import ProducerIdManager
from kafkalab.broker.replica_manager import ReplicaManager
from kafkalab.config import BrokerConfig
from kafkalab.controller.controller import Controller
from kafkalab.controller.requests import ControllerRequests
from kafkalab.coordination import paths
from kafkalab.coordination.client import CoordinationClient
from kafkalab.coordination.protocol import WatchNotifications, ZkCode, ZkException
from kafkalab.errors import Errors
from kafkalab.events.cluster import (
    BrokerRegistered,
    BrokerRegistrationBlocked,
    BrokerStarted,
    BrokerStopped,
    LogRecovered,
)
from kafkalab.events.journal import EventJournal
from kafkalab.groups.coordinator import GroupCoordinator
from kafkalab.protocol import admin as admin_api
from kafkalab.protocol import controller_api as ctl
from kafkalab.protocol.fetch import FetchRequest, ListOffsetsRequest, OffsetsForLeaderEpochRequest
from kafkalab.protocol.groups import InitProducerIdRequest
from kafkalab.protocol.metadata import DescribeClusterRequest, MetadataRequest
from kafkalab.protocol.produce import ProduceRequest
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.network import Network, Responder
from kafkalab.sim.process import Future, Process, Sleep, spawn
from kafkalab.sim.scheduler import Scheduler, TimerGroup
from kafkalab.storage.log_manager import LogManager

#: Kafka's controlled.shutdown.max.retries and controlled.shutdown.retry.backoff.ms defaults.
CONTROLLED_SHUTDOWN_RETRIES = 3
CONTROLLED_SHUTDOWN_BACKOFF_MS = 5000


class BrokerState(Enum):
    """Kafka's broker states, as far as kafkalab models them."""

    NOT_RUNNING = "not running"
    STARTING = "starting"
    RUNNING = "running"
    PENDING_CONTROLLED_SHUTDOWN = "shutting down"


def _not_controller(request: Any) -> Any:
    """The NOT_CONTROLLER answer for a controller-only request that reached another broker."""
    result = admin_api.ApiResult(Errors.NOT_CONTROLLER, "This broker is not the controller.")
    if isinstance(request, admin_api.CreateTopicsRequest):
        return admin_api.CreateTopicsResponse({t.name: result for t in request.topics})
    if isinstance(request, admin_api.DeleteTopicsRequest):
        return admin_api.DeleteTopicsResponse({name: result for name in request.names})
    if isinstance(request, admin_api.CreatePartitionsRequest):
        return admin_api.CreatePartitionsResponse({name: result for name, _ in request.topics})
    if isinstance(request, admin_api.ElectLeadersRequest):
        return admin_api.ElectLeadersResponse({tp: result for tp in request.partitions or ()})
    if isinstance(request, ctl.AlterPartitionRequest):
        return ctl.AlterPartitionResponse(Errors.NOT_CONTROLLER)
    return ctl.ControlledShutdownResponse(Errors.NOT_CONTROLLER)


class Broker:
    """One broker of the cluster, identified by ``broker_id`` and its log directory."""

    def __init__(self, broker_id: int, log_dir: Path, scheduler: Scheduler, network: Network,
                 journal: EventJournal, config: BrokerConfig, rng: random.Random) -> None:
        self.broker_id = broker_id
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
        self.producer_ids: ProducerIdManager | None = None
        #: This incarnation's request handlers by request type, built on the first request it serves.
        self._handler_table: dict[type, Callable[[Any, Responder], None]] | None = None
        self._ready: Future[None] = Future()
        #: The host and port this broker registers for clients (Kafka's ``advertised.listeners``).
        self.advertised_listener: tuple[str, int] = ("localhost", paths.broker_port(broker_id))

    @property
    def node(self) -> str:
        """This broker's name on the network."""
        return f"broker-{self.broker_id}"

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
        group = TimerGroup(self.scheduler)
        self.ctx = BrokerContext(self.broker_id, group, self.network, self.journal, self.config)
        self.zk = CoordinationClient(self.node, group, self.network, self.config["zookeeper.session.timeout.ms"],
                                     self._on_new_session)
        self.controller = Controller(self.broker_id, group, self.zk, self.network, self.journal, self.config,
                                     self.rng)
        self.topic_configs = TopicConfigManager(self.ctx, self.zk, self._on_topic_config_changed)
        self.network.attach(self.node, self._on_request)
        self.zk.start()
        return self._ready

    def _on_new_session(self) -> None:
        assert self.ctx is not None
        if self.log_manager is None:
            spawn(self.ctx.group, self._startup())
        else:
            spawn(self.ctx.group, self._rejoin())

    def _startup(self) -> Process[None]:
        assert self.ctx is not None and self.topic_configs is not None and self.controller is not None
        assert self.zk is not None
        cluster_id = yield self.zk.get_data(paths.CLUSTER_ID)
        self.ctx.metadata.cluster_id = paths.json_value(cluster_id.data, "id")
        yield from self.topic_configs.load_all()
        first_start = not self.log_dir.exists() or not any(self.log_dir.iterdir())
        self.log_manager, reports = LogManager.open(self.log_dir, self.topic_configs.config_for,
                                                    int(self.scheduler.now_ms))
        how = "first" if first_start else "clean" if self.log_manager.had_clean_shutdown else "crash"
        for report in reports:
            if not report.clean_shutdown and (report.bytes_checked or report.bytes_truncated):
                self.journal.emit(LogRecovered, broker_id=self.broker_id, topic=report.topic,
                                  partition=report.partition, bytes_checked=report.bytes_checked,
                                  truncated_bytes=report.bytes_truncated, reason=report.truncation_reason or "intact")
        self.journal.emit(BrokerStarted, broker_id=self.broker_id, logs=len(reports), previous_stop=how)
        high_watermarks = {TopicPartition(topic, partition): offset
                           for (topic, partition), offset in self.log_manager.read_high_watermarks().items()}
        self.replicas = ReplicaManager(self.ctx, self.log_manager, high_watermarks, self.topic_configs.config_for)
        LogTasks(self.ctx, self.replicas).start()
        # Seeded from the broker's generator without drawing from it, so the controller's choices stay as they were.
        self.groups = GroupCoordinator(self.ctx, self.replicas, random.Random(hash(self.rng.getstate())))
        self.replicas.leadership_listeners.append(self.groups.on_partition_role)
        self.producer_ids = ProducerIdManager(self.ctx, self.zk)
        yield from self._register()
        self.state = BrokerState.RUNNING
        self.controller.on_new_session()
        self._ready.set_result(None)

    def _rejoin(self) -> Process[None]:
        """After our session expired: register again and compete for controller again (Kafka does both)."""
        assert self.controller is not None and self.topic_configs is not None
        yield from self._register()
        yield from self.topic_configs.watch_changes()
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
        if not self.running:
            return
        assert self.ctx is not None
        self.ctx.group.cancel_all()
        self.network.detach(self.node)
        if self.log_manager is not None:
            self.log_manager.crash()
        self._reset()
        self.journal.emit(BrokerStopped, broker_id=self.broker_id, clean=False)

    def shutdown(self) -> Future[None]:
        """Shut down cleanly: controlled shutdown, close the session, flush and checkpoint."""
        if not self.running:
            return Future.completed(None)
        assert self.ctx is not None
        if self.state == BrokerState.STARTING:
            self.crash()
            return Future.completed(None)
        return spawn(self.ctx.group, self._shutdown())

    def _shutdown(self) -> Process[None]:
        assert self.ctx is not None and self.zk is not None and self.replicas is not None
        self.state = BrokerState.PENDING_CONTROLLED_SHUTDOWN
        if self.config["controlled.shutdown.enable"]:
            yield from self._controlled_shutdown()
        try:
            yield self.zk.close()
        except ZkException:
            pass
        self.replicas.checkpoint_high_watermarks()
        assert self.log_manager is not None
        self.log_manager.shutdown()
        self.ctx.group.cancel_all()
        self.network.detach(self.node)
        self._reset()
        self.journal.emit(BrokerStopped, broker_id=self.broker_id, clean=True)

    def _controlled_shutdown(self) -> Process[None]:
        assert self.ctx is not None
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
        if self.log_manager is not None:
            self.log_manager.shutdown()
        self.ctx.group.cancel_all()
        self.network.detach(self.node)
        self._reset()

    def _reset(self) -> None:
        self.state = BrokerState.NOT_RUNNING
        self.ctx = self.zk = self.replicas = self.controller = self.topic_configs = None
        self.groups = self.producer_ids = None
        self.log_manager = None
        self._handler_table = None

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
            # Kafka opens its listeners only once the broker is registered: until then a request
            # can only be meant for a previous incarnation whose registration still lingers.
            return
        if self._handler_table is None:
            self._handler_table = self._handlers()
        handler = self._handler_table.get(type(request))
        if handler is not None:
            handler(request, respond)

    def _handlers(self) -> dict[type, Callable[[Any, Responder], None]]:
        assert self.replicas is not None and self.ctx is not None
        assert self.groups is not None and self.producer_ids is not None
        replicas = self.replicas
        metadata = self.ctx.metadata
        # Seeded from the broker's generator without drawing from it (session ids are the wire clients' business).
        fetch_sessions = FetchSessionCache(self.ctx, replicas.handle_fetch, random.Random(hash(self.rng.getstate())))
        return {
            ProduceRequest: replicas.handle_produce,
            FetchRequest: fetch_sessions.handle,
            ListOffsetsRequest: lambda r, respond: respond(replicas.handle_list_offsets(r)),
            OffsetsForLeaderEpochRequest: lambda r, respond: respond(replicas.handle_offsets_for_leader_epoch(r)),
            MetadataRequest: lambda r, respond: respond(metadata.response(r.topics)),
            DescribeClusterRequest: lambda r, respond: respond(metadata.describe_cluster()),
            admin_api.DescribeConfigsRequest: self._describe_configs,
            ctl.LeaderAndIsrRequest: self._leader_and_isr,
            ctl.UpdateMetadataRequest: self._update_metadata,
            ctl.StopReplicaRequest: lambda r, respond: respond(replicas.handle_stop_replica(r)),
            admin_api.CreateTopicsRequest: self._controller_only(ControllerRequests.create_topics),
            admin_api.DeleteTopicsRequest: self._controller_only(ControllerRequests.delete_topics),
            admin_api.CreatePartitionsRequest: self._controller_only(ControllerRequests.create_partitions),
            admin_api.ElectLeadersRequest: self._controller_only(ControllerRequests.elect_leaders),
            ctl.AlterPartitionRequest: self._controller_only(ControllerRequests.alter_partition),
            ctl.ControlledShutdownRequest: self._controller_only(ControllerRequests.controlled_shutdown),
            admin_api.IncrementalAlterConfigsRequest: self._alter_configs,
            InitProducerIdRequest: self.producer_ids.handle_init_producer_id,
            **self.groups.handlers(),
        }

    def _controller_only(self, handler: Callable[[ControllerRequests, Any], Process[Any]]) -> Callable[[Any, Responder], None]:
        def handle(request: Any, respond: Responder) -> None:
            controller = self.controller
            if controller is None or not controller.active:
                respond(_not_controller(request))
                return
            requests = ControllerRequests(controller)
            done = controller.submit(lambda: handler(requests, request))
            done.add_done_callback(lambda f: respond(f.result() if f.error is None and f.result() is not None
                                                     else _not_controller(request)))
        return handle

    def _leader_and_isr(self, request: ctl.LeaderAndIsrRequest, respond: Responder) -> None:
        assert self.ctx is not None and self.topic_configs is not None

        def process() -> Process[None]:
            assert self.topic_configs is not None and self.replicas is not None
            yield from self.topic_configs.ensure_loaded({s.topic for s in request.partition_states})
            respond(self.replicas.handle_leader_and_isr(request))

        spawn(self.ctx.group, process())

    def _update_metadata(self, request: ctl.UpdateMetadataRequest, respond: Responder) -> None:
        assert self.ctx is not None and self.replicas is not None
        if request.controller_epoch < self.ctx.metadata.controller_epoch:
            respond(ctl.UpdateMetadataResponse(Errors.STALE_CONTROLLER_EPOCH))
            return
        if 0 <= request.broker_epoch < self.ctx.broker_epoch:
            # Kafka's isBrokerEpochStale: meant for an earlier registration of this broker.
            respond(ctl.UpdateMetadataResponse(Errors.STALE_BROKER_EPOCH))
            return
        self.ctx.metadata.update(request)
        if request.update_type is ctl.ControlRequestType.FULL:
            # Every topic is in a FULL update: local logs of any other topic were deleted meanwhile.
            self.replicas.delete_stray_logs(set(self.ctx.metadata.partition_counts))
        respond(ctl.UpdateMetadataResponse(Errors.NONE))

    def _alter_configs(self, request: admin_api.IncrementalAlterConfigsRequest, respond: Responder) -> None:
        assert self.ctx is not None and self.topic_configs is not None
        topic_configs = self.topic_configs
        spawn(self.ctx.group, topic_configs.alter(request)).add_done_callback(
            lambda f: respond(admin_api.IncrementalAlterConfigsResponse(
                f.result() if f.error is None else admin_api.ApiResult(Errors.UNKNOWN_SERVER_ERROR, str(f.error)))))

    def _describe_configs(self, request: admin_api.DescribeConfigsRequest, respond: Responder) -> None:
        assert self.ctx is not None and self.topic_configs is not None
        respond(describe_configs(request, self.broker_id, self.ctx.metadata.partition_counts,
                                 self.topic_configs.overrides(request.resource_name), self.config))

    def _on_topic_config_changed(self, topic: str) -> None:
        assert self.topic_configs is not None
        if self.replicas is not None:
            self.replicas.update_topic_config(topic, self.topic_configs.config_for(topic))
        controller = self.controller
        if controller is not None and controller.active:
            overrides = self.topic_configs.overrides(topic)
            controller.submit(lambda: controller.on_topic_config_change(topic, overrides))
