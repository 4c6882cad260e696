"""Attached to ``kafkalab serve`` through confluent-kafka, kafkalab's views equal the lab's own views of the
same cluster after each step, and the observed timeline names the leader changes the lab made."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("confluent_kafka")

from kafkalab.actions.client_actions import Produce
from kafkalab.actions.cluster_actions import AlterConfig, CreateTopic, DeleteTopic, DescribeTopic, KillBroker
from kafkalab.actions.results import CreateTopicResult, DescribeTopicResult, ProduceResult
from kafkalab.attach.actions import RealClientActions
from kafkalab.attach.client import client_config
from kafkalab.attach.observe import Observer
from kafkalab.attach.source import AttachSource
from kafkalab.clients.partitioners import partition_for_key
from kafkalab.events.cluster import LeaderElected
from kafkalab.events.observed import (
    ObservedBrokerLeft,
    ObservedIsrShrank,
    ObservedLeaderMoved,
    ObservedMemberJoined,
    ObservedTopicCreated,
)
from tests.attach.lab_server import LabServer
from tests.attach.projection import agreeing, projection


def _leaders(projected: dict[str, Any], topic: str) -> list[int | None]:
    return next([p[1] for p in t[5]] for t in projected["topics"] if t[0] == topic)


def test_views_and_timeline_follow_topics_a_group_and_a_killed_broker(lab: LabServer) -> None:
    source = AttachSource(Observer(client_config(lab.bootstrap), timeout_s=5.0), 1.0)
    first = agreeing(lab, source)
    assert first.view.cluster_id == lab.view().cluster_id != ""
    # Broker configs through DescribeConfigs of each broker: the settings the lab was started with (and the offsets
    # topic's replication factor it sets for three brokers), on every broker, as the lab's own view has them.
    assert {b.config_overrides for b in first.view.brokers} == {
        (("offsets.topic.replication.factor", "3"), ("zookeeper.session.timeout.ms", "4000"))}

    lab.act("create_topic: {name: orders, partitions: 3, replication_factor: 3}")
    lab.act("create_topic: {name: audit, partitions: 2, replication_factor: 2, config: {retention.ms: 3600000}}")
    lab.act("produce: {topic: orders, count: 60, key: 'k{i}'}")
    lab.act("start_consumer: {group: billing, client_id: c1, topics: [orders], auto_offset_reset: earliest, "
            "enable_auto_commit: false}")
    lab.act("start_consumer: {group: billing, client_id: c2, topics: [orders], auto_offset_reset: earliest, "
            "enable_auto_commit: false}")
    stable = agreeing(lab, source, until=lambda p: any(g[0] == "billing" and g[1] == "Stable" and len(g[6]) == 2
                                                         for g in p["groups"]))
    lab.act("commit: {group: billing, client_id: c1}")
    lab.act("commit: {group: billing, client_id: c2}")
    lab.act("produce: {topic: orders, count: 25, key: 'later{i}'}")
    # LAG: the 25 later records the group has not committed (the consumers poll, but only commits count).
    with_lag = agreeing(lab, source, until=lambda p: any(g[0] == "billing" and g[8] == 25 for g in p["groups"]))
    orders = with_lag.view.topic("orders")
    assert orders is not None and all(p.leader_epoch >= 0 for p in orders.partitions)  # from ListOffsets, as Kafka
    audit = with_lag.view.topic("audit")
    assert audit is not None and audit.config_overrides == (("retention.ms", "3600000"),)
    # Every topic config kafkalab implements, with its source, as DescribeConfigs answers it (the projection
    # compared them with the lab's): the override, a broker setting the cluster sets, or Kafka's default.
    sources = {entry.name: (entry.value, entry.source) for entry in audit.configs}
    assert sources["retention.ms"] == ("3600000", "DYNAMIC_TOPIC_CONFIG")
    assert sources["segment.bytes"] == ("1073741824", "DEFAULT_CONFIG")
    assert len(audit.configs) == 18
    assert {entry.source for b in first.view.brokers for entry in b.settings} == {"STATIC_BROKER_CONFIG"}

    before = _leaders(projection(with_lag.view), "orders")
    seq = with_lag.view.last_event_seq
    lab.act("kill_broker: 2")
    after = agreeing(lab, source, timeout_s=90.0, until=lambda p: 2 not in _leaders(p, "orders") and
                      all(2 not in partition[4] for t in p["topics"] for partition in t[5]))
    assert 2 in before

    observed = source.events_since(0)
    assert any(isinstance(e, ObservedTopicCreated) and e.topic == "orders" for e in observed)
    assert {e.client_id for e in observed if isinstance(e, ObservedMemberJoined)} >= {"c1", "c2"}
    since_kill = [e for e in observed if e.seq > seq]
    assert any(isinstance(e, ObservedBrokerLeft) and e.broker_id == 2 for e in since_kill)
    assert any(isinstance(e, ObservedIsrShrank) and 2 in e.removed for e in since_kill)
    moved = {(e.topic, e.partition, e.leader) for e in since_kill if isinstance(e, ObservedLeaderMoved)
             and not e.topic.startswith("__")}
    elected = {(e.topic, e.partition, e.leader) for e in lab.events() if isinstance(e, LeaderElected)
               and e.previous_leader == 2 and not e.topic.startswith("__")}
    assert moved == elected and moved
    assert after.view.broker(2) is not None and after.view.broker(2).state == "not running"
    assert all("Observed" in e.describe() for e in observed)
    assert stable.view.group("billing") is not None


def test_actions_run_through_the_real_client_and_lab_steps_are_refused(lab: LabServer) -> None:
    source = AttachSource(Observer(client_config(lab.bootstrap), timeout_s=5.0), 1.0)
    actions = RealClientActions(client_config(lab.bootstrap), lambda: source.poll_once().view, allow_writes=True)
    created = actions.run(CreateTopic("payments", 2, 2, {"retention.ms": 60000}))
    assert created.error is None and created.result == CreateTopicResult("payments", 2, 2)
    produced = actions.run(Produce("payments", key="k{i}", count=20))
    assert produced.error is None and isinstance(produced.result, ProduceResult)
    # The keyed partitioner is Kafka's: murmur2 of the key, as in the lab.
    assert [r.partition for r in produced.result.records] == [partition_for_key(f"k{i}".encode(), 2) for i in range(20)]
    altered = actions.run(AlterConfig("payments", {"min.insync.replicas": 2}, ("retention.ms",)))
    assert altered.error is None
    own = lab.view().topic("payments")
    assert own is not None and own.config_overrides == (("min.insync.replicas", "2"),)
    assert sum(p.high_watermark for p in own.partitions) == 20
    described = actions.run(DescribeTopic("payments"))
    assert isinstance(described.result, DescribeTopicResult)
    assert [p.high_watermark for p in described.result.partitions] == [p.high_watermark for p in own.partitions]

    again = actions.run(CreateTopic("payments", 2, 2))
    assert again.error is not None and again.error.name == "TOPIC_ALREADY_EXISTS"
    killed = actions.run(KillBroker(1))
    assert killed.error is not None and killed.error.name == "LAB_ONLY" and "operator" in killed.error.message
    read_only = RealClientActions(client_config(lab.bootstrap), lambda: None, allow_writes=False)
    refused = read_only.run(DeleteTopic("payments"))
    assert refused.error is not None and refused.error.name == "CLUSTER_READ_ONLY"
    assert lab.view().topic("payments") is not None
    assert actions.run(DeleteTopic("payments")).error is None
