"""The engine's public surface: open a cluster on a data dir, act on it, watch it.

``Cluster`` wires one scheduler, one network, N brokers and, by the cluster's mode, one
coordination service (ZooKeeper mode, Kafka 3.9) or a quorum of controllers (KRaft, Kafka 4.1).
Everything that takes time returns a ``Future``; under the virtual clock, ``wait``
runs the scheduler until the future is done. Reads go through ``snapshot()`` (frozen
views) and ``journal`` (typed events); nothing outside the engine touches its objects.
A process or timer that fails with nobody to read its error becomes a ``ProcessFailed``
event and the cluster goes on.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kafkalab.clients.admin import AdminClient
from kafkalab.clients.client_config import merge_client_configs
from kafkalab.clients.network_client import ClientNode
from kafkalab.clients.raw import RawClient
from kafkalab.cluster.datadir import KRAFT_MODE, MODES, ClusterMeta, DataDir
from kafkalab.cluster.group_views import (
    LAG_SAMPLE_INTERVAL_MS,
    LagTracker,
    coordinated_groups,
    leader_high_watermark,
)
from kafkalab.cluster.view_builder import ViewBuilder
from kafkalab.config import BrokerConfig, TopicConfig, parse_broker_configs, parse_topic_configs
from kafkalab.coordination import paths
from kafkalab.coordination.server import COORDINATOR_NODE, CoordinationServer
from kafkalab.errors import Errors, KafkaError, quoted
from kafkalab.events.cluster import LinkCut, LinkHealed, LinkLatencyChanged
from kafkalab.events.failures import ProcessFailed
from kafkalab.events.journal import EventJournal
from kafkalab.events.storage import DataDirWriteFailed
from kafkalab.protocol.admin import ApiResult, ElectionType
from kafkalab.protocol.produce import PartitionProduceResponse
from kafkalab.protocol.transactions import PartitionProducers
from kafkalab.protocol.types import TopicPartition
from kafkalab.server.broker import Broker, BrokerState
from kafkalab.sim.failures import Failure
from kafkalab.sim.network import DEFAULT_LATENCY_MS, Network
from kafkalab.sim.process import Future, Process, Sleep, spawn
from kafkalab.sim.scheduler import DEFAULT_START_MS, Scheduler, TimerGroup
from kafkalab.storage.checkpoint_writer import BackgroundCheckpointWriter, CheckpointWriter, InlineCheckpointWriter
from kafkalab.storage.files import KafkaStorageError
from kafkalab.storage.records import Record, decode_batch, encode_batch, iter_batch_headers
from kafkalab.validation import topic_name_problem, validate_partition, validate_topic_name
from kafkalab.views import ClusterView

if TYPE_CHECKING:
    from kafkalab.clients.consumer import Consumer
    from kafkalab.clients.producer import Producer
    from kafkalab.cluster.quorum import ControllerQuorum
    from kafkalab.cluster.quorum_views import MetadataEntry
    from kafkalab.raft.views import QuorumDescription

T = TypeVar("T")

MAX_BROKERS = 9
#: How often the virtual clock is saved, so a restarted app continues from where it was.
CLOCK_SAVE_INTERVAL_MS = 10_000


def _cluster_id(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode().rstrip("=")


class Cluster:
    """A running in-process Kafka-like cluster persisted in a data directory."""

    def __init__(self, data_dir: DataDir, meta: ClusterMeta, scheduler: Scheduler, latency_ms: float,
                 fresh: bool) -> None:
        self.data_dir = data_dir
        self.meta = meta
        self.scheduler = scheduler
        self.rng = random.Random(meta.seed)
        self.journal = EventJournal(scheduler)
        #: Every process or timer that failed with nobody to read its error (kept apart from the bounded journal).
        self.process_failures: list[ProcessFailed] = []
        scheduler.supervisor = self._journal_failure
        self.network = Network(scheduler, latency_ms)
        self.broker_config = BrokerConfig.from_overrides(meta.broker_config)
        self.coordinator: CoordinationServer | None = None
        self.quorum: ControllerQuorum | None = None
        if meta.mode == KRAFT_MODE:
            # KRaft's modules load only for a KRaft cluster: a ZooKeeper-mode launch (the default) draws sooner.
            from kafkalab.cluster.quorum import ControllerQuorum
            from kafkalab.raft.config import QuorumConfig

            self.quorum = ControllerQuorum(meta.controllers, data_dir, meta.cluster_id, meta.seed, scheduler,
                                           self.network, self.journal, self.broker_config, QuorumConfig.build())
        else:
            self.coordinator = CoordinationServer(scheduler, self.network, self.journal, data_dir.zookeeper_dir)
            if fresh:
                self._bootstrap_coordinator(self.coordinator)
        self.brokers: dict[int, Broker] = {
            broker_id: Broker(broker_id, data_dir.broker_dir(broker_id), scheduler, self.network, self.journal,
                              self.broker_config, random.Random(f"{meta.seed}-{broker_id}"),
                              self.quorum.settings if self.quorum is not None else None)
            for broker_id in range(1, meta.brokers + 1)}
        self._client_group = TimerGroup(scheduler, "admin")
        self.client = ClientNode("admin", self._client_group, self.network, self.live_broker_ids)
        self.admin = AdminClient(self.client)
        self.raw = RawClient(self.client)
        self._views = ViewBuilder()
        self._client_group.every(CLOCK_SAVE_INTERVAL_MS, self._save_clock)
        self._clock_save_failure: str | None = None
        #: Consumer group lag sampled over time, for GroupView.lag_history.
        self.lag = LagTracker()
        self._client_group.every(LAG_SAMPLE_INTERVAL_MS, self._sample_lag)
        #: Producers' and consumers' timer groups by network name (closing the cluster stops them).
        self._clients: dict[str, TimerGroup] = {}
        self.closed = False
        self._checkpoints: CheckpointWriter = InlineCheckpointWriter()

    # -- opening and closing ---------------------------------------------------------

    def write_checkpoints_in_background(self, hand_back: Callable[[Callable[[], None]], Any]) -> None:
        """Write the brokers' periodic checkpoints on one writer thread, as Kafka's scheduler threads do; before
        ``start``, for a cluster on the real-time driver (``hand_back`` is its ``submit``: a refusing disk is
        reported on the engine thread). On the virtual clock they stay inline and deterministic."""
        self._checkpoints = BackgroundCheckpointWriter(hand_back)
        for broker in self.brokers.values():
            broker.checkpoint_writer = self._checkpoints

    @classmethod
    def open(cls, path: Path | str, brokers: int | None = None, seed: int | None = None,
             broker_config: Mapping[str, Any] | None = None, fresh: bool = False,
             scheduler: Scheduler | None = None, latency_ms: float = DEFAULT_LATENCY_MS,
             mode: str | None = None, controllers: int | None = None) -> Cluster:
        """Open (or create) the cluster stored in ``path``; call ``start()`` next.

        A new cluster gets ``brokers`` brokers (default 3), the ``seed`` for every random
        choice (default 0), broker-wide config overrides and its ``mode``: ``zookeeper``
        (default) or ``kraft`` with ``controllers`` controllers (default 3). An existing one
        keeps its own, and a different mode asked of it is refused.
        """
        # Bad arguments fail before the directory is created or locked, so they change nothing.
        if brokers is not None:
            cls._check_broker_count(brokers)
        if mode is not None and mode not in MODES:
            raise KafkaError(Errors.INVALID_ARGUMENT, f"The mode is zookeeper or kraft, not {quoted(mode)}.")
        if controllers is not None:
            from kafkalab.cluster.quorum import ControllerQuorum

            ControllerQuorum.check_count(controllers)
            if mode != KRAFT_MODE:
                raise KafkaError(Errors.INVALID_ARGUMENT, "Only a KRaft cluster has controllers (use mode kraft).")
        parse_broker_configs(broker_config or {})
        data_dir = DataDir.open(Path(path))
        try:
            if fresh:
                data_dir.wipe()
            meta = data_dir.meta
            created = meta is None
            if meta is None:
                meta = cls._new_meta(brokers, seed, broker_config)
                if mode == KRAFT_MODE:
                    meta.mode, meta.controllers = KRAFT_MODE, 3 if controllers is None else controllers
                data_dir.write_meta(meta)
            elif brokers is not None and brokers != meta.brokers:
                raise KafkaError(Errors.INVALID_ARGUMENT,
                                 f"{data_dir.path} holds a {meta.brokers}-broker cluster; use --fresh to start "
                                 f"over with {brokers}.")
            elif mode is not None and mode != meta.mode:
                raise KafkaError(Errors.INVALID_ARGUMENT,
                                 f"{data_dir.path} holds a {meta.mode}-mode cluster; use --fresh to start over in "
                                 f"{mode} mode.")
            elif controllers is not None and controllers != meta.controllers:
                raise KafkaError(Errors.INVALID_ARGUMENT,
                                 f"{data_dir.path} holds a cluster with {meta.controllers} controllers; use --fresh "
                                 f"to start over with {controllers}.")
            cluster = cls(data_dir, meta, scheduler or Scheduler(meta.clock_ms), latency_ms, created)
            cluster._check_stored_topic_names()
            return cluster
        except BaseException:
            data_dir.close()
            raise

    def _check_stored_topic_names(self) -> None:
        """Refuse, in one sentence, a data dir holding a topic name Kafka forbids (an older kafkalab let one in).

        Such a name (``orders\\n``) cannot be written to the brokers' checkpoint files and read
        back, so no broker of this cluster could start.
        """
        if self.coordinator is None:
            return  # a KRaft controller refuses such a name, so no metadata log holds one
        topics = self.coordinator.tree.nodes.get(paths.BROKER_TOPICS)
        for name in sorted(topics.children) if topics is not None else ():
            problem = topic_name_problem(name)
            if problem is not None:
                self.coordinator.close_abruptly()  # leave the directory as it is
                raise KafkaError(Errors.DATA_DIR_INVALID,
                                 f"{self.data_dir.path} holds topic {quoted(name)}, a name Kafka does not allow "
                                 f"({problem}); an older kafkalab accepted it and its brokers cannot start. "
                                 f"Start this data dir over with --fresh, or move it aside.")

    @staticmethod
    def _check_broker_count(count: Any) -> None:
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_BROKERS:
            raise KafkaError(Errors.INVALID_ARGUMENT, f"A cluster has 1 to {MAX_BROKERS} brokers, not {count}.")

    @staticmethod
    def _new_meta(brokers: int | None, seed: int | None, broker_config: Mapping[str, Any] | None) -> ClusterMeta:
        count = 3 if brokers is None else brokers
        config = dict(broker_config or {})
        # A single-node Kafka quickstart sets this to 1; never ask for more replicas than brokers.
        config.setdefault("offsets.topic.replication.factor", min(3, count))
        parse_broker_configs(config)
        seed = 0 if seed is None else seed
        return ClusterMeta(_cluster_id(random.Random(seed)), count, seed, config, float(DEFAULT_START_MS))

    def _bootstrap_coordinator(self, coordinator: CoordinationServer) -> None:
        """What ``kafka-storage format`` / the first broker would create: Kafka's persistent znodes."""
        tree = coordinator.tree
        now = self.scheduler.now_int_ms()
        for path in paths.PERSISTENT_PATHS:
            if path not in tree.nodes:
                tree.create(path, "", 0, False, now)
        if paths.CLUSTER_ID not in tree.nodes:
            tree.create(paths.CLUSTER_ID, paths.cluster_id_data(self.meta.cluster_id), 0, False, now)

    def start(self) -> Future[None]:
        """Start every broker; the future completes when all that could start serve and a controller leads.

        A broker that cannot start (its log dir refuses the file system's help) stays down, as
        a Kafka broker process would exit; if none can, the future fails with the first error.
        """
        if self.quorum is not None:
            self.quorum.start()
        starts = [broker.start() for broker in self.brokers.values()]

        def process() -> Process[None]:
            while not self._settled():
                errors = [start.error for start in starts if start.error is not None]
                if len(errors) == len(starts):
                    raise errors[0]
                yield Sleep(1.0)

        return spawn(self._client_group, process(), name="cluster start").claim()

    def _settled(self) -> bool:
        running = [b for b in self.brokers.values() if b.running]
        if any(b.state != BrokerState.RUNNING for b in running):
            return False
        if self.quorum is not None:
            leader = self.quorum.active
            return leader is not None and all(
                b.ctx is not None and b.ctx.metadata.kraft_controller == leader.node_id for b in running)
        active = [b for b in running if b.controller is not None and b.controller.active]
        if len(active) != 1 or (active[0].controller is not None and len(active[0].controller.queue)):
            return False
        return all(b.ctx is not None and b.ctx.metadata.controller_id == active[0].broker_id for b in running)

    def close(self) -> None:
        """Stop every broker cleanly (flush, checkpoints, clean-shutdown marker) and unlock the dir."""
        if self.closed:
            return
        for broker in self.brokers.values():
            broker.stop_for_exit()
        if self.quorum is not None:
            self.quorum.stop_for_exit()
        self._checkpoints.close()  # every broker flushed its own; this stops the thread
        for group in self._clients.values():
            group.cancel_all()
        self._client_group.cancel_all()
        failures: list[KafkaStorageError] = []
        for write in (self._write_clock, *((self.coordinator.close,) if self.coordinator is not None else ())):
            try:
                write()
            except KafkaStorageError as exc:
                failures.append(exc)
        self.data_dir.close()
        self.closed = True
        if failures:
            raise failures[0]  # every step ran and the lock is released; the caller reports the first

    def _journal_failure(self, failure: Failure) -> None:
        """A process or timer stopped on an error nobody reads: say so in the journal (the engine goes on)."""
        self.process_failures.append(self.journal.emit(
            ProcessFailed, owner=failure.owner, process=failure.process, error=failure.error_name,
            message=failure.message, bug=failure.bug, where=failure.where if failure.bug else ""))

    def _sample_lag(self) -> None:
        """Sample every group's lag, describing only the partitions the groups committed."""
        brokers = [broker for _, broker in sorted(self.brokers.items())]
        groups = coordinated_groups(broker.describe() for broker in brokers).values()
        self.lag.sample(groups, lambda tp: leader_high_watermark((b.describe_replicas(tp) for b in brokers), tp),
                        self.scheduler.now_ms)

    def _write_clock(self) -> None:
        self.meta.clock_ms = self.scheduler.now_ms
        self.data_dir.write_meta(self.meta)

    def _save_clock(self) -> None:
        """Save the clock now and then; a refusing disk is narrated once and the cluster runs on."""
        try:
            self._write_clock()
        except KafkaStorageError as exc:
            if self._clock_save_failure != exc.message:
                self._clock_save_failure = exc.message
                self.journal.emit(DataDirWriteFailed, path=exc.path, operation=exc.operation, reason=exc.reason)
        else:
            self._clock_save_failure = None

    # -- time ----------------------------------------------------------------------

    def wait(self, future: Future[T], timeout_ms: float = 120_000) -> T:
        """Run virtual time until ``future`` is done and return its result (or raise its error)."""
        if not self.scheduler.run_while(lambda: not future.done, timeout_ms):
            raise KafkaError(Errors.REQUEST_TIMED_OUT, f"Nothing completed within {timeout_ms:g} ms of virtual time.")
        return future.result()

    def run_for(self, duration_ms: float) -> None:
        """Let ``duration_ms`` of virtual time pass."""
        self.scheduler.run_for(duration_ms)

    # -- topics --------------------------------------------------------------------

    def create_topic(self, name: str, partitions: int | None = None, replication_factor: int | None = None,
                     config: Mapping[str, Any] | None = None) -> Future[None]:
        """Create a topic; bad input fails at once with Kafka's error and changes nothing."""
        partitions = self.broker_config["num.partitions"] if partitions is None else partitions
        replication_factor = (self.broker_config["default.replication.factor"] if replication_factor is None
                              else replication_factor)
        validate_topic_name(name)
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
            raise KafkaError(Errors.INVALID_PARTITIONS, f"Number of partitions must be at least 1, not {partitions}.")
        if not isinstance(replication_factor, int) or isinstance(replication_factor, bool) or replication_factor < 1:
            raise KafkaError(Errors.INVALID_REPLICATION_FACTOR,
                             f"Replication factor must be at least 1, not {replication_factor}.")
        parse_topic_configs(config or {})
        return spawn(self._client_group, self.admin.create_topic(name, partitions, replication_factor, config),
                     name=f"create topic {name}").claim()

    def delete_topic(self, name: str) -> Future[None]:
        """Delete a topic and all its replicas."""
        return spawn(self._client_group, self.admin.delete_topic(name), name=f"delete topic {name}").claim()

    def alter_topic_config(self, name: str, set_values: Mapping[str, Any] | None = None,
                           delete_keys: tuple[str, ...] = ()) -> Future[None]:
        """Set or remove topic config overrides; invalid ones fail with INVALID_CONFIG."""
        parse_topic_configs(set_values or {})
        return spawn(self._client_group, self.admin.alter_topic_config(name, set_values, delete_keys),
                     name=f"alter config of topic {name}").claim()

    def elect_preferred_leaders(self, partitions: tuple[TopicPartition, ...] | None = None
                                ) -> Future[dict[TopicPartition, ApiResult]]:
        """Move leadership back to each partition's preferred replica where it is in sync."""
        return spawn(self._client_group, self.admin.elect_leaders(ElectionType.PREFERRED, partitions),
                     name="preferred leader election").claim()

    def topic_config(self, name: str) -> TopicConfig:
        """The effective config of a topic (overrides over broker defaults)."""
        view = self.snapshot().topic(name)
        if view is None:
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {quoted(name)} does not exist.")
        return TopicConfig.build(dict(view.config_overrides), self.broker_config)

    # -- brokers and faults ----------------------------------------------------------

    def broker(self, broker_id: int) -> Broker:
        """The broker with this id, or INVALID_ARGUMENT."""
        broker = self.brokers.get(broker_id) if isinstance(broker_id, int) else None
        if broker is None:
            raise KafkaError(Errors.INVALID_ARGUMENT,
                             f"There is no broker {broker_id}; brokers are 1-{len(self.brokers)}.")
        return broker

    def live_broker_ids(self) -> list[int]:
        """Brokers whose process is running."""
        return [b for b, broker in sorted(self.brokers.items()) if broker.running] or sorted(self.brokers)

    def kill_broker(self, broker_id: int) -> None:
        """Crash a broker: no flush, no controlled shutdown; the cluster notices via ZooKeeper."""
        broker = self.broker(broker_id)
        if not broker.running:
            raise KafkaError(Errors.BROKER_NOT_AVAILABLE, f"Broker {broker_id} is not running.")
        broker.crash()

    def restart_broker(self, broker_id: int) -> Future[None]:
        """Start a stopped broker: it recovers its logs, registers and catches up."""
        broker = self.broker(broker_id)
        if broker.running:
            raise KafkaError(Errors.BROKER_ALREADY_RUNNING, f"Broker {broker_id} is already running.")
        return broker.start()

    def shutdown_broker(self, broker_id: int) -> Future[None]:
        """Stop a broker cleanly: leadership moves away first, logs are flushed."""
        broker = self.broker(broker_id)
        if not broker.running:
            raise KafkaError(Errors.BROKER_NOT_AVAILABLE, f"Broker {broker_id} is not running.")
        return broker.shutdown()

    # -- KRaft controllers -----------------------------------------------------------------

    def _controller_quorum(self) -> ControllerQuorum:
        if self.quorum is None:
            raise KafkaError(Errors.INVALID_ARGUMENT, "This is a ZooKeeper-mode cluster: it has no controller quorum "
                                                      "(its controller is a broker; kill that broker instead).")
        return self.quorum

    def kill_controller(self, node_id: int) -> None:
        """Crash a KRaft controller; if it was active, the quorum elects another."""
        self._controller_quorum().kill(node_id)

    def restart_controller(self, node_id: int) -> None:
        """Start a stopped KRaft controller from its log dir: it replays the log and rejoins the quorum."""
        self._controller_quorum().restart(node_id)

    def metadata_records(self) -> tuple[MetadataEntry, ...]:
        """KRaft: the committed records still in the metadata log, oldest first (``kafka-dump-log`` of it)."""
        return self._controller_quorum().committed_records()

    def describe_quorum(self) -> QuorumDescription:
        """The quorum as its leader describes it (``kafka-metadata-quorum describe --status --replication``)."""
        return self._controller_quorum().describe()

    def node_name(self, node: int | str) -> str:
        """Network name of a broker id, of ``zk``, ``controller-N`` or a producer or consumer; INVALID_ARGUMENT otherwise."""
        if self.quorum is not None and isinstance(node, str) and node in self.quorum.names():
            return node
        if self.quorum is not None and isinstance(node, int) and node in self.quorum.nodes:
            return self.quorum.nodes[node].node  # a controller by its id: 101 is controller-101
        if self.coordinator is not None and node in ("zk", "zookeeper", COORDINATOR_NODE):
            return COORDINATOR_NODE
        if isinstance(node, str) and node in self._clients:
            return node
        if isinstance(node, str) and node.startswith("broker-") and node[7:].isdigit():
            node = int(node[7:])
        if isinstance(node, str) and node.isdigit():
            node = int(node)
        return self.broker(node).node  # type: ignore[arg-type]

    def _link(self, a: int | str, b: int | str) -> tuple[str, str]:
        first, second = self.node_name(a), self.node_name(b)
        if first == second:
            raise KafkaError(Errors.INVALID_ARGUMENT, f"A link joins two different nodes, not {first} to itself.")
        return first, second

    def cut_link(self, a: int | str, b: int | str) -> None:
        """Cut the network between two brokers (or a broker and ``zk``)."""
        first, second = self._link(a, b)
        self.network.cut(first, second)
        self.journal.emit(LinkCut, a=first, b=second)

    def heal_link(self, a: int | str, b: int | str) -> None:
        """Restore a cut link."""
        first, second = self._link(a, b)
        self.network.heal(first, second)
        self.journal.emit(LinkHealed, a=first, b=second)

    def set_latency(self, a: int | str, b: int | str, latency_ms: float) -> None:
        """Make messages on a link take ``latency_ms`` each way."""
        first, second = self._link(a, b)
        if latency_ms < 0:
            raise KafkaError(Errors.INVALID_ARGUMENT, f"Latency cannot be negative ({latency_ms} ms).")
        self.network.set_latency(first, second, latency_ms)
        self.journal.emit(LinkLatencyChanged, a=first, b=second, latency_ms=latency_ms)

    # -- producers and consumers -------------------------------------------------------

    def producer(self, config: Mapping[str, Any] | None = None, **settings: Any) -> Producer:
        """A new producer; settings use Kafka's names (``{"linger.ms": 5}`` or ``linger_ms=5``)."""
        # The clients load with the first one made, not with the engine: a cluster that only starts (the TUI's first
        # paint) needs neither them nor their protocol (issue 18).
        from kafkalab.clients.producer import Producer

        node = self._client_node(config, settings, "producer")
        return Producer(node, self.journal, random.Random(f"{self.meta.seed}-{node.node}"), config,
                        **{**settings, "client_id": node.node})

    def consumer(self, config: Mapping[str, Any] | None = None, **settings: Any) -> Consumer:
        """A new consumer; settings use Kafka's names (``{"group.id": "g"}`` or ``group_id="g"``)."""
        from kafkalab.clients.consumer import Consumer  # with the first consumer, as the producer above

        group = merge_client_configs(config, settings).get("group.id")
        node = self._client_node(config, settings, f"consumer-{group}" if group else "consumer")
        return Consumer(node, self.journal, config, **{**settings, "client_id": node.node})

    def _client_node(self, config: Mapping[str, Any] | None, settings: Mapping[str, Any], prefix: str) -> ClientNode:
        """A network node for a client: its ``client.id`` if given and free, else ``<prefix>-N`` as Kafka numbers them.

        A closed client's name is free again; its cut links and latencies go with it, as a closed connection's do.
        """
        wanted = settings.get("client_id") or (config or {}).get("client.id")
        name, n = wanted, 1
        while not name or not self._client_name_free(name):
            name = f"{wanted}-{n}" if wanted else f"{prefix}-{n}"
            n += 1
        if name in self._clients:
            self.network.forget_links(name)
        group = TimerGroup(self.scheduler, name)
        self._clients[name] = group
        return ClientNode(name, group, self.network, self.live_broker_ids)

    def client_stopped(self, name: str) -> bool | None:
        """Whether the in-process client ``name`` (a producer's or consumer's client.id) has stopped or crashed;
        None for a name none of them has (a real client on the Kafka listener)."""
        group = self._clients.get(name)
        return None if group is None else group.closed

    def _client_name_free(self, name: str) -> bool:
        if name == COORDINATOR_NODE or any(broker.node == name for broker in self.brokers.values()):
            return False
        if self.quorum is not None and name in self.quorum.names():
            return False
        group = self._clients.get(name)
        return group is None or group.closed

    # -- raw records at the broker level ---------------------------------------------

    def describe_producers(self, topic: str, partition: int) -> Future[PartitionProducers]:
        """The producers a partition's leader knows, as ``kafka-transactions.sh describe-producers`` lists them."""
        tp = self._existing_partition(topic, partition)
        return spawn(self._client_group, self.raw.describe_producers(tp), name=f"describe producers of {tp}").claim()

    def produce(self, topic: str, partition: int, records: list[tuple[bytes | None, bytes | None]],
                acks: int = -1) -> Future[PartitionProduceResponse]:
        """Write ``(key, value)`` records as one batch to a partition's leader; the result has the base offset."""
        tp = self._existing_partition(topic, partition)
        now = self.scheduler.now_int_ms()
        batch = encode_batch([(key, value, (), now) for key, value in records])
        return spawn(self._client_group, self.raw.produce(tp, batch, acks), name=f"produce to {tp}").claim()

    def fetch(self, topic: str, partition: int, offset: int, max_bytes: int = 1_048_576) -> Future[list[Record]]:
        """Committed records of a partition from ``offset`` (never past the high watermark)."""
        tp = self._existing_partition(topic, partition)

        def process() -> Process[list[Record]]:
            data = yield from self.raw.fetch(tp, offset, max_bytes)
            return [record for position, _ in iter_batch_headers(data.records)
                    for record in decode_batch(data.records, position)[1] if record.offset >= offset]

        return spawn(self._client_group, process(), name=f"fetch from {tp}").claim()

    def _existing_partition(self, topic: str, partition: int) -> TopicPartition:
        """The partition if ZooKeeper knows it; UNKNOWN_TOPIC_OR_PARTITION at once otherwise.

        A Kafka producer would wait ``max.block.ms`` for the topic to appear; failing now
        tells the learner what is wrong without a minute of retries.
        """
        count = self.partition_count(topic)
        if count is None:
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {quoted(topic)} does not exist.")
        validate_partition(topic, partition, count)
        return TopicPartition(topic, partition)

    # -- reading -------------------------------------------------------------------

    def partition_count(self, topic: str) -> int | None:
        """How many partitions ``topic`` has in ZooKeeper or the committed metadata log (before every broker's
        metadata knows it); None if none."""
        if self.quorum is not None:
            image = self.quorum.image.topics.get(topic)
            return len(image.partitions) if image is not None else None
        assert self.coordinator is not None
        return self._views.partition_count(self.coordinator.tree, topic)

    @property
    def cluster_id(self) -> str:
        return self.meta.cluster_id

    @property
    def controller_id(self) -> int:
        """The active controller's id (a broker's in ZooKeeper mode, a controller's in KRaft mode), or -1."""
        if self.quorum is not None:
            active = self.quorum.active
            return active.node_id if active is not None else -1
        for broker_id, broker in sorted(self.brokers.items()):
            if broker.controller is not None and broker.controller.active:
                return broker_id
        return -1

    def snapshot(self) -> ClusterView:
        """A frozen view of the whole cluster now."""
        return self._views.build(self)
