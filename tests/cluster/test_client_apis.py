"""Engine APIs network clients use: topic ids, registered endpoints, CreatePartitions, DeleteGroups,
DescribeConfigs, DescribeCluster and KIP-227 fetch sessions (virtual clock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors
from kafkalab.protocol.admin import (
    ConfigResourceType,
    ConfigSource,
    CreatePartitionsRequest,
    DescribeConfigsRequest,
)
from kafkalab.protocol.fetch import FetchPartition, FetchRequest
from kafkalab.protocol.groups import DeleteGroupsRequest, FindCoordinatorRequest
from kafkalab.protocol.metadata import DescribeClusterRequest, MetadataRequest
from kafkalab.protocol.types import TopicPartition
from tests.cluster.cluster_helpers import open_cluster


def _ask(cluster: Cluster, broker_id: int, request: Any) -> Any:
    return cluster.wait(cluster.client.send(broker_id, request))


def _controller(cluster: Cluster) -> int:
    return cluster.controller_id


def test_metadata_carries_topic_ids_and_the_endpoints_brokers_registered(tmp_path: Path) -> None:
    cluster = Cluster.open(tmp_path / "c", brokers=3, seed=1)
    for broker_id, broker in cluster.brokers.items():
        broker.advertised_listener = ("127.0.0.1", 40_000 + broker_id)
    cluster.wait(cluster.start())
    cluster.wait(cluster.create_topic("orders", 2, 3))
    cluster.run_for(100)
    response = _ask(cluster, 2, MetadataRequest(("orders",)))
    assert [(b.broker_id, b.host, b.port) for b in response.brokers] == [(1, "127.0.0.1", 40_001),
                                                                           (2, "127.0.0.1", 40_002),
                                                                           (3, "127.0.0.1", 40_003)]
    assert response.topics[0].topic_id == cluster.snapshot().topic("orders").topic_id != ""
    described = _ask(cluster, 3, DescribeClusterRequest())
    assert described.cluster_id == cluster.cluster_id and described.controller_id == cluster.controller_id
    assert '"port":40001' in cluster.coordinator.tree.nodes["/brokers/ids/1"].data
    cluster.close()


def test_create_partitions_grows_a_topic_and_refuses_to_shrink_it(clusters: Clusters) -> None:
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 2, 3))
    controller = _controller(cluster)
    response = _ask(cluster, controller, CreatePartitionsRequest((("orders", 5), ("missing", 3))))
    assert response.results["orders"].error == Errors.NONE
    assert response.results["missing"].error == Errors.UNKNOWN_TOPIC_OR_PARTITION
    cluster.run_for(200)
    view = cluster.snapshot().topic("orders")
    assert len(view.partitions) == 5 and all(p.leader is not None for p in view.partitions)
    shrink = _ask(cluster, controller, CreatePartitionsRequest((("orders", 3),)))
    assert shrink.results["orders"].error == Errors.INVALID_PARTITIONS
    other = next(b for b in cluster.brokers if b != controller)
    assert _ask(cluster, other, CreatePartitionsRequest((("orders", 9),))).results["orders"].error == \
        Errors.NOT_CONTROLLER


def test_describe_configs_names_each_value_s_source(clusters: Clusters) -> None:
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 1, 3, {"retention.ms": 60_000}))
    cluster.run_for(100)
    response = _ask(cluster, 1, DescribeConfigsRequest(ConfigResourceType.TOPIC, "orders",
                                                        ("retention.ms", "segment.bytes")))
    configs = {c.name: c for c in response.configs}
    assert configs["retention.ms"].value == "60000"
    assert configs["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert configs["retention.ms"].synonyms[1][0] == "log.retention.ms"
    assert configs["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG
    missing = _ask(cluster, 1, DescribeConfigsRequest(ConfigResourceType.TOPIC, "nope"))
    assert missing.result.error == Errors.UNKNOWN_TOPIC_OR_PARTITION
    broker = _ask(cluster, 2, DescribeConfigsRequest(ConfigResourceType.BROKER, "2", ("num.partitions",)))
    assert [(c.name, c.value, c.read_only) for c in broker.configs] == [("num.partitions", "1", True)]


def test_delete_groups_refuses_a_group_with_members_and_deletes_an_empty_one(clusters: Clusters) -> None:
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 1, 3))
    consumer = cluster.consumer(group_id="billing", client_id="c1", auto_offset_reset="earliest")
    consumer.subscribe(["orders"])
    cluster.wait(consumer.poll(2000))
    cluster.run_for(5000)
    coordinator = _ask(cluster, 1, FindCoordinatorRequest("billing")).node_id
    busy = _ask(cluster, coordinator, DeleteGroupsRequest(("billing", "nobody")))
    assert dict(busy.results) == {"billing": Errors.NON_EMPTY_GROUP, "nobody": Errors.GROUP_ID_NOT_FOUND}
    cluster.wait(consumer.close())
    cluster.run_for(1000)
    done = _ask(cluster, coordinator, DeleteGroupsRequest(("billing",)))
    assert dict(done.results) == {"billing": Errors.NONE}
    assert any(e.name == "GroupDeleted" for e in cluster.journal)
    assert cluster.snapshot().group("billing") is None


def test_a_fetch_session_answers_only_partitions_with_news(clusters: Clusters) -> None:
    cluster = open_cluster(clusters, brokers=1)  # one broker leads both partitions: one session
    cluster.wait(cluster.create_topic("orders", 2, 1))
    cluster.run_for(100)
    tp0, tp1 = TopicPartition("orders", 0), TopicPartition("orders", 1)
    leader = 1
    both = {tp0: FetchPartition(0), tp1: FetchPartition(0)}
    opened = _ask(cluster, leader, FetchRequest(-1, 0, 1, 1 << 20, both, session_id=0, session_epoch=0))
    assert opened.session_id > 0 and set(opened.partitions) == {tp0, tp1}
    cluster.wait(cluster.produce("orders", 1, [(b"k", b"v")]))
    cluster.run_for(50)
    incremental = _ask(cluster, leader, FetchRequest(-1, 0, 1, 1 << 20, {}, session_id=opened.session_id,
                                                     session_epoch=1))
    assert set(incremental.partitions) == {tp1} and incremental.partitions[tp1].records
    stale = _ask(cluster, leader, FetchRequest(-1, 0, 1, 1 << 20, {}, session_id=opened.session_id, session_epoch=1))
    assert stale.error == Errors.INVALID_FETCH_SESSION_EPOCH
    unknown = _ask(cluster, leader, FetchRequest(-1, 0, 1, 1 << 20, {}, session_id=12345, session_epoch=3))
    assert unknown.error == Errors.FETCH_SESSION_ID_NOT_FOUND


def test_a_broker_view_lists_the_settings_describe_configs_says_the_broker_has(tmp_path: Path) -> None:
    cluster = Cluster.open(tmp_path / "c", brokers=2, seed=1,
                           broker_config={"log.retention.ms": 60_000, "auto.create.topics.enable": True})
    cluster.wait(cluster.start())
    for broker in cluster.snapshot().brokers:
        described = _ask(cluster, broker.broker_id, DescribeConfigsRequest(ConfigResourceType.BROKER,
                                                                           str(broker.broker_id)))
        own = tuple((c.name, c.value) for c in described.configs if c.source == ConfigSource.STATIC_BROKER_CONFIG)
        assert broker.config_overrides == own
        assert ("auto.create.topics.enable", "true") in own and ("log.retention.ms", "60000") in own
    cluster.close()


def test_a_waiting_fetch_answers_once_min_bytes_have_arrived_or_at_max_wait(clusters: Clusters) -> None:
    # Kafka 3.9 DelayedFetch.tryComplete, case G: records add up to fetch.min.bytes before it answers.
    cluster = open_cluster(clusters, brokers=1)
    cluster.wait(cluster.create_topic("orders", 1, 1))
    cluster.run_for(100)
    tp = TopicPartition("orders", 0)
    waiting = cluster.client.send(1, FetchRequest(-1, 5000, 2000, 1 << 20, {tp: FetchPartition(0)}))
    cluster.wait(cluster.produce("orders", 0, [(b"k", b"x" * 100)]))
    cluster.run_for(100)
    assert not waiting.done  # about 170 bytes: fewer than 2,000
    cluster.wait(cluster.produce("orders", 0, [(b"k", b"x" * 2000)]))
    cluster.run_for(10)
    assert waiting.done and len(waiting.result().partitions[tp].records) > 2000
    timed_out = cluster.client.send(1, FetchRequest(-1, 300, 100_000, 1 << 20, {tp: FetchPartition(0)}))
    cluster.run_for(250)
    assert not timed_out.done
    cluster.run_for(100)
    assert timed_out.done and timed_out.result().partitions[tp].records  # what there is, at max wait


def test_a_consumer_fetch_past_the_high_watermark_is_answered_at_once(clusters: Clusters) -> None:
    # Kafka 3.9 DelayedFetch.tryComplete, case F: a fetch offset past the end it may read (here the
    # high watermark, while a follower that cannot fetch holds it back) answers now, with no records.
    cluster = open_cluster(clusters, brokers=2)
    cluster.wait(cluster.create_topic("orders", 1, 2))
    cluster.run_for(1000)
    tp = TopicPartition("orders", 0)
    leader = cluster.snapshot().topic("orders").partitions[0].leader
    follower = 2 if leader == 1 else 1
    cluster.cut_link(leader, follower)
    cluster.wait(cluster.produce("orders", 0, [(b"k", b"v")], acks=1))
    cluster.run_for(10)
    waiting = cluster.client.send(leader, FetchRequest(-1, 5000, 1, 1 << 20, {tp: FetchPartition(1)}))
    cluster.run_for(10)
    assert waiting.done
    answer = waiting.result().partitions[tp]
    assert answer.error == Errors.NONE and answer.high_watermark == 0 and not answer.records
