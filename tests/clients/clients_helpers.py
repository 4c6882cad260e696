"""Helpers for producer and consumer tests: a started cluster and a way to lose one acknowledgement."""

from __future__ import annotations

from typing import Any

from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.events.cluster import HighWatermarkAdvanced
from kafkalab.events.journal import Event


def open_cluster(clusters: Clusters, topic: str = "orders", partitions: int = 3, replication: int = 3,
                 config: dict[str, Any] | None = None, topic_config: dict[str, Any] | None = None,
                 mode: str = "zookeeper") -> Cluster:
    """A started 3-broker cluster (no initial rebalance delay) with one topic, closed by the ``clusters`` fixture."""
    cluster = clusters.open(brokers=3, seed=7, broker_config={"group.initial.rebalance.delay.ms": 0, **(config or {})},
                            mode=mode)
    cluster.wait(cluster.create_topic(topic, partitions, replication, topic_config))
    return cluster


def lose_next_ack(cluster: Cluster, client_id: str, topic: str, partition: int, heal_after_ms: float = 1000) -> None:
    """When the partition's leader next commits a write, cut its link to the client until ``heal_after_ms`` later.

    The append succeeded and is replicated, but its acknowledgement is lost on the way: the
    client times out and retries, exactly the case idempotence exists for.
    """
    armed = [True]

    def on_event(event: Event) -> None:
        if armed[0] and isinstance(event, HighWatermarkAdvanced) and event.topic == topic \
                and event.partition == partition:
            armed[0] = False
            cluster.cut_link(event.broker_id, client_id)
            cluster.scheduler.call_later(heal_after_ms, cluster.heal_link, event.broker_id, client_id)

    cluster.journal.subscribe(on_event)


def events(cluster: Cluster, since: int, event_type: type[Event]) -> list[Any]:
    return [e for e in cluster.journal.since(since) if isinstance(e, event_type)]
