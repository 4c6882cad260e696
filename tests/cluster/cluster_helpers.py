"""Shared helpers for cluster tests: open a started cluster, step time with invariant checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from kafkalab.cluster.cluster import Cluster
from kafkalab.cluster.invariants import assert_invariants
from kafkalab.events.journal import Event
from kafkalab.sim.process import Future
from kafkalab.views import PartitionView

if TYPE_CHECKING:  # fault_campaign.py imports this module as a script, without tests/ on the path
    from lab_clusters import Clusters

T = TypeVar("T")

#: Broker settings that keep fault tests short in virtual time (ZooKeeper's minimum session is 4 s).
FAST = {"zookeeper.session.timeout.ms": 6000, "replica.lag.time.max.ms": 10_000}


def open_cluster(clusters: Clusters, brokers: int = 3, seed: int = 1, **config: Any) -> Cluster:
    """A started cluster with ``config`` broker overrides, closed and checked by the ``clusters`` fixture."""
    cluster = clusters.open(brokers=brokers, seed=seed, broker_config=config)
    assert_invariants(cluster)
    return cluster


def run_checked(cluster: Cluster, duration_ms: float, step_ms: float = 50.0) -> None:
    """Let ``duration_ms`` pass, checking the invariants every ``step_ms``."""
    end = cluster.scheduler.now_ms + duration_ms
    while cluster.scheduler.now_ms < end:
        cluster.run_for(min(step_ms, end - cluster.scheduler.now_ms))
        assert_invariants(cluster)


def wait_checked(cluster: Cluster, future: Future[T], timeout_ms: float = 120_000, step_ms: float = 50.0) -> T:
    """Like ``cluster.wait``, checking the invariants every ``step_ms`` of virtual time."""
    end = cluster.scheduler.now_ms + timeout_ms
    while not future.done:
        assert cluster.scheduler.now_ms < end, f"not done within {timeout_ms} ms"
        cluster.scheduler.run_while(lambda: not future.done, step_ms)
        assert_invariants(cluster)
    return future.result()


def partition(cluster: Cluster, topic: str, number: int) -> PartitionView:
    """The partition's current view."""
    view = cluster.snapshot().partition(topic, number)
    assert view is not None
    return view


def events_since(cluster: Cluster, seq: int, event_type: type[Event]) -> list[Any]:
    """Events of ``event_type`` emitted after sequence number ``seq``."""
    return [event for event in cluster.journal.since(seq) if isinstance(event, event_type)]


def values(records: list[Any]) -> list[bytes | None]:
    """The values of fetched records, in offset order."""
    return [record.value for record in records]
