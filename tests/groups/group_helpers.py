"""Helpers for consumer group tests: a started cluster, consumers that keep polling, checked time steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lab_clusters import Clusters

from kafkalab.clients.consumer_loop import PollLoop
from kafkalab.cluster.cluster import Cluster
from kafkalab.cluster.group_invariants import assert_group_invariants
from kafkalab.cluster.invariants import assert_invariants
from kafkalab.events.journal import Event
from kafkalab.views import GroupView

#: No initial rebalance delay, so a new group forms at once (Kafka's tests set this too).
NO_DELAY = {"group.initial.rebalance.delay.ms": 0}


def open_cluster(clusters: Clusters, brokers: int = 3, seed: int = 1, config: dict[str, Any] | None = None) -> Cluster:
    """A started cluster with broker config overrides, closed and checked by the ``clusters`` fixture."""
    return clusters.open(brokers=brokers, seed=seed, broker_config={**NO_DELAY, **(config or {})})


def produce(cluster: Cluster, topic: str, count: int, key: Callable[[int], str | None] = lambda i: f"key-{i % 7}",
            start: int = 0) -> None:
    """Send ``count`` records ``value-<n>`` and wait until all are acknowledged."""
    producer = cluster.producer()
    futures = [producer.send(topic, f"value-{n}", key=key(n)) for n in range(start, start + count)]
    cluster.wait(producer.close())
    for future in futures:
        future.result()


def consumers(cluster: Cluster, count: int, group: str = "g", topics: Sequence[str] = ("orders",),
              **settings: Any) -> list[PollLoop]:
    """``count`` subscribed consumers, each in a poll loop."""
    loops = []
    for _ in range(count):
        consumer = cluster.consumer(group_id=group, auto_offset_reset="earliest", **settings)
        consumer.subscribe(list(topics))
        loops.append(PollLoop(consumer).start())
    return loops


def run_checked(cluster: Cluster, duration_ms: float, loops: Sequence[PollLoop] = (), step_ms: float = 1000.0) -> None:
    """Let time pass, checking replication and group invariants every ``step_ms``."""
    end = cluster.scheduler.now_ms + duration_ms
    while cluster.scheduler.now_ms < end:
        cluster.run_for(min(step_ms, end - cluster.scheduler.now_ms))
        assert_invariants(cluster)
        assert_group_invariants(cluster, [loop.consumer for loop in loops if loop.running])


def owned(loops: Sequence[PollLoop]) -> list[list[str]]:
    """Each consumer's partitions, as sorted names."""
    return [sorted(str(tp) for tp in loop.consumer.assignment()) for loop in loops]


def group(cluster: Cluster, group_id: str = "g") -> GroupView:
    view = cluster.snapshot().group(group_id)
    assert view is not None, f"no coordinator knows group {group_id}"
    return view


def events(cluster: Cluster, since: int, event_type: type[Event]) -> list[Any]:
    return [e for e in cluster.journal.since(since) if isinstance(e, event_type)]


def values(loop: PollLoop) -> list[str]:
    return [record.value.decode() for record in loop.records if record.value is not None]
