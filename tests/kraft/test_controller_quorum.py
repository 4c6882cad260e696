"""Controllers as their own nodes: activation, failover, broker registration, heartbeats and fencing."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from kafkalab.config import BrokerConfig
from kafkalab.errors import Errors
from kafkalab.events.journal import EventJournal
from kafkalab.events.kraft import BrokerFenced, ControllerActivated
from kafkalab.events.raft import MetadataSnapshotLoaded, MetadataSnapshotTaken
from kafkalab.kraft.controller_node import ControllerNode
from kafkalab.metadata.records import FeatureLevelRecord, decode_record
from kafkalab.protocol.admin import (
    AlterConfigOp,
    CreatableTopic,
    CreateTopicsRequest,
    IncrementalAlterConfigsRequest,
)
from kafkalab.protocol.kraft import BrokerHeartbeatRequest, BrokerRegistrationRequest, Listener
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.listeners import decode_committed
from kafkalab.sim.network import Network
from kafkalab.sim.scheduler import Scheduler

CLUSTER_ID = "kraft-test"
SESSION_MS = 9000


class Controllers:
    """Three controllers on one scheduler, and a stand-in for brokers that sends them requests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scheduler = Scheduler(start_ms=0)
        self.network = Network(self.scheduler)
        self.journal = EventJournal(self.scheduler)
        self.voters = {i: f"controller-{i}" for i in (1, 2, 3)}
        self.nodes = {i: self._node(i) for i in self.voters}
        self.network.attach("brokers", lambda *_: None)
        self.epochs: dict[int, int] = {}

    def _node(self, node_id: int) -> ControllerNode:
        return ControllerNode(node_id, self.voters, self.root / f"controller-{node_id}", cluster_id=CLUSTER_ID,
                              scheduler=self.scheduler, network=self.network, journal=self.journal,
                              rng=random.Random(node_id), broker_config=BrokerConfig.from_overrides({}),
                              quorum_config=QuorumConfig.build())

    def start(self) -> ControllerNode:
        for node in self.nodes.values():
            node.start()
        return self.wait_active()

    def wait_active(self) -> ControllerNode:
        assert self.scheduler.run_while(lambda: not any(n.active for n in self.nodes.values()), 10_000)
        return self.active

    @property
    def active(self) -> ControllerNode:
        (active,) = [n for n in self.nodes.values() if n.active]
        return active

    def send(self, request: Any) -> Any:
        answers: list[Any] = []
        self.network.request("brokers", self.active.node, request, lambda r, e: answers.append(e or r), 5000)
        assert self.scheduler.run_while(lambda: not answers, 5000)
        return answers[0]

    def register(self, broker_id: int) -> int:
        incarnation = f"AAAAAAAAAAAAAAAAAAAA{broker_id:02d}"[:22]
        answer = self.send(BrokerRegistrationRequest(broker_id, CLUSTER_ID, incarnation,
                                                     (Listener("PLAINTEXT", "localhost", 9092 + broker_id),)))
        assert answer.error == Errors.NONE
        self.epochs[broker_id] = answer.broker_epoch
        return int(answer.broker_epoch)

    def heartbeat(self, broker_id: int, offset: int = 1 << 40, shut_down: bool = False) -> Any:
        return self.send(BrokerHeartbeatRequest(broker_id, self.epochs[broker_id], offset, False, shut_down))


def test_the_first_active_controller_bootstraps_kafka_41s_features(tmp_path: Path) -> None:
    controllers = Controllers(tmp_path)
    active = controllers.start()
    assert controllers.scheduler.run_while(lambda: active.image.offset < 4, 5000)
    log = active.raft.log if active.raft is not None else None
    assert log is not None
    batches = decode_committed(log.read(0, 1 << 20, committed_only=True))
    first = [decode_record(value) for batch in batches if not batch.is_control for value in batch.records]
    assert first[0] == FeatureLevelRecord("metadata.version", 27)
    assert active.image.features["eligible.leader.replicas.version"] == 1


def test_a_broker_is_fenced_until_it_has_caught_up_with_its_registration(tmp_path: Path) -> None:
    controllers = Controllers(tmp_path)
    controllers.start()
    epoch = controllers.register(1)
    assert controllers.heartbeat(1, offset=epoch - 1).is_fenced
    assert not controllers.heartbeat(1, offset=epoch).is_fenced


def test_killing_the_active_controller_elects_another_in_a_newer_epoch_with_every_committed_record(
        tmp_path: Path) -> None:
    controllers = Controllers(tmp_path)
    first = controllers.start()
    controllers.register(1)
    controllers.heartbeat(1)
    created = controllers.send(CreateTopicsRequest((CreatableTopic("orders", 3, 1),)))
    assert created.results["orders"].error == Errors.NONE
    epoch = first.raft.epoch if first.raft is not None else -1
    first.kill()
    second = controllers.wait_active()
    assert second is not first
    # Both followers miss the leader's fetches at the same instant here, so their first ballot may split
    # (each a candidate of epoch + 1): the next, after a randomized backoff, elects one.
    assert second.raft is not None and second.raft.epoch in (epoch + 1, epoch + 2)
    assert len(second.image.topics["orders"].partitions) == 3
    activations = [e for e in controllers.journal.since(0) if isinstance(e, ControllerActivated)]
    assert [e.node_id for e in activations] == [first.node_id, second.node_id]


def test_a_broker_without_heartbeats_is_fenced_and_loses_its_leaderships(tmp_path: Path) -> None:
    controllers = Controllers(tmp_path)
    active = controllers.start()
    for broker in (1, 2):
        controllers.register(broker)
        controllers.heartbeat(broker)
    assert controllers.send(CreateTopicsRequest((CreatableTopic("orders", 4, 2),))).results["orders"].error == Errors.NONE
    before = dict(active.image.topics["orders"].partitions)
    assert {p.leader for p in before.values()} == {1, 2}
    # Broker 2 goes quiet; broker 1 keeps heartbeating.
    for _ in range(6):
        controllers.scheduler.run_for(2000)
        controllers.heartbeat(1)
    fenced = [e for e in controllers.journal.since(0) if isinstance(e, BrokerFenced)]
    assert [e.broker_id for e in fenced] == [2]
    assert controllers.scheduler.now_ms - fenced[0].time_ms < 9000
    for index, after in active.image.topics["orders"].partitions.items():
        old = before[index]
        assert (after.leader, after.isr) == (1, (1,))
        # Only a partition whose leader changed gets a new leader epoch (Kafka 4.1).
        assert after.leader_epoch == old.leader_epoch + (old.leader == 2)
        assert after.partition_epoch == old.partition_epoch + 1


def test_a_controlled_shutdown_moves_leadership_before_the_broker_stops(tmp_path: Path) -> None:
    controllers = Controllers(tmp_path)
    active = controllers.start()
    for broker in (1, 2):
        controllers.register(broker)
        controllers.heartbeat(broker)
    controllers.send(CreateTopicsRequest((CreatableTopic("orders", 4, 2),)))
    answer = controllers.heartbeat(2, shut_down=True)
    assert answer.should_shut_down and answer.is_fenced
    assert all(p.leader == 1 for p in active.image.topics["orders"].partitions.values())


def test_all_controllers_restarted_from_disk_keep_topics_and_configs(tmp_path: Path) -> None:
    controllers = Controllers(tmp_path)
    controllers.start()
    controllers.register(1)
    controllers.heartbeat(1)
    controllers.send(CreateTopicsRequest((CreatableTopic("orders", 2, 1, {"retention.ms": "60000"}),)))
    controllers.send(IncrementalAlterConfigsRequest("orders", (("cleanup.policy", AlterConfigOp.SET, "compact"),)))
    for node in controllers.nodes.values():
        node.stop_for_exit()
    controllers.nodes = {i: controllers._node(i) for i in controllers.voters}
    active = controllers.start()
    assert len(active.image.topics["orders"].partitions) == 2
    assert active.image.topic_config("orders") == {"retention.ms": "60000", "cleanup.policy": "compact"}


def test_a_controller_snapshots_its_image_and_a_restarted_one_loads_it(tmp_path: Path) -> None:
    controllers = Controllers(tmp_path)
    config = QuorumConfig.build({"metadata.log.max.record.bytes.between.snapshots": 2000})
    controllers.nodes = {i: ControllerNode(i, controllers.voters, tmp_path / f"controller-{i}", cluster_id=CLUSTER_ID,
                                           scheduler=controllers.scheduler, network=controllers.network,
                                           journal=controllers.journal, rng=random.Random(i),
                                           broker_config=BrokerConfig.from_overrides({}), quorum_config=config)
                         for i in controllers.voters}
    controllers.start()
    controllers.register(1)
    controllers.heartbeat(1)
    for n in range(8):
        created = controllers.send(CreateTopicsRequest((CreatableTopic(f"topic-{n}", 4, 1),)))
        assert created.results[f"topic-{n}"].error == Errors.NONE
    controllers.scheduler.run_for(1000)
    taken = controllers.journal.of_type(MetadataSnapshotTaken)
    assert taken
    standby = next(n for n in controllers.nodes.values() if not n.active)
    expected = (standby.image.topics, standby.image.brokers, standby.image.features)
    standby.stop_for_exit()
    restarted = controllers._node(standby.node_id)
    restarted.quorum_config = config
    controllers.nodes[standby.node_id] = restarted
    seq = controllers.journal.last_seq
    restarted.start()
    controllers.scheduler.run_for(1000)
    assert any(e.node_id == standby.node_id for e in controllers.journal.of_type(MetadataSnapshotLoaded) if e.seq > seq)
    assert (restarted.image.topics, restarted.image.brokers, restarted.image.features) == expected
