"""Nothing a user types leaves a data dir that no longer opens; dirs an older kafkalab wedged open or say why."""

from __future__ import annotations

import pytest
from cluster_helpers import open_cluster, wait_checked

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import ProduceRejected
from kafkalab.events.groups import GroupCoordinatorLoaded, GroupRecordSkipped
from kafkalab.protocol.types import TopicPartition
from kafkalab.validation import MAX_TOPIC_NAME_LENGTH

ONE_OFFSETS_PARTITION = {"offsets.topic.num.partitions": 1, "group.initial.rebalance.delay.ms": 0}


def _commit_an_offset(cluster: Cluster) -> None:
    """A group commits offset 1 of orders-0, which creates __consumer_offsets."""
    wait_checked(cluster, cluster.create_topic("orders", 1, 1))
    cluster.wait(cluster.produce("orders", 0, [(None, b"x")]))
    consumer = cluster.consumer(group_id="g")
    cluster.wait(consumer.commit_sync({TopicPartition("orders", 0): 1}))
    cluster.wait(consumer.close())


def _reopen(path) -> Cluster:
    cluster = Cluster.open(path)
    cluster.wait(cluster.start(), 30_000)
    return cluster


def test_a_client_cannot_write_an_internal_topic(clusters, tmp_path):
    cluster = open_cluster(clusters, brokers=1, **ONE_OFFSETS_PARTITION)
    _commit_an_offset(cluster)
    mark = cluster.journal.last_seq
    with pytest.raises(KafkaError) as raised:
        cluster.wait(cluster.produce("__consumer_offsets", 0, [(b"k", b"garbage")]))
    assert raised.value.error == Errors.INVALID_TOPIC_EXCEPTION
    assert raised.value.message == "Cannot append to internal topic __consumer_offsets."
    rejected = [e for e in cluster.journal.since(mark) if isinstance(e, ProduceRejected)]
    assert [(e.topic, e.error) for e in rejected] == [("__consumer_offsets", "INVALID_TOPIC_EXCEPTION")]
    producer = cluster.producer(acks="all")
    with pytest.raises(KafkaError) as raised:
        cluster.wait(producer.send("__consumer_offsets", b"garbage", b"k"))
    assert raised.value.error == Errors.INVALID_TOPIC_EXCEPTION
    cluster.close()
    reopened = _reopen(tmp_path / "data")
    consumer = reopened.consumer(group_id="g")
    committed = reopened.wait(consumer.committed([TopicPartition("orders", 0)]))
    assert [meta.offset for meta in committed.values()] == [1]
    reopened.close()


def test_a_data_dir_whose_offsets_topic_a_client_wrote_opens_and_says_what_it_skipped(clusters, tmp_path, monkeypatch):
    """An older kafkalab let clients write __consumer_offsets; loading it then failed on every start."""
    cluster = open_cluster(clusters, brokers=1, **ONE_OFFSETS_PARTITION)
    _commit_an_offset(cluster)
    with monkeypatch.context() as old:
        old.setattr("kafkalab.broker.replica_manager.is_internal", lambda topic: False)
        cluster.wait(cluster.produce("__consumer_offsets", 0, [(b"k", b"garbage"), (b"\x00\x01\xff\xfe", b"v")]))
    cluster.close()
    reopened = _reopen(tmp_path / "data")
    reopened.run_for(1000)
    skipped = reopened.journal.of_type(GroupRecordSkipped)
    assert [(e.partition, e.offset) for e in skipped] == [(0, 1), (0, 2)]
    assert "__consumer_offsets key ends after 1 bytes" in skipped[0].describe()
    loaded = reopened.journal.of_type(GroupCoordinatorLoaded)
    assert loaded and loaded[-1].groups == ("g",) and loaded[-1].offsets == 1
    reopened.close()


def test_deleting_a_topic_with_the_longest_name(clusters, tmp_path):
    """Kafka cuts the topic in ``<topic>-<partition>.<id>-delete`` so the renamed dir fits 255 bytes."""
    name = "t" * MAX_TOPIC_NAME_LENGTH
    cluster = open_cluster(clusters)
    wait_checked(cluster, cluster.create_topic(name, 2, 3))
    cluster.wait(cluster.produce(name, 1, [(None, b"x")]))
    wait_checked(cluster, cluster.delete_topic(name))
    cluster.run_for(1000)
    assert cluster.snapshot().topic(name) is None
    assert not [p for p in (tmp_path / "data").rglob("*") if p.name.startswith("ttt")]
    cluster.close()
    _reopen(tmp_path / "data").close()


def test_a_data_dir_holding_a_topic_name_kafka_forbids_says_why_it_cannot_open(clusters, tmp_path, monkeypatch):
    """An older kafkalab accepted ``orders\\n``; afterwards every start of that data dir timed out."""
    cluster = open_cluster(clusters)
    with monkeypatch.context() as old:
        old.setattr("kafkalab.cluster.cluster.validate_topic_name", lambda name: None)
        old.setattr("kafkalab.controller.requests.validate_topic_name", lambda name: None)
        wait_checked(cluster, cluster.create_topic("orders\n", 1, 3))
    cluster.close()
    before = sorted((str(p), p.stat().st_size) for p in (tmp_path / "data").rglob("*") if p.is_file())
    with pytest.raises(KafkaError) as raised:
        Cluster.open(tmp_path / "data")
    assert raised.value.error == Errors.DATA_DIR_INVALID
    assert "holds topic 'orders\\n', a name Kafka does not allow" in raised.value.message
    assert "--fresh" in raised.value.message and "\n" not in raised.value.message
    assert sorted((str(p), p.stat().st_size) for p in (tmp_path / "data").rglob("*") if p.is_file()) == before
    fresh = Cluster.open(tmp_path / "data", fresh=True)
    fresh.wait(fresh.start())
    fresh.close()
