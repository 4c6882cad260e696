"""ClusterView.countdowns: what the cluster waits for ends exactly when the countdown says (virtual clock)."""

from __future__ import annotations

from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.events.coordination import SessionExpired
from kafkalab.events.groups import MemberRemoved
from kafkalab.views import Countdown
from tests.cluster.cluster_helpers import open_cluster


def _countdowns(cluster: Cluster) -> dict[str, Countdown]:
    return {countdown.what: countdown for countdown in cluster.snapshot().countdowns}


def test_a_healthy_cluster_waits_for_nothing(clusters: Clusters) -> None:
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 3, 3))
    cluster.run_for(30_000)
    assert cluster.snapshot().countdowns == ()


def test_a_killed_brokers_session_expires_when_its_countdown_ends(clusters: Clusters) -> None:
    cluster = open_cluster(clusters)
    cluster.kill_broker(2)
    countdown = _countdowns(cluster)["broker 2's ZooKeeper session expires"]
    assert countdown.setting == "zookeeper.session.timeout.ms"
    cluster.run_for(countdown.due_ms - cluster.scheduler.now_ms + 1)
    expired = cluster.journal.of_type(SessionExpired)
    assert [event.time_ms for event in expired] == [countdown.due_ms]
    assert cluster.snapshot().countdowns == ()


def test_a_broker_cut_off_from_zookeeper_counts_down_once_it_misses_a_ping(clusters: Clusters) -> None:
    cluster = open_cluster(clusters)
    cluster.cut_link(1, "zk")
    assert cluster.snapshot().countdowns == ()  # it pinged a moment ago: nothing is overdue yet
    cluster.run_for(6_100)  # a third of zookeeper.session.timeout.ms (18 s) without a ping
    assert list(_countdowns(cluster)) == ["broker 1's ZooKeeper session expires"]


def test_a_crashed_consumer_is_removed_when_its_countdown_ends(clusters: Clusters) -> None:
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 3, 3))
    consumer = cluster.consumer(group_id="g", client_id="c1")
    consumer.subscribe(["orders"])
    for _ in range(10):
        cluster.wait(consumer.poll(500))
    assert cluster.snapshot().countdowns == ()
    consumer.crash()
    countdown = _countdowns(cluster)["group g removes c1 (no heartbeat)"]
    assert countdown.setting == "session.timeout.ms"
    cluster.run_for(countdown.due_ms - cluster.scheduler.now_ms + 1)
    assert [event.time_ms for event in cluster.journal.of_type(MemberRemoved)] == [countdown.due_ms]


def test_the_first_rebalance_counts_down_its_delay_and_retention_its_check_once_a_topic_has_its_own(
        clusters: Clusters) -> None:
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 3, 3))
    consumer = cluster.consumer(group_id="g", client_id="c1")
    consumer.subscribe(["orders"])
    poll = consumer.poll(5000)
    while "group g's first rebalance stops waiting for more members" not in _countdowns(cluster):
        cluster.run_for(10)
    assert _countdowns(cluster)["group g's first rebalance stops waiting for more members"].setting == \
        "group.initial.rebalance.delay.ms"
    cluster.wait(poll)
    cluster.wait(cluster.alter_topic_config("orders", {"retention.ms": 60_000}))
    check = _countdowns(cluster)
    assert [c.setting for c in check.values()] == ["log.retention.check.interval.ms"]
    assert 0 < next(iter(check.values())).due_ms - cluster.scheduler.now_ms <= 300_000
    consumer.crash()
