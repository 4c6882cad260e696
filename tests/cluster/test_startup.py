"""A broker whose ZooKeeper session expires during startup exits, as Kafka's does, and starts afresh."""

from __future__ import annotations

import pytest
from cluster_helpers import FAST, events_since, open_cluster, run_checked, wait_checked

from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import BrokerStartupFailed, BrokerStopped
from kafkalab.server.broker import BrokerState


def test_a_session_expiring_before_registration_stops_the_broker_and_it_can_start_again(clusters):
    cluster = open_cluster(clusters, **FAST)
    cluster.kill_broker(3)
    run_checked(cluster, 8000)
    seq = cluster.journal.last_seq
    starting = cluster.restart_broker(3)
    assert cluster.scheduler.run_while(lambda: not cluster.brokers[3].zk.connected, 1000)
    cluster.cut_link(3, "zk")  # its session is open; it has not registered /brokers/ids/3 yet
    run_checked(cluster, 8000)
    cluster.heal_link(3, "zk")
    run_checked(cluster, 3000)

    assert [e.broker_id for e in events_since(cluster, seq, BrokerStartupFailed)] == [3]
    assert [e.broker_id for e in events_since(cluster, seq, BrokerStopped)] == [3]
    assert not cluster.brokers[3].running
    with pytest.raises(KafkaError) as caught:
        starting.result()
    assert caught.value.error == Errors.BROKER_NOT_AVAILABLE

    wait_checked(cluster, cluster.restart_broker(3))
    assert cluster.brokers[3].state == BrokerState.RUNNING


def test_a_broker_whose_registration_the_controller_sees_first_still_gets_its_metadata_and_replicas(clusters):
    cluster = open_cluster(clusters, **FAST)
    cluster.wait(cluster.create_topic("orders", 3, 3))
    run_checked(cluster, 2000)
    controller = cluster.snapshot().controller_id
    restarted = next(b for b in (1, 2, 3) if b != controller)
    cluster.kill_broker(restarted)
    run_checked(cluster, 8000)
    # The answer to its registration comes late: the controller sees the new /brokers/ids znode and sends
    # UpdateMetadata before the broker knows it is registered. Kafka's listener is not open yet then, so
    # the connection is refused and the controller sends again; the request is not lost.
    cluster.set_latency(restarted, "zk", 50)
    wait_checked(cluster, cluster.restart_broker(restarted))
    run_checked(cluster, 2000)

    assert cluster.brokers[restarted].ctx.metadata.controller_id == controller
    assert all(restarted in p.isr for p in cluster.snapshot().topic("orders").partitions)
