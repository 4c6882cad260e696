"""The file system says no: one line naming the file and the operation, the broker halts, nothing else changes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cluster_helpers import FAST, events_since, open_cluster, partition, run_checked
from disk_faults import immutable_files_possible, read_only_mount_command, refusing_writes
from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import BrokerStopped, ProduceRejected
from kafkalab.events.storage import LogDirFailed

REPO = Path(__file__).parents[2]


def _cluster_with_topic(clusters: Clusters) -> Cluster:
    cluster = open_cluster(clusters, **FAST)
    cluster.wait(cluster.create_topic("t", 1, 3, {"min.insync.replicas": 2}))
    cluster.wait(cluster.produce("t", 0, [(b"k", b"before")]))
    return cluster


def test_a_log_dir_that_refuses_writes_halts_its_broker_and_the_others_carry_on(clusters: Clusters, tmp_path: Path) -> None:
    cluster = _cluster_with_topic(clusters)
    victim = partition(cluster, "t", 0).leader
    seq = cluster.journal.last_seq
    with refusing_writes(cluster.data_dir.broker_dir(victim)):
        run_checked(cluster, 8000)  # the high-watermark checkpoint is written every 5 s
        (failed,) = events_since(cluster, seq, LogDirFailed)
        assert failed.broker_id == victim and failed.operation == "write the checkpoint file"
        assert failed.path.startswith(str(cluster.data_dir.broker_dir(victim)))
        assert "KAFKA_STORAGE_ERROR" in failed.describe() and "\n" not in failed.describe()
        (stopped,) = events_since(cluster, seq, BrokerStopped)
        assert stopped.broker_id == victim and "log dir failed" in stopped.describe()
        assert not cluster.brokers[victim].running
        run_checked(cluster, 15_000)  # its ZooKeeper session expires; leadership moves
        assert partition(cluster, "t", 0).leader not in (None, victim)
        cluster.wait(cluster.produce("t", 0, [(b"k", b"after")]))
    cluster.wait(cluster.restart_broker(victim))
    run_checked(cluster, 15_000)
    assert victim in partition(cluster, "t", 0).isr
    cluster.close()


def test_an_immutable_segment_fails_the_write_with_kafka_storage_error(clusters: Clusters, tmp_path: Path) -> None:
    if not immutable_files_possible(tmp_path):
        pytest.skip("needs chattr +i (root) to refuse writes through an open descriptor")
    cluster = _cluster_with_topic(clusters)
    victim = partition(cluster, "t", 0).leader
    segment = cluster.data_dir.broker_dir(victim) / "t-0" / "00000000000000000000.log"
    seq = cluster.journal.last_seq
    with refusing_writes(segment), pytest.raises(KafkaError) as raised:
        cluster.wait(cluster.produce("t", 0, [(b"k", b"refused")], acks=1))
    assert raised.value.error is Errors.KAFKA_STORAGE_ERROR
    (rejected,) = events_since(cluster, seq, ProduceRejected)
    assert rejected.error == "KAFKA_STORAGE_ERROR" and str(segment) in rejected.reason
    (failed,) = events_since(cluster, seq, LogDirFailed)
    assert (failed.path, failed.operation) == (str(segment), "append to")
    assert not cluster.brokers[victim].running
    cluster.close()


def test_a_broker_does_not_start_on_a_log_dir_it_cannot_write(clusters: Clusters, tmp_path: Path) -> None:
    cluster = _cluster_with_topic(clusters)
    victim = partition(cluster, "t", 0).leader
    cluster.kill_broker(victim)
    seq = cluster.journal.last_seq
    with refusing_writes(cluster.data_dir.broker_dir(victim), files=True):
        with pytest.raises(KafkaError) as raised:
            cluster.wait(cluster.restart_broker(victim))
        assert raised.value.error is Errors.KAFKA_STORAGE_ERROR
        assert str(cluster.data_dir.broker_dir(victim)) in raised.value.message
        assert "\n" not in str(raised.value)
        assert [e.broker_id for e in events_since(cluster, seq, LogDirFailed)] == [victim]
        run_checked(cluster, 1000)
        assert not cluster.brokers[victim].running
    cluster.wait(cluster.restart_broker(victim))
    cluster.close()


SCENARIO = textwrap.dedent("""
    name: produce
    description: one write
    cluster: {brokers: 1, seed: 1}
    steps:
      - produce: {topic: t, value: "v{i}", count: 2}
""")


def _stored_cluster(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    cluster = Cluster.open(data, brokers=1, seed=1)
    cluster.wait(cluster.start())
    cluster.wait(cluster.create_topic("t", 1, 1))
    cluster.close()
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    return data, scenario


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=120, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_kafkalab_run_on_a_read_only_data_dir_says_so_in_one_line(tmp_path: Path) -> None:
    data, scenario = _stored_cluster(tmp_path)
    before = sorted((p.relative_to(data), p.stat().st_size) for p in data.rglob("*") if p.is_file())
    command = [sys.executable, "-m", "kafkalab", "run", str(scenario), "--data-dir", str(data)]
    mounted = read_only_mount_command(data, command)
    if mounted is not None:
        result = _run(mounted)
    else:
        with refusing_writes(data, files=True):
            result = _run(command)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("kafkalab: KAFKA_STORAGE_ERROR: Cannot ") and str(data) in result.stderr
    assert sorted((p.relative_to(data), p.stat().st_size) for p in data.rglob("*") if p.is_file()) == before


def test_the_tui_on_a_data_dir_it_cannot_write_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from kafkalab.tui import run_tui

    data, _ = _stored_cluster(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))  # lesson progress stays out of the real home
    with refusing_writes(data, files=True):
        assert run_tui(data, None, False) == 2
    err = capsys.readouterr().err
    assert err.startswith("kafkalab: KAFKA_STORAGE_ERROR: Cannot ") and str(data) in err
    assert len(err.strip().splitlines()) == 1
