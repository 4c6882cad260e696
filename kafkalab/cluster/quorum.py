"""KRaft mode's controllers as the cluster holds them: start, kill, restart, and ``describe_quorum``.

The controllers are nodes of their own (``process.roles=controller``), ids 101, 102 ...
apart from the brokers' (Kafka requires every ``node.id`` to be unique), each with its log
dir ``controller-<id>/`` in the data dir and reachable as ``controller-<id>``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from kafkalab.cluster.datadir import DataDir
from kafkalab.cluster.quorum_views import UNREADABLE, MetadataEntry, QuorumStatus, RegistrationStatus
from kafkalab.config import BrokerConfig
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.journal import EventJournal
from kafkalab.kraft.broker_link import QuorumSettings
from kafkalab.kraft.controller_node import ControllerNode, controller_node_name
from kafkalab.metadata.image import MetadataImage
from kafkalab.metadata.json_format import record_json, record_type_name
from kafkalab.metadata.records import decode_record
from kafkalab.raft.client import RaftNode
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.listeners import decode_committed
from kafkalab.raft.views import QuorumDescription
from kafkalab.sim.network import Network
from kafkalab.sim.scheduler import Scheduler
from kafkalab.storage.control_records import control_message_json, control_type, control_type_name

#: The first controller's node id; the others follow.
FIRST_CONTROLLER_ID = 101
MAX_CONTROLLERS = 5
#: How many of the newest committed metadata records the quorum status carries (the quorum screen's lane).
STATUS_RECORDS = 120
def _metadata_entry(offset: int, epoch: int, value: bytes) -> MetadataEntry:
    """A metadata record as the quorum screen lists it; one that does not decode says why."""
    try:
        record = decode_record(value)
    except KafkaError as exc:
        return MetadataEntry(offset, epoch, UNREADABLE, False, exc.message)
    return MetadataEntry(offset, epoch, record_type_name(record), False, record_json(record))


class ControllerQuorum:
    """The cluster's controller nodes and what the engine asks of them."""

    def __init__(self, count: int, data_dir: DataDir, cluster_id: str, seed: int, scheduler: Scheduler,
                 network: Network, journal: EventJournal, broker_config: BrokerConfig,
                 quorum_config: QuorumConfig) -> None:
        ids = range(FIRST_CONTROLLER_ID, FIRST_CONTROLLER_ID + count)
        voters = {node_id: controller_node_name(node_id) for node_id in ids}
        self.settings = QuorumSettings(voters, cluster_id, quorum_config)
        self.nodes: dict[int, ControllerNode] = {
            node_id: ControllerNode(node_id, voters, data_dir.controller_dir(node_id), cluster_id=cluster_id,
                                    scheduler=scheduler, network=network, journal=journal,
                                    rng=random.Random(f"{seed}-controller-{node_id}"), broker_config=broker_config,
                                    quorum_config=quorum_config)
            for node_id in ids}
        self._last_image: MetadataImage | None = None
        #: Committed records decoded so far, by offset, in offset order (one contiguous run).
        self._decoded: dict[int, MetadataEntry] = {}

    @staticmethod
    def check_count(count: Any) -> None:
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_CONTROLLERS:
            raise KafkaError(Errors.INVALID_ARGUMENT, f"A KRaft quorum has 1 to {MAX_CONTROLLERS} controllers, "
                                                      f"not {count}.")

    def start(self) -> None:
        for node in self.nodes.values():
            if not node.running:
                node.start()

    def stop_for_exit(self) -> None:
        for node in self.nodes.values():
            node.stop_for_exit()

    def node(self, node_id: Any) -> ControllerNode:
        """The controller with this id, or INVALID_ARGUMENT naming the ids there are."""
        node = self.nodes.get(node_id) if isinstance(node_id, int) else None
        if node is None:
            raise KafkaError(Errors.INVALID_ARGUMENT,
                             f"There is no controller {node_id}; controllers are {', '.join(map(str, self.nodes))}.")
        return node

    def kill(self, node_id: int) -> None:
        node = self.node(node_id)
        if not node.running:
            raise KafkaError(Errors.BROKER_NOT_AVAILABLE, f"Controller {node_id} is not running.")
        node.kill()

    def restart(self, node_id: int) -> None:
        node = self.node(node_id)
        if node.running:
            raise KafkaError(Errors.BROKER_ALREADY_RUNNING, f"Controller {node_id} is already running.")
        node.start()

    @property
    def active(self) -> ControllerNode | None:
        return next((node for node in self.nodes.values() if node.active), None)

    @property
    def image(self) -> MetadataImage:
        """The committed metadata as far as any controller has applied it.

        A controller that restarts replays its log only once it learns the high watermark,
        so while none leads, the newest image any controller built (a stopped one's too,
        or one seen earlier) stands for what is committed.
        """
        best = max((node.image for node in self.nodes.values()), key=lambda image: image.offset)
        if self._last_image is None or best.offset >= self._last_image.offset:
            self._last_image = best
        return self._last_image

    def describe(self) -> QuorumDescription:
        """``kafka-metadata-quorum describe --status --replication``, as the quorum leader answers it."""
        for node in self.nodes.values():
            view = node.raft.describe() if node.running and node.raft is not None else None
            if view is not None and view.description is not None:
                return view.description
        raise KafkaError(Errors.NOT_CONTROLLER, "The quorum has no leader now, so nobody can describe it.")

    def status(self) -> QuorumStatus:
        """Every controller's replica, every registration, and the newest committed records of the metadata log."""
        active = self.active
        sessions = {int(s.client.removeprefix("broker-")): s
                    for s in (active.session_deadlines() if active is not None else ())}
        registrations = []
        for broker in sorted(self.image.brokers.values(), key=lambda r: r.broker_id):
            session = sessions.get(broker.broker_id)
            registrations.append(RegistrationStatus(
                broker.broker_id, broker.epoch, broker.fenced, broker.in_controlled_shutdown,
                session.expires_ms if session is not None else None,
                session.expires_ms - session.timeout_ms if session is not None else None))
        return QuorumStatus(tuple(node.describe() for node in self.nodes.values()), tuple(registrations),
                            self.committed_records(STATUS_RECORDS))

    def committed_records(self, newest: int | None = None) -> tuple[MetadataEntry, ...]:
        """The committed records of the metadata log still in it (the ``newest`` ones only, when given), as the
        active controller holds them, or while none is active the running controller that has committed most."""
        readers = [node.raft for node in self.nodes.values() if node.running and node.raft is not None
                   and node.raft.running and node.raft.high_watermark is not None]
        active = self.active
        raft = active.raft if active is not None and active.raft in readers else max(
            readers, key=lambda r: r.high_watermark or 0, default=None)
        high_watermark = raft.high_watermark if raft is not None else None
        if raft is None or high_watermark is None:
            return ()
        start = raft.log.start_offset if newest is None else max(raft.log.start_offset, high_watermark - newest)
        # Committed records never change and are the same on every replica (Raft's log matching), so each is
        # decoded once: the quorum screen asks for the newest ones with every frame.
        cached = self._decoded
        if not cached or start < next(iter(cached)) or start > next(reversed(cached)) + 1:
            cached = self._decoded = self._decode(raft, start)
        elif next(reversed(cached)) + 1 < high_watermark:
            cached.update(self._decode(raft, next(reversed(cached)) + 1))
        while next(iter(cached), start) < raft.log.start_offset:
            del cached[next(iter(cached))]  # cleaned from the log (behind a snapshot)
        return tuple(cached[offset] for offset in range(start, high_watermark) if offset in cached)

    @staticmethod
    def _decode(raft: RaftNode, start: int) -> dict[int, MetadataEntry]:
        """The committed records from ``start`` on, by offset."""
        entries: dict[int, MetadataEntry] = {}
        for batch in decode_committed(raft.log.read(start, 1 << 30, committed_only=True)):
            if batch.is_control:
                for i, message in enumerate(batch.control_records):
                    entries[batch.base_offset + i] = MetadataEntry(
                        batch.base_offset + i, batch.epoch, control_type_name(control_type(message)), True,
                        control_message_json(message))
            else:
                for i, value in enumerate(batch.records):
                    entries[batch.base_offset + i] = _metadata_entry(batch.base_offset + i, batch.epoch, value)
        return {offset: entry for offset, entry in entries.items() if offset >= start}

    def names(self) -> Mapping[str, int]:
        return {node.node: node_id for node_id, node in self.nodes.items()}
