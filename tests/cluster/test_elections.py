"""Leader elections under virtual time: crashes, offline partitions, unclean elections, failover."""

from __future__ import annotations

from cluster_helpers import FAST, events_since, open_cluster, partition, run_checked, values, wait_checked

from kafkalab.errors import Errors
from kafkalab.events.cluster import (
    BrokerFailed,
    BrokerStopped,
    ControllerElected,
    IsrExpanded,
    LeaderElected,
    LogTruncated,
    PartitionOffline,
)
from kafkalab.protocol.produce import ProduceRequest
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.records import encode_batch


def _produce(cluster, topic, number, *payloads, acks=-1):
    return wait_checked(cluster, cluster.produce(topic, number, [(None, p) for p in payloads], acks=acks))


def test_killing_the_leader_elects_the_first_live_isr_replica_and_keeps_acknowledged_records(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 2}))
    before = partition(cluster, "orders", 0)
    for i in range(5):
        _produce(cluster, "orders", 0, b"v%d" % i)
    run_checked(cluster, 1000)
    high_watermark = partition(cluster, "orders", 0).high_watermark
    assert high_watermark == 5
    seq = cluster.journal.last_seq

    cluster.kill_broker(before.leader)
    run_checked(cluster, 8000)

    after = partition(cluster, "orders", 0)
    expected = next(r for r in before.replicas if r != before.leader and r in before.isr)
    assert after.leader == expected
    assert after.leader_epoch == before.leader_epoch + 1
    assert before.leader not in after.isr
    elected = events_since(cluster, seq, LeaderElected)
    assert [(e.leader, e.previous_leader) for e in elected] == [(expected, before.leader)]
    assert after.high_watermark >= high_watermark
    assert values(wait_checked(cluster, cluster.fetch("orders", 0, 0))) == [b"v%d" % i for i in range(5)]
    _produce(cluster, "orders", 0, b"after")


def test_a_restarted_broker_catches_up_and_rejoins_the_isr(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 2}))
    follower = partition(cluster, "orders", 0).replicas[-1]
    cluster.kill_broker(follower)
    run_checked(cluster, 8000)
    assert follower not in partition(cluster, "orders", 0).isr
    for i in range(20):
        _produce(cluster, "orders", 0, b"v%d" % i)
    seq = cluster.journal.last_seq

    wait_checked(cluster, cluster.restart_broker(follower))
    run_checked(cluster, 3000)

    view = partition(cluster, "orders", 0)
    assert follower in view.isr
    assert [e.added for e in events_since(cluster, seq, IsrExpanded)] == [(follower,)]
    replica = next(r for r in view.replica_views if r.broker_id == follower)
    assert replica.log_end_offset == 20


def test_killing_every_isr_member_takes_the_partition_offline(clusters):
    cluster = open_cluster(clusters, brokers=4, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 1}))
    _produce(cluster, "orders", 0, b"committed")
    replicas = partition(cluster, "orders", 0).replicas
    seq = cluster.journal.last_seq
    for broker_id in replicas:
        cluster.kill_broker(broker_id)
        run_checked(cluster, 8000)
        if broker_id != replicas[-1]:
            assert partition(cluster, "orders", 0).leader is not None

    view = partition(cluster, "orders", 0)
    assert view.offline and view.isr == (replicas[-1],)
    offline = events_since(cluster, seq, PartitionOffline)
    assert [e.isr for e in offline] == [(replicas[-1],)]
    assert "OFFLINE" in offline[0].describe()


def test_unclean_election_makes_a_stale_replica_leader_and_reports_the_lost_records(clusters):
    cluster = open_cluster(clusters, brokers=4, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 1}))
    replicas = partition(cluster, "orders", 0).replicas
    stale = replicas[-1]
    _produce(cluster, "orders", 0, b"everyone has this")
    run_checked(cluster, 1000)
    cluster.kill_broker(stale)
    run_checked(cluster, 8000)
    for i in range(3):
        _produce(cluster, "orders", 0, b"lost %d" % i)
    for broker_id in replicas[:-1]:
        cluster.kill_broker(broker_id)
        run_checked(cluster, 8000)
    last_isr_member = partition(cluster, "orders", 0).isr[0]
    wait_checked(cluster, cluster.restart_broker(stale))
    run_checked(cluster, 3000)
    assert partition(cluster, "orders", 0).offline, "an out-of-sync replica must not lead by default"
    seq = cluster.journal.last_seq

    wait_checked(cluster, cluster.alter_topic_config("orders", {"unclean.leader.election.enable": "true"}))
    run_checked(cluster, 3000)

    view = partition(cluster, "orders", 0)
    assert view.leader == stale and view.isr == (stale,)
    unclean = [e for e in events_since(cluster, seq, LeaderElected) if e.unclean]
    assert len(unclean) == 1 and "UNCLEAN" in unclean[0].describe()
    assert f"last ISR [{last_isr_member}]" in unclean[0].describe()
    assert values(wait_checked(cluster, cluster.fetch("orders", 0, 0))) == [b"everyone has this"]
    _produce(cluster, "orders", 0, b"new history")
    seq = cluster.journal.last_seq

    wait_checked(cluster, cluster.restart_broker(last_isr_member))
    run_checked(cluster, 3000)

    truncated = [e for e in events_since(cluster, seq, LogTruncated) if e.broker_id == last_isr_member]
    assert len(truncated) == 1
    assert (truncated[0].old_end, truncated[0].new_end) == (4, 1)
    assert truncated[0].committed_lost == 3
    assert "3 acknowledged" in truncated[0].describe()
    assert values(wait_checked(cluster, cluster.fetch("orders", 0, 0))) == [b"everyone has this", b"new history"]


def test_controller_failover_elects_a_new_controller_that_keeps_electing_leaders(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 3, 3, {"min.insync.replicas": 2}))
    old_controller = cluster.controller_id
    led = [p.partition for p in cluster.snapshot().topic("orders").partitions if p.leader == old_controller]
    seq = cluster.journal.last_seq

    cluster.kill_broker(old_controller)
    run_checked(cluster, 8000)

    assert cluster.controller_id not in (-1, old_controller)
    elected = events_since(cluster, seq, ControllerElected)
    assert [e.broker_id for e in elected] == [cluster.controller_id]
    assert elected[0].controller_epoch == 2
    for number in led:
        view = partition(cluster, "orders", number)
        assert view.leader not in (None, old_controller) and old_controller not in view.isr
    for number in range(3):
        _produce(cluster, "orders", number, b"still writable")
    wait_checked(cluster, cluster.restart_broker(old_controller))
    run_checked(cluster, 3000)
    assert cluster.controller_id != old_controller
    assert all(len(p.isr) == 3 for p in cluster.snapshot().topic("orders").partitions)


def test_a_partitioned_leader_cannot_commit_loses_its_session_and_truncates_its_acks_1_writes(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 3, {"min.insync.replicas": 2}))
    tp = TopicPartition("orders", 0)
    _produce(cluster, "orders", 0, b"committed")
    run_checked(cluster, 500)
    zombie = partition(cluster, "orders", 0).leader
    others = [b for b in cluster.brokers if b != zombie]
    seq = cluster.journal.last_seq

    def send(broker_id, value, acks):
        request = ProduceRequest(acks, 5000, {tp: encode_batch([(None, value, (), 0)])})
        return wait_checked(cluster, cluster.client.send(broker_id, request, timeout_ms=20_000)).partitions[tp]

    for node in ["zk", *others]:
        cluster.cut_link(zombie, node)
    stuck = send(zombie, b"never committed", acks=-1)
    assert stuck.error == Errors.REQUEST_TIMED_OUT
    run_checked(cluster, 3000)

    view = partition(cluster, "orders", 0)
    assert view.leader in others and zombie not in view.isr
    assert [e.previous_leader for e in events_since(cluster, seq, LeaderElected)] == [zombie]
    accepted = send(zombie, b"acks=1 on a zombie", acks=1)
    assert accepted.error == Errors.NONE, "the old leader does not know it was replaced"
    committed = send(view.leader, b"acknowledged by the new leader", acks=-1)
    assert committed.error == Errors.NONE
    seq = cluster.journal.last_seq

    for node in ["zk", *others]:
        cluster.heal_link(zombie, node)
    run_checked(cluster, 10_000)

    truncated = [e for e in events_since(cluster, seq, LogTruncated) if e.broker_id == zombie]
    assert len(truncated) == 1 and truncated[0].committed_lost == 0
    assert truncated[0].old_end - truncated[0].new_end == 2
    assert zombie in partition(cluster, "orders", 0).isr
    assert values(wait_checked(cluster, cluster.fetch("orders", 0, 0))) == [b"committed",
                                                                          b"acknowledged by the new leader"]


def test_preferred_leader_election_on_demand_moves_leadership_back(clusters):
    cluster = open_cluster(clusters, **{**FAST, "auto.leader.rebalance.enable": False})
    wait_checked(cluster, cluster.create_topic("orders", 1, 3))
    preferred = partition(cluster, "orders", 0).replicas[0]
    cluster.kill_broker(preferred)
    run_checked(cluster, 8000)
    wait_checked(cluster, cluster.restart_broker(preferred))
    run_checked(cluster, 3000)
    assert partition(cluster, "orders", 0).leader != preferred and preferred in partition(cluster, "orders", 0).isr

    results = wait_checked(cluster, cluster.elect_preferred_leaders((TopicPartition("orders", 0),)))

    assert results[TopicPartition("orders", 0)].error == Errors.NONE
    run_checked(cluster, 500)
    assert partition(cluster, "orders", 0).leader == preferred
    again = wait_checked(cluster, cluster.elect_preferred_leaders((TopicPartition("orders", 0),)))
    assert again[TopicPartition("orders", 0)].error == Errors.ELECTION_NOT_NEEDED


def test_auto_leader_rebalance_moves_leadership_back_after_the_check_interval(clusters):
    cluster = open_cluster(clusters, **{**FAST, "leader.imbalance.check.interval.seconds": 5})
    wait_checked(cluster, cluster.create_topic("orders", 3, 3))
    preferred = {p.partition: p.replicas[0] for p in cluster.snapshot().topic("orders").partitions}
    victim = preferred[0]
    cluster.kill_broker(victim)
    run_checked(cluster, 8000)
    wait_checked(cluster, cluster.restart_broker(victim))
    run_checked(cluster, 2000)
    seq = cluster.journal.last_seq

    run_checked(cluster, 12_000, step_ms=200)

    assert {p.partition: p.leader for p in cluster.snapshot().topic("orders").partitions} == preferred
    moved = [e for e in events_since(cluster, seq, LeaderElected) if "auto leader rebalance" in e.reason]
    assert moved and all(e.leader == victim for e in moved)


def test_clean_shutdown_moves_leadership_before_the_broker_stops(clusters):
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 3, 3, {"min.insync.replicas": 2}))
    leaving = partition(cluster, "orders", 0).leader
    seq = cluster.journal.last_seq

    wait_checked(cluster, cluster.shutdown_broker(leaving))

    events = cluster.journal.since(seq)
    stopped = next(i for i, e in enumerate(events) if isinstance(e, BrokerStopped))
    moves = [i for i, e in enumerate(events) if isinstance(e, LeaderElected) and e.previous_leader == leaving]
    assert moves and max(moves) < stopped and events[stopped].clean
    assert not any(isinstance(e, BrokerFailed) for e in events[:stopped])
    for view in cluster.snapshot().topic("orders").partitions:
        assert view.leader != leaving and leaving not in view.isr
    _produce(cluster, "orders", 0, b"still writable with two in sync")


def test_asking_a_broker_already_shutting_down_to_shut_down_waits_for_the_same_shutdown(clusters):
    # The transaction campaign's seed 47 once asked twice: the second shutdown ended the first one's process,
    # whose caller then waited forever.
    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 3, 3))
    first = cluster.shutdown_broker(2)
    cluster.run_for(1)
    second = cluster.shutdown_broker(2)
    wait_checked(cluster, second)
    assert first.done and first.error is None
    assert len(cluster.journal.of_type(BrokerStopped)) == 1
    wait_checked(cluster, cluster.restart_broker(2))
    interrupted = cluster.shutdown_broker(2)
    cluster.run_for(1)
    cluster.kill_broker(2)  # a crash in the middle of a clean shutdown: its caller hears so, instead of waiting
    assert interrupted.done and interrupted.error.error == Errors.BROKER_NOT_AVAILABLE


def test_an_offline_partition_s_live_replicas_hear_leader_minus_one_and_keep_fetching(clusters):
    # Kafka 3.9 ZK mode: the controller sends LeaderAndIsr with leader -1 to the remaining replicas
    # (ReplicaStateMachine, OfflineReplica); a follower cannot follow -1, so it keeps its fetcher.
    from kafkalab.protocol.controller_api import LeaderAndIsrRequest

    cluster = open_cluster(clusters, **FAST)
    wait_checked(cluster, cluster.create_topic("orders", 1, 2))
    view = partition(cluster, "orders", 0)
    follower = next(r for r in view.replicas if r != view.leader)
    cluster.wait(cluster.produce("orders", 0, [(None, b"v")]))
    cluster.cut_link(follower, view.leader)
    cluster.wait(cluster.produce("orders", 0, [(None, b"only on the leader")], acks=1))
    run_checked(cluster, 15_000)
    assert partition(cluster, "orders", 0).isr == (view.leader,)
    heard: list[int] = []
    send = cluster.network.request

    def spy(source, destination, request, callback, timeout_ms):
        if destination == f"broker-{follower}" and isinstance(request, LeaderAndIsrRequest):
            heard.extend(state.leader for state in request.partition_states if state.topic == "orders")
        return send(source, destination, request, callback, timeout_ms)

    cluster.network.request = spy
    cluster.kill_broker(view.leader)
    cluster.heal_link(follower, view.leader)
    run_checked(cluster, 10_000)
    assert partition(cluster, "orders", 0).offline
    assert heard == [-1]
    seq = cluster.journal.last_seq
    cluster.restart_broker(view.leader)
    run_checked(cluster, 5000)
    assert partition(cluster, "orders", 0).leader == view.leader
    # The follower's last fetch went into the cut link; like Kafka's fetcher thread it waits for that
    # request to time out (30 s after it was sent, as replica.socket.timeout.ms) before fetching again.
    run_checked(cluster, 30_000)
    assert [e.added for e in events_since(cluster, seq, IsrExpanded)] == [(follower,)]
