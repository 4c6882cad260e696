"""Committed offsets live in a replicated topic: they survive broker crashes and a restart of the whole app."""

from __future__ import annotations

from group_helpers import consumers, group, open_cluster, produce, run_checked, values

from kafkalab.protocol.types import TopicPartition


def test_committed_offsets_survive_closing_and_reopening_the_data_dir(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 2, 3))
    produce(cluster, "orders", 20)
    loops = consumers(cluster, 1, enable_auto_commit=False)
    run_checked(cluster, 3000, loops)
    consumer = loops[0].consumer
    assert len(loops[0].records) == 20
    cluster.wait(consumer.commit_sync({TopicPartition("orders", 0): 3, TopicPartition("orders", 1): 4}))
    committed = {(p.topic, p.partition): p.current_offset for p in group(cluster).partitions}
    cluster.close()

    reopened = clusters.open(cluster.data_dir.path)
    reader = consumers(reopened, 1, enable_auto_commit=False)
    run_checked(reopened, 5000, reader)
    assert {(p.topic, p.partition): p.current_offset for p in group(reopened).partitions} == committed
    # The new consumer resumed where the commits point, not at the beginning.
    assert len(reader[0].records) == 20 - 3 - 4
    positions = {tp: reopened.wait(reader[0].consumer.position(tp)) for tp in reader[0].consumer.assignment()}
    assert sum(positions.values()) == 20


def test_committed_offsets_survive_every_broker_crashing(clusters):
    cluster = open_cluster(clusters, config={"zookeeper.session.timeout.ms": 6000})
    cluster.wait(cluster.create_topic("orders", 1, 3))
    produce(cluster, "orders", 10)
    loops = consumers(cluster, 1)
    run_checked(cluster, 3000, loops)
    cluster.wait(loops[0].consumer.commit_sync())
    loops[0].consumer.crash()
    for broker_id in (1, 2, 3):
        cluster.kill_broker(broker_id)
    cluster.run_for(1000)
    for broker_id in (1, 2, 3):
        cluster.wait(cluster.restart_broker(broker_id))
    produce(cluster, "orders", 5, start=10)
    reader = consumers(cluster, 1)
    # The crashed consumer is still a member until its session (45 s) expires; the group waits for it.
    run_checked(cluster, 60_000, reader)
    assert values(reader[0]) == [f"value-{n}" for n in range(10, 15)]
