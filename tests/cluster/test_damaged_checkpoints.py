"""Checkpoint and metadata files holding text or random bytes: recovered from, or named in one line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cluster_helpers import FAST, open_cluster, partition, run_checked
from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.storage import CheckpointUnreadable, LogRecovered

REPO = Path(__file__).parents[2]
RANDOM = bytes((n * 151 + 7) % 256 for n in range(300))
BROKER_FILES = ["recovery-point-offset-checkpoint", "replication-offset-checkpoint", "log-start-offset-checkpoint",
                "cleaner-offset-checkpoint", "t-0/leader-epoch-checkpoint"]


def _stored_cluster(clusters: Clusters) -> tuple[int, list[bytes]]:
    cluster = open_cluster(clusters, **FAST)
    cluster.wait(cluster.create_topic("t", 1, 3, {"min.insync.replicas": 2}))
    values = [b"v%d" % n for n in range(5)]
    for value in values:
        cluster.wait(cluster.produce("t", 0, [(b"k", value)]))
    run_checked(cluster, 1000)
    leader = partition(cluster, "t", 0).leader
    cluster.close()
    return leader, values


@pytest.mark.parametrize("content", [b"0\n1\nnot an entry\n", RANDOM], ids=["text", "random bytes"])
@pytest.mark.parametrize("name", BROKER_FILES)
def test_a_damaged_checkpoint_is_recovered_from_and_narrated(clusters: Clusters, tmp_path: Path, name: str,
                                                             content: bytes) -> None:
    leader, values = _stored_cluster(clusters)
    (tmp_path / "data" / f"broker-{leader}" / name).write_bytes(content)

    cluster = Cluster.open(tmp_path / "data")
    cluster.wait(cluster.start(), timeout_ms=10_000)
    if name.endswith("leader-epoch-checkpoint"):
        (recovered,) = [e for e in cluster.journal.of_type(LogRecovered) if e.broker_id == leader]
        assert "Rebuilt the leader epoch history" in recovered.describe() and name.split("/")[1] in recovered.describe()
    else:
        (unreadable,) = cluster.journal.of_type(CheckpointUnreadable)
        assert (unreadable.broker_id, unreadable.file) == (leader, name) and "\n" not in unreadable.describe()
    run_checked(cluster, 3000)
    cluster.wait(cluster.produce("t", 0, [(b"k", b"after")]))
    run_checked(cluster, 3000)
    records = cluster.wait(cluster.fetch("t", 0, 0))
    assert [r.value for r in records] == [*values, b"after"]
    assert len(partition(cluster, "t", 0).isr) == 3
    cluster.close()


@pytest.mark.parametrize("content", [b"{\"format\": 1, \"cluster_id\": \"x\"", RANDOM, b"[1, 2]",
                                     b"{\"format\": 1, \"cluster_id\": \"x\", \"brokers\": 3, \"seed\": 0, "
                                     b"\"clock_ms\": NaN}"], ids=["torn", "random bytes", "a list", "no clock"])
def test_unreadable_cluster_metadata_is_named_in_one_line(clusters: Clusters, tmp_path: Path, content: bytes) -> None:
    _stored_cluster(clusters)
    (tmp_path / "data" / "kafkalab.json").write_bytes(content)
    with pytest.raises(KafkaError) as raised:
        Cluster.open(tmp_path / "data")
    assert raised.value.error is Errors.DATA_DIR_INVALID and "kafkalab.json" in raised.value.message
    assert "\n" not in str(raised.value)


def test_kafkalab_run_recovers_from_a_checkpoint_of_random_bytes(clusters: Clusters, tmp_path: Path) -> None:
    leader, _ = _stored_cluster(clusters)
    (tmp_path / "data" / f"broker-{leader}" / "recovery-point-offset-checkpoint").write_bytes(RANDOM)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(textwrap.dedent("""
        name: read back
        description: read what is there
        cluster: {brokers: 3, seed: 1}
        steps:
          - consume: {group: g, client_id: c, topics: [t], max_records: 5}
          - expect: {consumed: 5}
    """))
    result = subprocess.run([sys.executable, "-m", "kafkalab", "run", str(scenario), "--data-dir",
                             str(tmp_path / "data")], check=False, capture_output=True, text=True, timeout=120,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "could not read recovery-point-offset-checkpoint" in result.stdout and "Traceback" not in result.stderr
