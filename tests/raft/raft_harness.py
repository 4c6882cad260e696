"""A quorum of RaftNodes on one scheduler and network, with recording listeners, for tests and the campaign."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafkalab.events.journal import EventJournal
from kafkalab.protocol.raft import OffsetAndEpoch
from kafkalab.raft.client import RaftNode
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.epoch_states import Role
from kafkalab.raft.listeners import CommittedBatch, LeaderAndEpoch
from kafkalab.raft.quorum_store import QUORUM_STATE_FILE
from kafkalab.raft.snapshots import SnapshotContents
from kafkalab.sim.network import Network, RequestHandler, Responder
from kafkalab.sim.scheduler import Scheduler

CLUSTER_ID = "kafkalab-raft-test"
OBSERVER_ID = 100


def voter_name(node_id: int) -> str:
    """The network name of a voter, as the issue names controllers."""
    return f"controller-{node_id}"


def node_name(node_id: int, voters: Sequence[int]) -> str:
    return voter_name(node_id) if node_id in voters else f"broker-{node_id}"


class CommitViolation(AssertionError):
    """A listener saw committed data that contradicts what another listener saw."""


@dataclass
class CommittedLog:
    """Every committed data record any listener was given, by offset: they must all agree."""

    records: dict[int, bytes] = field(default_factory=dict)

    def observe(self, node_id: int, offset: int, value: bytes) -> None:
        known = self.records.setdefault(offset, value)
        if known != value:
            raise CommitViolation(f"node {node_id} was given {value!r} committed at offset {offset}, "
                                  f"but {known!r} was committed there before")


def snapshot_record(offset: int, value: bytes) -> bytes:
    """How the test state machine stores one applied record in a snapshot: ``<offset>:<value>``."""
    return b"%d:%s" % (offset, value)


def parse_snapshot_record(record: bytes) -> tuple[int, bytes]:
    offset, _, value = record.partition(b":")
    return int(offset), value


class RecordingListener:
    """A state machine over the metadata log: the applied records by offset, checked as they arrive.

    It takes a snapshot of its state every ``snapshot_every_bytes`` of applied records, as
    a controller does after ``metadata.log.max.record.bytes.between.snapshots``.
    """

    def __init__(self, node: RaftNode, committed: CommittedLog, snapshot_every_bytes: int | None = None) -> None:
        self.node = node
        self.committed = committed
        self.snapshot_every_bytes = snapshot_every_bytes
        self.applied: list[tuple[int, bytes]] = []
        self.next_offset = 0
        self.last_epoch = 0
        self.bytes_since_snapshot = 0
        self.leaders: list[LeaderAndEpoch] = []
        self.snapshots_loaded: list[OffsetAndEpoch] = []

    def handle_commit(self, batches: Sequence[CommittedBatch]) -> None:
        for batch in batches:
            if batch.base_offset != self.next_offset:
                raise CommitViolation(f"node {self.node.node_id} was given a batch at offset {batch.base_offset}, "
                                      f"expected {self.next_offset}")
            for delta, value in enumerate(batch.records):
                self.committed.observe(self.node.node_id, batch.base_offset + delta, value)
                self.applied.append((batch.base_offset + delta, value))
                self.bytes_since_snapshot += len(value)
            self.next_offset = batch.last_offset + 1
            self.last_epoch = batch.epoch
        if self.snapshot_every_bytes is not None and self.bytes_since_snapshot >= self.snapshot_every_bytes:
            self.bytes_since_snapshot = 0
            snapshot_id = OffsetAndEpoch(self.next_offset, self.last_epoch)
            state = [snapshot_record(offset, value) for offset, value in self.applied]
            # A controller snapshots off its event thread; here: right after this callback.
            self.node.scheduler.call_soon(self._snapshot, snapshot_id, state)

    def _snapshot(self, snapshot_id: OffsetAndEpoch, state: list[bytes]) -> None:
        if self.node.running:
            self.node.create_snapshot(snapshot_id, state, int(self.node.scheduler.now_ms))

    def handle_load_snapshot(self, snapshot: SnapshotContents) -> None:
        self.applied = [parse_snapshot_record(record) for record in snapshot.records]
        for offset, value in self.applied:
            self.committed.observe(self.node.node_id, offset, value)
        self.next_offset = snapshot.snapshot_id.offset
        self.last_epoch = snapshot.snapshot_id.epoch
        self.snapshots_loaded.append(snapshot.snapshot_id)

    def handle_leader_change(self, leader: LeaderAndEpoch) -> None:
        self.leaders.append(leader)


class TappedNetwork(Network):
    """A network that lets a test see every response a node gives, before it leaves the node."""

    def __init__(self, scheduler: Scheduler) -> None:
        super().__init__(scheduler)
        self.response_checks: list[Callable[[str, Any, Any], None]] = []

    def attach(self, node: str, handler: RequestHandler) -> None:
        def tapped(source: str, request: Any, respond: Responder) -> None:
            def checked(response: Any) -> None:
                for check in self.response_checks:
                    check(node, request, response)
                respond(response)

            handler(source, request, checked)

        super().attach(node, tapped)


class Quorum:
    """``voters`` RaftNodes (and optional observers), each with its own directory, listener and seeded random."""

    def __init__(self, root: Path, voters: Sequence[int], observers: Sequence[int] = (), seed: int = 0,
                 config: QuorumConfig | None = None, snapshot_every_bytes: int | None = None,
                 max_fetch_bytes: int | None = None) -> None:
        self.root = root
        self.voter_ids = tuple(voters)
        self.observer_ids = tuple(observers)
        self.scheduler = Scheduler(start_ms=0)
        self.network = TappedNetwork(self.scheduler)
        self.journal = EventJournal(self.scheduler)
        self.config = config or QuorumConfig.build()
        self.seed = seed
        self.snapshot_every_bytes = snapshot_every_bytes
        self.max_fetch_bytes = max_fetch_bytes
        self.committed = CommittedLog()
        self.nodes: dict[int, RaftNode] = {}
        self.listeners: dict[int, RecordingListener] = {}
        self._incarnations: dict[int, int] = {}
        #: Called with each new incarnation before it starts (to register more listeners).
        self.on_start: list[Callable[[RaftNode], None]] = []

    @property
    def all_ids(self) -> tuple[int, ...]:
        return self.voter_ids + self.observer_ids

    def directory(self, node_id: int) -> Path:
        return self.root / node_name(node_id, self.voter_ids)

    def start(self, node_id: int) -> RaftNode:
        """Start (or restart from disk) replica ``node_id``."""
        incarnation = self._incarnations.get(node_id, 0) + 1
        self._incarnations[node_id] = incarnation
        extra = {} if self.max_fetch_bytes is None else {"max_fetch_bytes": self.max_fetch_bytes}
        node = RaftNode(node_id, {voter: voter_name(voter) for voter in self.voter_ids},
                        node_name=node_name(node_id, self.voter_ids), cluster_id=CLUSTER_ID,
                        log_dir=self.directory(node_id), scheduler=self.scheduler, network=self.network,
                        journal=self.journal, rng=random.Random(f"{self.seed}-{node_id}-{incarnation}"),
                        config=self.config, **extra)
        listener = RecordingListener(node, self.committed, self.snapshot_every_bytes)
        node.register(listener)
        for hook in self.on_start:
            hook(node)
        self.nodes[node_id], self.listeners[node_id] = node, listener
        node.start()
        return node

    def start_all(self) -> None:
        for node_id in self.all_ids:
            self.start(node_id)

    def running(self) -> list[RaftNode]:
        return [node for _, node in sorted(self.nodes.items()) if node.running]

    def leaders(self) -> list[RaftNode]:
        return [node for node in self.running() if node.role is Role.LEADER]

    def leader(self) -> RaftNode | None:
        """The leader of the highest epoch among running nodes, if any."""
        leaders = self.leaders()
        return max(leaders, key=lambda node: node.epoch) if leaders else None

    def run_until(self, condition: Callable[[], bool], timeout_ms: float) -> bool:
        return self.scheduler.run_while(lambda: not condition(), timeout_ms)

    def stable_leader(self) -> RaftNode | None:
        """The leader every running voter follows in its epoch, once there is one."""
        leader = self.leader()
        if leader is None:
            return None
        for node in self.running():
            if node.is_voter and node is not leader and (
                    node.role is not Role.FOLLOWER or node.leader_and_epoch != leader.leader_and_epoch):
                return None
        return leader

    def close(self) -> None:
        for node in self.running():
            node.kill()

    def stored_election(self, node_id: int) -> dict[str, Any]:
        """The replica's ``quorum-state`` file as Kafka's JSON."""
        path = self.directory(node_id) / "__cluster_metadata-0" / QUORUM_STATE_FILE
        return json.loads(path.read_text())
