"""The coordination service keeps sessions alive by heartbeat, and expiry removes ephemerals."""

import pytest

from kafkalab.coordination.client import CoordinationClient
from kafkalab.coordination.protocol import EventType, ZkCode, ZkException
from kafkalab.coordination.server import CoordinationServer
from kafkalab.events.coordination import SessionExpired
from kafkalab.events.journal import EventJournal
from kafkalab.sim.network import Network
from kafkalab.sim.scheduler import Scheduler, TimerGroup


class World:
    def __init__(self, tmp_path=None):
        self.scheduler = Scheduler(start_ms=0)
        self.network = Network(self.scheduler)
        self.journal = EventJournal(self.scheduler)
        self.server = CoordinationServer(self.scheduler, self.network, self.journal, tmp_path)
        self.server.tree.create("/brokers", "", 0, False, 0)
        self.sessions: dict[str, int] = {}

    def client(self, node: str, timeout_ms: int = 6000) -> CoordinationClient:
        group = TimerGroup(self.scheduler)
        new_sessions: list[int] = []
        client = CoordinationClient(node, group, self.network, timeout_ms, lambda: new_sessions.append(1))
        client.new_sessions = new_sessions  # type: ignore[attr-defined]

        def handler(source, request, respond):
            client.handle_notifications(request, respond)

        self.network.attach(node, handler)
        client.start()
        self.scheduler.run_for(10)
        return client

    def run(self, future):
        self.scheduler.run_while(lambda: not future.done, 60_000)
        return future.result()


def test_ephemeral_node_lives_with_its_session() -> None:
    world = World()
    client = world.client("broker-1")
    world.run(client.create("/brokers/1", "{}", ephemeral=True))
    world.scheduler.run_for(60_000)  # heartbeats keep it alive
    assert "/brokers/1" in world.server.tree.nodes


def test_cut_link_expires_session_and_deletes_ephemeral() -> None:
    world = World()
    client = world.client("broker-1", timeout_ms=6000)
    world.run(client.create("/brokers/1", "{}", ephemeral=True))
    world.network.cut("broker-1", "zk")
    world.scheduler.run_for(5000)
    assert "/brokers/1" in world.server.tree.nodes
    world.scheduler.run_for(1500)
    assert "/brokers/1" not in world.server.tree.nodes
    expired = world.journal.of_type(SessionExpired)
    assert expired and expired[0].deleted_paths == ("/brokers/1",)


def test_reconnect_after_expiry_opens_new_session() -> None:
    world = World()
    client = world.client("broker-1", timeout_ms=6000)
    first = client.session_id
    world.network.cut("broker-1", "zk")
    world.scheduler.run_for(10_000)
    world.network.heal("broker-1", "zk")
    world.scheduler.run_for(5000)
    assert client.connected and client.session_id != first
    assert len(client.new_sessions) == 2


def test_children_watch_fires_once() -> None:
    world = World()
    watcher = world.client("broker-1")
    writer = world.client("broker-2")
    fired = []
    world.run(watcher.get_children("/brokers", fired.append))
    world.run(writer.create("/brokers/2", "x"))
    world.run(writer.create("/brokers/3", "x"))
    world.scheduler.run_for(10)
    assert [(e.event_type, e.path) for e in fired] == [(EventType.NODE_CHILDREN_CHANGED, "/brokers")]


def test_watch_notification_survives_a_cut_link() -> None:
    world = World()
    watcher = world.client("broker-1", timeout_ms=30_000)
    writer = world.client("broker-2")
    fired = []
    world.run(watcher.exists("/brokers/x", fired.append))
    world.network.cut("broker-1", "zk")
    world.run(writer.create("/brokers/x", "x"))
    world.scheduler.run_for(3000)
    assert fired == []
    world.network.heal("broker-1", "zk")
    world.scheduler.run_for(15_000)
    assert [e.event_type for e in fired] == [EventType.NODE_CREATED]


def test_versioned_set_and_guard() -> None:
    world = World()
    client = world.client("broker-1")
    world.run(client.create("/brokers/a", "1"))
    world.run(client.set_data("/brokers/a", "2", version=0))
    with pytest.raises(ZkException) as stale:
        world.run(client.set_data("/brokers/a", "3", version=0))
    assert stale.value.code == ZkCode.BAD_VERSION
    with pytest.raises(ZkException) as guarded:
        world.run(client.set_data("/brokers/a", "3", guard=("/brokers", 5)))
    assert guarded.value.code == ZkCode.BAD_VERSION
    assert world.server.tree.nodes["/brokers/a"].data == "2"


def test_persistent_nodes_survive_restart(tmp_path) -> None:
    world = World(tmp_path)
    client = world.client("broker-1")
    world.run(client.create("/brokers/topic", "{\"a\":1}"))
    world.run(client.create("/brokers/eph", "e", ephemeral=True))
    world.run(client.set_data("/brokers/topic", "{\"a\":2}"))
    world.server.close_abruptly()  # crash: only the transaction log is on disk
    reopened = CoordinationServer(Scheduler(start_ms=0), Network(Scheduler(start_ms=0)), world.journal, tmp_path)
    assert reopened.tree.nodes["/brokers/topic"].data == "{\"a\":2}"
    assert "/brokers/eph" not in reopened.tree.nodes
    reopened.close()
    again = CoordinationServer(Scheduler(start_ms=0), Network(Scheduler(start_ms=0)), world.journal, tmp_path)
    assert again.tree.nodes["/brokers/topic"].version == 1
