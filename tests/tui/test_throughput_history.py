"""Throughput samples: records/s per topic and broker, once per second of virtual time."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from kafkalab.tui.history import SAMPLES, ThroughputHistory
from kafkalab.views import ClusterView


def view(time_ms: float, ends: dict[str, list[int]], records_in: dict[int, int]) -> ClusterView:
    """The parts of a cluster view the history reads: time, each topic's partitions' log ends, each broker's count."""
    topics = tuple(SimpleNamespace(name=name, partitions=tuple(SimpleNamespace(log_end_offset=end) for end in partition_ends))
                   for name, partition_ends in ends.items())
    brokers = tuple(SimpleNamespace(broker_id=broker_id, records_in=count) for broker_id, count in records_in.items())
    return cast("ClusterView", SimpleNamespace(time_ms=time_ms, topics=topics, brokers=brokers))


def test_a_sample_counts_from_the_view_a_second_before_whatever_came_between() -> None:
    history = ThroughputHistory()
    assert not history.add(view(0, {"orders": [0, 0]}, {1: 0}))
    assert not history.add(view(400, {"orders": [7, 3]}, {1: 30}))
    assert history.add(view(2000, {"orders": [100, 50]}, {1: 600}))
    assert history.topics["orders"][-1] == 75.0 and len(history.topics["orders"]) == SAMPLES
    assert history.brokers[1][-1] == 300.0
    assert not history.add(view(2500, {"orders": [200, 50]}, {1: 600}))
    # A topic gone since is dropped; a counter moving back (a truncated log) is no negative traffic.
    assert history.add(view(3000, {"events": [4]}, {1: 500}))
    assert set(history.topics) == {"events"} and history.topics["events"][-1] == 0.0
    assert history.brokers[1][-1] == 0.0


def test_time_going_back_starts_counting_again() -> None:
    history = ThroughputHistory()
    history.add(view(5000, {"orders": [10]}, {1: 10}))
    assert not history.add(view(1000, {"orders": [0]}, {1: 0}))
    assert history.add(view(2000, {"orders": [20]}, {1: 40}))
    assert history.topics["orders"][-1] == 20.0 and history.brokers[1][-1] == 40.0
