"""Bad input gets Kafka's error name and a clear sentence, and changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cluster_helpers import open_cluster, partition, wait_checked
from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.cluster.invariants import assert_invariants
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import ProduceRejected


def _state(cluster: Cluster) -> tuple:
    """What bad input must not change: znodes, files on disk and the journal (a rejection may be narrated)."""
    tree = {path: (node.version, node.data) for path, node in cluster.coordinator.tree.nodes.items()}
    files = sorted(str(p.relative_to(cluster.data_dir.path)) for p in cluster.data_dir.path.rglob("*")
                   if p.name not in ("kafkalab.json", "log.jsonl") and "checkpoint" not in p.name)
    changes = [e for e in cluster.journal if not isinstance(e, ProduceRejected)]
    return tree, files, len(changes)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with Clusters(tmp_path_factory.mktemp("bad")) as clusters:
        cluster = open_cluster(clusters)
        wait_checked(cluster, cluster.create_topic("orders", 2, 3, {"max.message.bytes": 1000}))
        cluster.run_for(500)
        yield cluster


def _rejects(cluster: Cluster, error: Errors, action, *words: str) -> None:
    before = _state(cluster)
    with pytest.raises(KafkaError) as raised:
        result = action()
        if hasattr(result, "done"):
            cluster.wait(result)
    assert raised.value.error == error, raised.value
    message = raised.value.message
    assert message.endswith((".", "?")) and all(word in message for word in words), message
    cluster.run_for(100)
    assert _state(cluster) == before
    assert_invariants(cluster)


OTHER_CHARACTERS = "contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"


@pytest.mark.parametrize("name, words", [
    ("", ["the empty string is not allowed"]), (".", ["'.' is not allowed"]), ("..", ["'..' is not allowed"]),
    ("a" * 250, ["longer than the max allowed length 249", "(250 characters)"]),
    ("bad name", [OTHER_CHARACTERS, "'bad name'"]), ("orders/0", [OTHER_CHARACTERS]), ("émoji", [OTHER_CHARACTERS]),
    # A regex ending in `$` also matches before a final newline; Kafka checks every character.
    ("orders\n", [OTHER_CHARACTERS, "'orders\\n'"]), ("\norders", [OTHER_CHARACTERS]), ("a\x00b", [OTHER_CHARACTERS]),
    ("k" * 10_000_000, ["(10,000,000 characters)"]),
])
def test_invalid_topic_names(cluster, name, words):
    """Kafka 3.9's ``Topic.validate``: its sentences, and at most a short prefix of the name."""
    _rejects(cluster, Errors.INVALID_TOPIC_EXCEPTION, lambda: cluster.create_topic(name, 1, 1),
             "Topic name is invalid: ", *words)
    with pytest.raises(KafkaError) as raised:
        cluster.create_topic(name, 1, 1)
    assert len(raised.value.message) < 300


def test_a_topic_name_colliding_after_dots_become_underscores(cluster):
    wait_checked(cluster, cluster.create_topic("metrics_eu", 1, 1))
    cluster.run_for(500)
    _rejects(cluster, Errors.INVALID_TOPIC_EXCEPTION, lambda: cluster.create_topic("metrics.eu", 1, 1),
             "Topic 'metrics.eu' collides with existing topics: metrics_eu.")


@pytest.mark.parametrize("name", ["__consumer_offsets", "__transaction_state"])
def test_internal_topics_cannot_be_created_by_hand(cluster, name):
    _rejects(cluster, Errors.INVALID_REQUEST, lambda: cluster.create_topic(name, 1, 1),
             f"Creation of internal topic {name} is prohibited.")


@pytest.mark.parametrize("partitions, configs", [(1_000_000_000, {}), (10_000, {}), (9_999, {"retention.ms": 1})])
def test_more_partitions_than_one_request_may_create(cluster, partitions, configs):
    """Kafka's controller writes at most 10,000 records per request: one per topic, partition and override."""
    _rejects(cluster, Errors.POLICY_VIOLATION, lambda: cluster.create_topic("huge", partitions, 1, configs),
             "Unable to perform excessively large batch operation")


def test_an_existing_topic(cluster):
    _rejects(cluster, Errors.TOPIC_ALREADY_EXISTS, lambda: cluster.create_topic("orders", 1, 1), "orders")


@pytest.mark.parametrize("partitions", [0, -1, 1.5, True])
def test_partitions_below_one_or_not_a_number(cluster, partitions):
    _rejects(cluster, Errors.INVALID_PARTITIONS, lambda: cluster.create_topic("p", partitions, 1), "at least 1")


def test_replication_factor_above_the_live_brokers(cluster):
    _rejects(cluster, Errors.INVALID_REPLICATION_FACTOR, lambda: cluster.create_topic("wide", 1, 4),
             "larger than available brokers: 3")
    _rejects(cluster, Errors.INVALID_REPLICATION_FACTOR, lambda: cluster.create_topic("none", 1, 0), "at least 1")


@pytest.mark.parametrize("config, words", [
    ({"retention.msec": 1000}, ["Unknown topic config", "retention.ms"]),
    ({"retention.ms": "soon"}, ["retention.ms", "integer"]),
    ({"min.insync.replicas": 0}, ["min.insync.replicas", "at least 1"]),
    ({"cleanup.policy": "shred"}, ["cleanup.policy", "delete, compact"]),
    ({"unclean.leader.election.enable": "maybe"}, ["true or false"]),
])
def test_unknown_config_keys_and_bad_values(cluster, config, words):
    _rejects(cluster, Errors.INVALID_CONFIG, lambda: cluster.create_topic("configured", 1, 1, config), *words)
    _rejects(cluster, Errors.INVALID_CONFIG, lambda: cluster.alter_topic_config("orders", config), *words)


def test_unknown_topics_and_partitions(cluster):
    _rejects(cluster, Errors.UNKNOWN_TOPIC_OR_PARTITION, lambda: cluster.delete_topic("n" * 1_000_000),
             "(1,000,000 characters)")
    _rejects(cluster, Errors.UNKNOWN_TOPIC_OR_PARTITION, lambda: cluster.produce("nope", 0, [(None, b"x")]), "nope")
    _rejects(cluster, Errors.UNKNOWN_TOPIC_OR_PARTITION, lambda: cluster.produce("orders", 2, [(None, b"x")]),
             "0-1")
    _rejects(cluster, Errors.UNKNOWN_TOPIC_OR_PARTITION, lambda: cluster.fetch("orders", -1, 0), "0-1")
    _rejects(cluster, Errors.UNKNOWN_TOPIC_OR_PARTITION, lambda: cluster.delete_topic("nope"), "nope")
    _rejects(cluster, Errors.UNKNOWN_TOPIC_OR_PARTITION, lambda: cluster.alter_topic_config("nope", {"retention.ms": 1}),
             "nope")


def test_records_over_max_message_bytes(cluster):
    _rejects(cluster, Errors.MESSAGE_TOO_LARGE, lambda: cluster.produce("orders", 0, [(None, b"x" * 2000)]),
             "exceeds the maximum configured value of 1000")
    assert partition(cluster, "orders", 0).log_end_offset == 0


def test_unknown_brokers_and_links(cluster):
    _rejects(cluster, Errors.INVALID_ARGUMENT, lambda: cluster.kill_broker(7), "no broker 7")
    _rejects(cluster, Errors.INVALID_ARGUMENT, lambda: cluster.cut_link(1, 1), "itself")
    _rejects(cluster, Errors.BROKER_ALREADY_RUNNING, lambda: cluster.restart_broker(1), "already running")


def test_bad_cluster_arguments_create_no_directory(tmp_path):
    for kwargs, error in [({"brokers": 0}, Errors.INVALID_ARGUMENT), ({"brokers": 10}, Errors.INVALID_ARGUMENT),
                          ({"broker_config": {"zookeeper.timeout": 1}}, Errors.INVALID_CONFIG),
                          ({"broker_config": {"replica.lag.time.max.ms": "long"}}, Errors.INVALID_CONFIG)]:
        with pytest.raises(KafkaError) as raised:
            Cluster.open(tmp_path / "new", **kwargs)
        assert raised.value.error == error
        assert not (tmp_path / "new").exists()


def test_a_directory_that_is_not_ours_is_left_alone(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"meow")
    (tmp_path / "file").write_text("x")
    for path in (tmp_path / "photos", tmp_path / "file"):
        with pytest.raises(KafkaError) as raised:
            Cluster.open(path)
        assert raised.value.error == Errors.DATA_DIR_INVALID and "not a kafkalab data directory" in raised.value.message
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["cat.jpg"]
    assert (tmp_path / "file").read_text() == "x"


def test_a_data_dir_locked_by_another_process(tmp_path):
    data = tmp_path / "data"
    Cluster.open(data, brokers=1).close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from kafkalab.cluster.datadir import DataDir
        DataDir.open(__import__("pathlib").Path({str(data)!r}))
        print("locked", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=Path(__file__).parents[2],
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    try:
        assert holder.stdout.readline().strip() == b"locked"
        # Taken once the holder has written its pid into .lock (a pid of another length changes the file's size).
        before = sorted((p.name, p.stat().st_size) for p in data.rglob("*"))
        with pytest.raises(KafkaError) as raised:
            Cluster.open(data)
        assert raised.value.error == Errors.DATA_DIR_LOCKED
        assert str(holder.pid) in raised.value.message and "in use" in raised.value.message
        assert sorted((p.name, p.stat().st_size) for p in data.rglob("*")) == before
    finally:
        holder.stdin.close()
        holder.wait(10)
    Cluster.open(data).close()
