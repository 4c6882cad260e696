"""Checkpoints written on the cluster's writer thread, as on the real-time driver (issue 9): a clean close
leaves every one written, and a disk that refuses them still halts the broker with one line."""

from __future__ import annotations

from collections.abc import Callable

from cluster_helpers import FAST, events_since, partition, run_checked
from disk_faults import refusing_writes
from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.events.cluster import BrokerStopped
from kafkalab.events.storage import LogDirFailed
from kafkalab.storage.checkpoints import read_offsets
from kafkalab.storage.log_manager import CLEAN_SHUTDOWN_FILE


def _threaded_cluster(clusters: Clusters, handed: list[Callable[[], None]]) -> Cluster:
    cluster = clusters.open(broker_config=FAST, start=False)
    cluster.write_checkpoints_in_background(handed.append)  # handed-back work runs when the test says
    cluster.wait(cluster.start())
    cluster.wait(cluster.create_topic("t", 1, 3, {"min.insync.replicas": 2}))
    cluster.wait(cluster.produce("t", 0, [(b"k", b"v1"), (b"k", b"v2")]))
    return cluster


def test_a_clean_close_leaves_every_checkpoint_written_before_the_marker(clusters: Clusters) -> None:
    handed: list[Callable[[], None]] = []
    cluster = _threaded_cluster(clusters, handed)
    run_checked(cluster, 6000)  # one periodic high-watermark checkpoint, on the writer thread
    cluster.close()
    for broker_id in cluster.brokers:
        directory = cluster.data_dir.broker_dir(broker_id)
        assert read_offsets(directory / "replication-offset-checkpoint")[("t", 0)] == 2
        assert read_offsets(directory / "recovery-point-offset-checkpoint")[("t", 0)] == 2
        assert read_offsets(directory / "log-start-offset-checkpoint")[("t", 0)] == 0
        assert (directory / CLEAN_SHUTDOWN_FILE).exists() and not list(directory.glob("*.tmp"))
    assert handed == []


def test_a_refused_checkpoint_on_the_writer_thread_still_halts_the_broker(clusters: Clusters) -> None:
    handed: list[Callable[[], None]] = []
    cluster = _threaded_cluster(clusters, handed)
    victim = partition(cluster, "t", 0).leader
    broker = cluster.brokers[victim]
    seq = cluster.journal.last_seq
    with refusing_writes(cluster.data_dir.broker_dir(victim)):
        run_checked(cluster, 5000)  # the high-watermark checkpoint is handed to the writer every 5 s
        broker.checkpoint_writer.flush(broker.log_dir)  # the engine thread learns of the refusal here at the latest
        for work in handed:
            work()
        (failed,) = events_since(cluster, seq, LogDirFailed)
        assert failed.broker_id == victim and failed.operation == "write the checkpoint file"
        cluster.run_for(100)
        (stopped,) = events_since(cluster, seq, BrokerStopped)
        assert stopped.broker_id == victim and "log dir failed" in stopped.describe()
        assert not broker.running
        run_checked(cluster, 15_000)
        assert partition(cluster, "t", 0).leader not in (None, victim)
    cluster.wait(cluster.restart_broker(victim))
    run_checked(cluster, 15_000)
    assert victim in partition(cluster, "t", 0).isr
    cluster.close()
