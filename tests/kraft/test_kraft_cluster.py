"""A whole cluster in KRaft mode: controllers as their own nodes, brokers that follow the metadata log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import LeaderElected
from kafkalab.events.kraft import BrokerFenced, ControllerActivated
from kafkalab.events.raft import MetadataSnapshotLoaded, MetadataSnapshotTaken
from kafkalab.raft.config import QuorumConfig

CONTROLLERS = (101, 102, 103)
REPO = Path(__file__).parents[2]


def open_kraft(clusters: Clusters, **options: object) -> Cluster:
    return clusters.open(mode="kraft", **options)


def test_a_kraft_cluster_produces_consumes_and_runs_groups_as_zookeeper_mode_does(clusters: Clusters) -> None:
    cluster = open_kraft(clusters)
    assert cluster.controller_id in CONTROLLERS
    cluster.wait(cluster.create_topic("orders", 3, 3, {"min.insync.replicas": 2}))
    producer = cluster.producer(acks="all")
    for n in range(30):
        producer.send("orders", f"v{n}", key=f"k{n % 5}")
    cluster.wait(producer.flush())
    consumer = cluster.consumer(group_id="billing", auto_offset_reset="earliest")
    consumer.subscribe(["orders"])
    seen: list[str] = []
    for _ in range(20):
        seen += [record.value.decode() for record in cluster.wait(consumer.poll(500)) if record.value]
        if len(seen) == 30:
            break
    assert sorted(seen) == sorted(f"v{n}" for n in range(30))
    cluster.wait(consumer.commit_sync())
    view = cluster.snapshot()
    topic = view.topic("orders")
    assert topic is not None and dict(topic.config_overrides) == {"min.insync.replicas": "2"}
    assert all(len(p.isr) == 3 and p.leader is not None for p in topic.partitions)
    assert view.group("billing") is not None
    assert view.topic("__consumer_offsets") is not None


def test_the_data_dir_remembers_its_mode(clusters: Clusters, tmp_path: Path) -> None:
    cluster = open_kraft(clusters, controllers=3)
    meta = json.loads((cluster.data_dir.path / "kafkalab.json").read_text())
    assert (meta["mode"], meta["controllers"]) == ("kraft", 3)
    assert (cluster.data_dir.path / "controller-101" / "__cluster_metadata-0" / "quorum-state").exists()
    assert (cluster.data_dir.path / "broker-1" / "__cluster_metadata-0").is_dir()
    assert not (cluster.data_dir.path / "zookeeper").exists()
    cluster.close()
    with pytest.raises(KafkaError) as refused:
        Cluster.open(cluster.data_dir.path, mode="zookeeper")
    assert refused.value.error == Errors.INVALID_ARGUMENT and "kraft-mode" in refused.value.message


def test_killing_the_active_controller_elects_a_new_one_and_the_cluster_goes_on(clusters: Clusters) -> None:
    cluster = open_kraft(clusters)
    cluster.wait(cluster.create_topic("orders", 2, 3))
    first = cluster.controller_id
    epoch = cluster.describe_quorum().leader_epoch
    seq = cluster.journal.last_seq
    cluster.kill_controller(first)
    cluster.run_for(5000)
    second = cluster.controller_id
    assert second in CONTROLLERS and second != first
    assert cluster.describe_quorum().leader_epoch > epoch
    assert [e.node_id for e in cluster.journal.of_type(ControllerActivated) if e.seq > seq] == [second]
    # The new active controller serves brokers and clients: a topic created now gets leaders.
    cluster.wait(cluster.create_topic("payments", 1, 3))
    cluster.run_for(1000)
    assert cluster.wait(cluster.produce("payments", 0, [(None, b"paid")])).error == Errors.NONE
    cluster.restart_controller(first)
    cluster.run_for(3000)
    quorum = cluster.describe_quorum()
    assert {v.node_id for v in quorum.voters} == set(CONTROLLERS)
    assert all(quorum.lag(v) == 0 for v in quorum.voters)


def test_a_topic_s_partition_records_reach_a_majority_s_disk_in_one_fsync_each_before_the_creation_is_answered(
        clusters: Clusters, monkeypatch: pytest.MonkeyPatch) -> None:
    # Kafka's leader appends a drained batch and flushes once (KafkaRaftClient.maybeAppendBatches,
    # then flushLeaderLog) and a voter flushes what one Fetch brought (appendAsFollower + flush):
    # the records of a topic of 60 partitions cost each controller one fsync of the metadata log, not 60,
    # and a majority has them on disk before the controller answers the creation.
    cluster = open_kraft(clusters)
    synced: list[Path] = []
    fsync = os.fsync

    def noting_fsync(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", noting_fsync)
    cluster.wait(cluster.create_topic("wide", 60, 3))
    monkeypatch.undo()
    metadata_logs = [path for path in synced
                     if path.parent.name == "__cluster_metadata-0" and path.suffix == ".log"]
    by_controller = {path.parent.parent.name: metadata_logs.count(path) for path in metadata_logs}
    assert len(by_controller) >= 2 and all(name.startswith("controller-") for name in by_controller)
    assert all(count == 1 for count in by_controller.values()), by_controller


def test_a_broker_cut_from_the_controllers_is_fenced_and_loses_its_leaderships(clusters: Clusters) -> None:
    cluster = open_kraft(clusters)
    cluster.wait(cluster.create_topic("orders", 3, 3))
    cluster.run_for(1000)
    led = [p.partition for p in cluster.snapshot().topic("orders").partitions if p.leader == 2]  # type: ignore[union-attr]
    epochs = {p.partition: p.leader_epoch for p in cluster.snapshot().topic("orders").partitions}  # type: ignore[union-attr]
    assert led
    seq = cluster.journal.last_seq
    for controller in CONTROLLERS:
        cluster.cut_link(2, f"controller-{controller}")
    assert not cluster.snapshot().countdowns  # every broker heartbeats
    cluster.run_for(4000)
    (countdown,) = cluster.snapshot().countdowns
    assert countdown.what == "the controller fences broker 2 (no heartbeat)"
    assert countdown.setting == "broker.session.timeout.ms"
    cluster.run_for(8000)
    assert [e.broker_id for e in cluster.journal.of_type(BrokerFenced) if e.seq > seq] == [2]
    orders = cluster.snapshot().topic("orders")
    assert orders is not None
    for p in orders.partitions:
        assert p.leader != 2 and 2 not in p.isr
        # A partition that lost its leader has a new leader epoch; one that lost a follower keeps its epoch.
        assert p.leader_epoch == epochs[p.partition] + (p.partition in led)
    moved = {e.partition for e in cluster.journal.of_type(LeaderElected) if e.seq > seq and e.topic == "orders"}
    assert moved == set(led)
    for controller in CONTROLLERS:
        cluster.heal_link(2, controller)  # a controller's id names it as well as controller-<id> does
    cluster.run_for(40_000)  # unfenced, then back in every ISR after it catches up
    assert all(2 in p.isr for p in cluster.snapshot().topic("orders").partitions)  # type: ignore[union-attr]


def test_a_whole_cluster_restarted_from_disk_keeps_its_topics_and_configs(clusters: Clusters, tmp_path: Path) -> None:
    cluster = open_kraft(clusters)
    cluster.wait(cluster.create_topic("orders", 3, 2, {"retention.ms": 60_000}))
    cluster.wait(cluster.alter_topic_config("orders", {"cleanup.policy": "compact"}))
    cluster.wait(cluster.produce("orders", 1, [(b"k", b"v")]))
    cluster.run_for(1000)
    path = cluster.data_dir.path
    cluster.close()
    reopened = clusters.open(path)
    orders = reopened.snapshot().topic("orders")
    assert orders is not None and len(orders.partitions) == 3
    assert dict(orders.config_overrides) == {"retention.ms": "60000", "cleanup.policy": "compact"}
    assert [r.value for r in reopened.wait(reopened.fetch("orders", 1, 0))] == [b"v"]


def test_a_clean_broker_shutdown_moves_its_leaderships_first(clusters: Clusters) -> None:
    cluster = open_kraft(clusters)
    cluster.wait(cluster.create_topic("orders", 3, 3))
    cluster.run_for(1000)
    cluster.wait(cluster.shutdown_broker(1))
    orders = cluster.snapshot().topic("orders")
    assert orders is not None
    assert all(p.leader not in (None, 1) and 1 not in p.isr for p in orders.partitions)
    cluster.wait(cluster.restart_broker(1))


def test_a_deleted_topic_leaves_every_broker_also_one_that_was_down(clusters: Clusters) -> None:
    cluster = open_kraft(clusters)
    cluster.wait(cluster.create_topic("doomed", 2, 3))
    cluster.wait(cluster.produce("doomed", 0, [(None, b"x")]))
    cluster.kill_broker(3)
    cluster.wait(cluster.delete_topic("doomed"))
    cluster.run_for(1000)
    assert cluster.snapshot().topic("doomed") is None
    path = cluster.data_dir.path
    assert not any((path / f"broker-{b}" / "doomed-0").exists() for b in (1, 2))
    assert (path / "broker-3" / "doomed-0").exists()  # broker 3 was down: its copy waits for it
    cluster.wait(cluster.restart_broker(3))
    cluster.run_for(1000)
    assert not (path / "broker-3" / "doomed-0").exists()


def test_a_snapshot_taken_by_time_is_what_a_restarted_cluster_loads(clusters: Clusters) -> None:
    cluster = open_kraft(clusters, start=False)
    assert cluster.quorum is not None
    minute = QuorumConfig.build({"metadata.log.max.snapshot.interval.ms": 60_000})
    for node in cluster.quorum.nodes.values():
        node.quorum_config = minute  # a controller's own setting (server.properties), read when it starts
    cluster.wait(cluster.start())
    cluster.wait(cluster.create_topic("orders", 3, 2, {"retention.ms": 60_000}))
    cluster.run_for(61_000)
    assert not cluster.journal.of_type(MetadataSnapshotTaken)  # time alone writes nothing
    cluster.wait(cluster.alter_topic_config("orders", {"cleanup.policy": "compact"}))
    cluster.run_for(1000)
    taken = cluster.journal.of_type(MetadataSnapshotTaken)
    assert sorted(e.node_id for e in taken) == list(CONTROLLERS)  # each controller snapshots its own image
    end_offset = taken[0].end_offset
    assert {e.end_offset for e in taken} == {end_offset}
    path = cluster.data_dir.path
    cluster.close()
    reopened = clusters.open(path)
    loaded = reopened.journal.of_type(MetadataSnapshotLoaded)
    assert sorted(e.node_id for e in loaded if e.fetched_from == -1) == list(CONTROLLERS)
    assert {e.end_offset for e in loaded} == {end_offset}
    orders = reopened.snapshot().topic("orders")
    assert orders is not None and len(orders.partitions) == 3
    assert dict(orders.config_overrides) == {"retention.ms": "60000", "cleanup.policy": "compact"}


def test_the_metadata_records_shown_follow_the_log_as_it_grows(clusters: Clusters) -> None:
    cluster = open_kraft(clusters)
    quorum = cluster.quorum
    assert quorum is not None
    before = quorum.committed_records(3)
    assert len(before) == 3
    cluster.wait(cluster.create_topic("orders", 2, 3, {"retention.ms": 60_000}))
    cluster.run_for(500)
    newest = quorum.committed_records(4)
    whole = cluster.metadata_records()
    offsets = [entry.offset for entry in whole]
    assert offsets == list(range(offsets[0], offsets[-1] + 1)) and whole[-4:] == newest
    assert [entry.record_type for entry in newest] == ["TOPIC_RECORD", "PARTITION_RECORD", "PARTITION_RECORD",
                                                       "CONFIG_RECORD"]
    active = quorum.active
    assert active is not None and active.raft is not None
    assert whole == tuple(quorum._decode(active.raft, offsets[0]).values())  # the same as decoding afresh


_REPLAY = """
import sys
from pathlib import Path

from kafkalab.cluster.cluster import Cluster

cluster = Cluster.open(Path(sys.argv[1]), brokers=3, seed=7, fresh=True, mode="kraft")
sent = []
send = cluster.network.request

def recorded(source, destination, request, *rest):
    sent.append(f"{cluster.scheduler.now_ms} {source} {destination} {type(request).__name__}")
    return send(source, destination, request, *rest)

cluster.network.request = recorded
cluster.wait(cluster.start())
cluster.run_for(300)
cluster.close()
print("\\n".join(sent))
"""


def test_a_seed_replays_the_same_kraft_cluster_in_every_process(tmp_path: Path) -> None:
    """Brokers seed their random sources (the voter an observer asks first, ...) from the cluster's seed alone."""
    def run(name: str, hash_seed: str) -> str:
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        result = subprocess.run([sys.executable, "-c", _REPLAY, str(tmp_path / name)], check=True, capture_output=True,
                                text=True, timeout=120, cwd=REPO, env=environment)
        return result.stdout

    first = run("a", "1")
    assert "RaftFetchRequest" in first
    assert run("b", "2") == first
