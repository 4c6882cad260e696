"""Topic deletion as Kafka's controller does it: persisted first, halted by a down broker, resumed after failover."""

from __future__ import annotations

import pytest
from campaign_checks import deletion_leftovers
from cluster_helpers import (
    FAST,
    events_since,
    open_cluster,
    run_checked,
    values,
    wait_checked,
)

from kafkalab.coordination import paths
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import TopicCreated, TopicDeleted, TopicMarkedForDeletion


def _produce_to_every_partition(cluster, topic, partitions):
    for number in range(partitions):
        wait_checked(cluster, cluster.produce(topic, number, [(None, b"v")], acks=-1))


def _run_until_znode(cluster, path):
    assert cluster.scheduler.run_while(lambda: path not in cluster.coordinator.tree.nodes, 1000), path


def test_a_down_broker_halts_the_deletion_until_it_is_back(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("gone", 2, 3))
    _produce_to_every_partition(cluster, "gone", 2)
    down = next(b for b in (1, 2, 3) if b != cluster.controller_id)
    cluster.kill_broker(down)
    run_checked(cluster, 8000)
    seq = cluster.journal.last_seq

    with pytest.raises(KafkaError) as caught:
        wait_checked(cluster, cluster.delete_topic("gone"))

    assert caught.value.error == Errors.REQUEST_TIMED_OUT
    assert [e.offline_replica_brokers for e in events_since(cluster, seq, TopicMarkedForDeletion)] == [(down,)]
    assert events_since(cluster, seq, TopicDeleted) == []
    assert cluster.snapshot().topic("gone") is not None, "the topic stays in ZooKeeper until every replica is gone"
    assert all(f"broker-{down}" in leftover for leftover in deletion_leftovers(cluster, "gone")
               if not leftover.startswith("znode")), "the live brokers deleted their replicas"
    elections = wait_checked(cluster, cluster.elect_preferred_leaders())
    assert {tp.partition: result.error for tp, result in elections.items() if tp.topic == "gone"} == {
        0: Errors.INVALID_TOPIC_EXCEPTION, 1: Errors.INVALID_TOPIC_EXCEPTION}, "no election touches it"

    wait_checked(cluster, cluster.restart_broker(down))
    run_checked(cluster, 2000)

    assert [e.topic for e in events_since(cluster, seq, TopicDeleted)] == ["gone"]
    assert deletion_leftovers(cluster, "gone") == []


def test_a_new_controller_finishes_the_deletion_its_predecessor_began(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("gone", 2, 3))
    _produce_to_every_partition(cluster, "gone", 2)
    controller = cluster.controller_id
    seq = cluster.journal.last_seq
    deletion = cluster.delete_topic("gone")
    _run_until_znode(cluster, paths.delete_topic_path("gone"))

    cluster.kill_broker(controller)
    run_checked(cluster, 10_000)

    assert deletion.done, "the admin client gave up on the dead controller or heard from the new one"
    assert cluster.controller_id not in (-1, controller)
    marked = events_since(cluster, seq, TopicMarkedForDeletion)
    assert [e.offline_replica_brokers for e in marked] == [(controller,)], "the new controller took it up"
    wait_checked(cluster, cluster.restart_broker(controller))
    run_checked(cluster, 2000)
    assert [e.topic for e in events_since(cluster, seq, TopicDeleted)] == ["gone"], "nobody had to ask again"
    assert deletion_leftovers(cluster, "gone") == []
    wait_checked(cluster, cluster.create_topic("gone", 1, 3))
    _produce_to_every_partition(cluster, "gone", 1)
    assert values(wait_checked(cluster, cluster.fetch("gone", 0, 0))) == [b"v"]


def test_a_config_left_by_a_creation_cut_short_does_not_block_the_next_attempt(clusters):
    cluster = open_cluster(clusters, **FAST)
    controller = cluster.controller_id
    seq = cluster.journal.last_seq
    creation = cluster.create_topic("t", 1, 2, {"retention.ms": 60_000})
    _run_until_znode(cluster, paths.topic_config_path("t"))

    cluster.kill_broker(controller)  # before it wrote /brokers/topics/t
    with pytest.raises(KafkaError):
        wait_checked(cluster, creation)  # no controller answers for a session timeout
    run_checked(cluster, 5000)
    wait_checked(cluster, cluster.create_topic("t", 1, 2, {"retention.ms": 60_000}))

    assert [e.topic for e in events_since(cluster, seq, TopicCreated)] == ["t"]
    assert cluster.topic_config("t").retention_ms == 60_000
