"""Nothing fails unseen: a follower isolates a failure to its partition, and a failing process becomes an event."""

from __future__ import annotations

from typing import Any

import pytest
from cluster_helpers import FAST, open_cluster, partition, run_checked, wait_checked
from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.failures import ProcessFailed, ReplicaFetchFailed
from kafkalab.storage.files import LOG_SUFFIX


def _replica_end(cluster: Cluster, topic: str, number: int, broker_id: int) -> int:
    view = partition(cluster, topic, number)
    return next(r.log_end_offset for r in view.replica_views if r.broker_id == broker_id)


def test_a_batch_larger_than_a_lowered_segment_bytes_still_reaches_the_follower(clusters: Clusters) -> None:
    """The reported bug: the follower's append failed, its fetcher died, and it replicated nothing more from that leader."""
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3))
    wait_checked(cluster, cluster.create_topic("audit", 3, 3))
    leader = partition(cluster, "orders", 0).leader
    assert leader is not None
    follower = next(b for b in partition(cluster, "orders", 0).replicas if b != leader)
    cluster.cut_link(leader, follower)
    wait_checked(cluster, cluster.produce("orders", 0, [(None, b"x" * 500)], acks=1))
    wait_checked(cluster, cluster.alter_topic_config("orders", {"segment.bytes": 200}))
    cluster.heal_link(leader, follower)
    run_checked(cluster, 40_000)  # the fetch lost on the cut link times out first (request.timeout.ms)
    led = next(p for p in cluster.snapshot().topic("audit").partitions if p.leader == leader)
    wait_checked(cluster, cluster.produce("audit", led.partition, [(None, b"later")], acks=-1))
    run_checked(cluster, 2_000)

    assert _replica_end(cluster, "orders", 0, follower) == 1
    assert _replica_end(cluster, "audit", led.partition, follower) == 1
    assert follower in partition(cluster, "orders", 0).isr
    # The follower keeps the leader's batch whole, larger than segment.bytes (KAFKA-17375).
    segments = (cluster.data_dir.broker_dir(follower) / "orders-0").glob(f"*{LOG_SUFFIX}")
    assert max(path.stat().st_size for path in segments) > 500


def _break_appends(monkeypatch: pytest.MonkeyPatch, cluster: Cluster, broker_id: int, topic: str, number: int,
                   error: BaseException) -> None:
    """Make one follower's appends to one partition fail with ``error`` (a disk fault, a bug)."""
    log: Any = next(p.log for tp, p in cluster.broker(broker_id).replicas.partitions.items()
                    if (tp.topic, tp.partition) == (topic, number))

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(log, "append_as_follower", fail)


@pytest.mark.parametrize("error, name, bug", [
    (KafkaError(Errors.KAFKA_STORAGE_ERROR, "Error while appending records to orders-0."), "KAFKA_STORAGE_ERROR", False),
    (OSError(28, "No space left on device"), "KAFKA_STORAGE_ERROR", False),
    (ZeroDivisionError("division by zero"), "ZeroDivisionError", True),
])
def test_a_partition_a_follower_cannot_append_is_marked_failed_and_its_others_keep_replicating(
        clusters: Clusters, monkeypatch: pytest.MonkeyPatch, error: BaseException, name: str, bug: bool) -> None:
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 6, 3))
    run_checked(cluster, 1_000)
    leader = partition(cluster, "orders", 0).leader
    assert leader is not None
    broken, healthy = [p.partition for p in cluster.snapshot().topic("orders").partitions if p.leader == leader][:2]
    follower = next(b for b in partition(cluster, "orders", broken).replicas if b != leader)
    _break_appends(monkeypatch, cluster, follower, "orders", broken, error)
    for number in (broken, healthy):
        wait_checked(cluster, cluster.produce("orders", number, [(None, b"one")], acks=1))
    run_checked(cluster, 2_000)
    for number in (broken, healthy):
        wait_checked(cluster, cluster.produce("orders", number, [(None, b"two")], acks=1))
    run_checked(cluster, 2_000)

    assert _replica_end(cluster, "orders", healthy, follower) == 2
    assert _replica_end(cluster, "orders", broken, follower) == 0
    failures = clusters.acknowledge(cluster)
    fetch_failures = [e for e in failures if isinstance(e, ReplicaFetchFailed)]
    assert [(e.broker_id, e.leader_id, e.topic, e.partition, e.fetch_offset, e.error, e.retrying)
            for e in fetch_failures] == [(follower, leader, "orders", broken, 0, name, False)]
    assert f"orders-{broken}" in fetch_failures[0].describe()
    bugs = [e for e in failures if isinstance(e, ProcessFailed)]
    assert [(e.owner, e.error, e.bug) for e in bugs] == ([(f"broker-{follower}", name, True)] if bug else [])

    # The failed partition fetches again when the controller next sends LeaderAndIsr for it.
    monkeypatch.undo()
    cluster.shutdown_broker(leader)
    run_checked(cluster, 10_000)
    assert _replica_end(cluster, "orders", broken, follower) == partition(cluster, "orders", broken).log_end_offset


def test_a_failing_engine_callback_becomes_an_event_and_the_cluster_goes_on(clusters: Clusters) -> None:
    cluster = open_cluster(clusters)

    def broken_check() -> None:
        raise ValueError("an internal check went wrong")

    cluster.scheduler.call_later(10, broken_check)
    run_checked(cluster, 100)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3))
    [failure] = clusters.acknowledge(cluster)
    assert isinstance(failure, ProcessFailed) and failure.bug
    assert (failure.owner, failure.error, failure.message) == ("engine", "ValueError", "an internal check went wrong")
    assert failure.process.endswith("broken_check") and failure.where.startswith("test_nothing_fails_unseen.py:")
    assert "a bug in kafkalab" in failure.describe()


def test_a_test_that_leaves_a_failure_unread_fails(tmp_path: Any) -> None:
    with pytest.raises(AssertionError, match="NOT_ENOUGH_REPLICAS"), Clusters(tmp_path) as clusters:
        cluster = clusters.open(brokers=1)

        def refuse() -> None:
            raise KafkaError(Errors.NOT_ENOUGH_REPLICAS)

        cluster.scheduler.call_soon(refuse)
        cluster.run_for(1)
    assert cluster.closed
