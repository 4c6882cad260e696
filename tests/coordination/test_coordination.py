"""The coordination service keeps sessions alive by heartbeat, and expiry removes ephemerals."""

import os

import pytest

from kafkalab.coordination.client import CoordinationClient
from kafkalab.coordination.protocol import EventType, ZkCode, ZkException
from kafkalab.coordination.server import CoordinationServer
from kafkalab.coordination.tree import ZnodeTree
from kafkalab.errors import Errors, KafkaError
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


def _store_with_history(directory) -> ZnodeTree:
    """A store whose log changes nodes that an earlier snapshot holds."""
    tree = ZnodeTree(directory)
    tree.create("/a", "1", 0, False, 0)
    tree.create("/a/b", "2", 0, False, 0)
    tree.close()
    tree = ZnodeTree(directory)
    tree.set("/a", "3", -1, 0)
    tree.delete("/a/b", -1)
    tree.create("/c", "4", 0, False, 0)
    return tree


def _contents(tree: ZnodeTree) -> dict:
    return {path: (node.data, node.version, node.czxid, node.mzxid) for path, node in tree.nodes.items()}


def test_a_crash_between_the_snapshot_and_cutting_the_log_loses_nothing(tmp_path) -> None:
    tree = _store_with_history(tmp_path)
    expected = _contents(tree)
    log = (tmp_path / "log.jsonl").read_bytes()
    tree.close()
    (tmp_path / "log.jsonl").write_bytes(log)  # the snapshot is written, the log not yet cut
    assert _contents(ZnodeTree(tmp_path)) == expected


def test_the_snapshot_is_durable_before_the_log_is_cut(tmp_path, monkeypatch) -> None:
    tree = _store_with_history(tmp_path)
    calls = []
    fsync, ftruncate = os.fsync, os.ftruncate

    def noting_fsync(fd):
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1]))
        fsync(fd)

    def noting_ftruncate(fd, size):
        calls.append(("ftruncate", os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1]))
        ftruncate(fd, size)

    monkeypatch.setattr(os, "fsync", noting_fsync)
    monkeypatch.setattr(os, "ftruncate", noting_ftruncate)
    tree.close()
    assert calls.index(("fsync", "snapshot.json.tmp")) < calls.index(("ftruncate", "log.jsonl"))


def test_a_torn_last_transaction_is_dropped_and_later_ones_survive(tmp_path) -> None:
    tree = _store_with_history(tmp_path)
    expected = _contents(tree)
    tree.close_abruptly()
    with open(tmp_path / "log.jsonl", "ab") as log:
        log.write(b'{"op":"create","path":"/torn","da')  # SIGKILL in the middle of a write
    reopened = ZnodeTree(tmp_path)
    assert _contents(reopened) == expected and "torn transaction" in reopened.load_notes[0]
    reopened.create("/after", "5", 0, False, 0)
    reopened.close_abruptly()
    assert "/after" in ZnodeTree(tmp_path).nodes


@pytest.mark.parametrize("name, content", [("snapshot.json", bytes(range(256))), ("snapshot.json", b"{\"zxid\": 3}"),
                                           ("log.jsonl", b"\xff\xfe not utf-8\n")])
def test_an_unreadable_store_is_named_in_one_line(tmp_path, name, content) -> None:
    _store_with_history(tmp_path).close()
    (tmp_path / name).write_bytes(content)
    if name == "log.jsonl":
        assert "not a transaction" in ZnodeTree(tmp_path).load_notes[0]
        return
    with pytest.raises(KafkaError) as raised:
        ZnodeTree(tmp_path)
    assert raised.value.error is Errors.DATA_DIR_INVALID and str(tmp_path) in raised.value.message
