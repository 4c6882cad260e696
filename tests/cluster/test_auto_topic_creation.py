"""auto.create.topics.enable, as Kafka 3.9's AutoTopicCreationManager answers Metadata (virtual clock)."""

from __future__ import annotations

from typing import Any

import pytest
from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.metadata import MetadataRequest
from tests.cluster.cluster_helpers import open_cluster


def _metadata(cluster: Cluster, broker_id: int, *topics: str, allow: bool = True) -> dict[str, Errors]:
    response: Any = cluster.wait(cluster.client.send(broker_id, MetadataRequest(topics, allow, "test-client")))
    return {t.name: t.error for t in response.topics}


def test_a_producer_creates_its_topic_with_the_brokers_defaults(clusters: Clusters) -> None:
    cluster = open_cluster(clusters, **{"auto.create.topics.enable": True, "num.partitions": 3,
                                        "default.replication.factor": 2})
    producer = cluster.producer(client_id="p1")
    result = cluster.wait(producer.send("fresh", b"first", key=b"k"))
    assert result.topic == "fresh" and result.offset == 0
    view = cluster.snapshot().topic("fresh")
    assert view is not None and len(view.partitions) == 3
    assert {len(p.replicas) for p in view.partitions} == {2}
    requested = [e for e in cluster.journal if e.name == "TopicAutoCreationRequested"]
    assert len(requested) == 1 and requested[0].topic == "fresh" and requested[0].client_id == "p1"
    assert "auto-created topic fresh (3 partition(s), replication factor 2)" in requested[0].describe()
    assert [e.name for e in cluster.journal if e.name == "TopicCreated"] == ["TopicCreated"]
    cluster.wait(producer.close())


def test_the_first_answer_is_leader_not_available_then_the_topic_is_there(clusters: Clusters) -> None:
    cluster = open_cluster(clusters, **{"auto.create.topics.enable": True})
    assert _metadata(cluster, 2, "fresh") == {"fresh": Errors.LEADER_NOT_AVAILABLE}
    cluster.run_for(500)
    assert _metadata(cluster, 3, "fresh") == {"fresh": Errors.NONE}
    assert cluster.snapshot().topic("fresh") is not None


def test_nothing_is_created_when_the_broker_or_the_client_says_no(clusters: Clusters) -> None:
    cluster = open_cluster(clusters, **{"auto.create.topics.enable": True})
    assert _metadata(cluster, 1, "kept-out", allow=False) == {"kept-out": Errors.UNKNOWN_TOPIC_OR_PARTITION}
    consumer = cluster.consumer(group_id="g", allow_auto_create_topics=False)
    consumer.subscribe(["also-out"])
    for _ in range(5):  # long enough for the group to form and the leader to ask for its topics (it does by default)
        cluster.wait(consumer.poll(1000))
    assert cluster.snapshot().topic("kept-out") is None and cluster.snapshot().topic("also-out") is None
    assert not [e for e in cluster.journal if e.name == "TopicAutoCreationRequested"]
    cluster.wait(consumer.close())


def test_by_default_a_typo_stays_unknown_and_the_producer_gives_up_after_max_block_ms(clusters: Clusters) -> None:
    default = open_cluster(clusters)
    assert _metadata(default, 1, "typo") == {"typo": Errors.UNKNOWN_TOPIC_OR_PARTITION}
    producer = default.producer(max_block_ms=1000)
    sent = producer.send("typo", b"x")
    default.run_for(2000)
    assert isinstance(sent.error, KafkaError) and sent.error.error is Errors.UNKNOWN_TOPIC_OR_PARTITION
    assert default.snapshot().topic("typo") is None


@pytest.mark.parametrize("enabled", [True, False])
def test_a_name_kafka_would_refuse_is_invalid_topic_and_never_created(clusters: Clusters, enabled: bool) -> None:
    cluster = open_cluster(clusters, **{"auto.create.topics.enable": enabled})
    assert _metadata(cluster, 1, "bad name!", "..") == {"bad name!": Errors.INVALID_TOPIC_EXCEPTION,
                                                        "..": Errors.INVALID_TOPIC_EXCEPTION}
    assert cluster.snapshot().topic("bad name!") is None


def test_a_replication_factor_above_the_live_brokers_is_the_clients_answer(clusters: Clusters) -> None:
    cluster = open_cluster(clusters, **{"auto.create.topics.enable": True, "default.replication.factor": 5})
    assert _metadata(cluster, 1, "too-wide") == {"too-wide": Errors.INVALID_REPLICATION_FACTOR}
    assert cluster.snapshot().topic("too-wide") is None
