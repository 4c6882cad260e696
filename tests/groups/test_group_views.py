"""GroupView: what ``kafka-consumer-groups.sh --describe`` shows, plus lag history."""

from __future__ import annotations

from group_helpers import group, open_cluster

from kafkalab.clients.consumer_loop import PollLoop
from kafkalab.groups.store import partition_for_group
from kafkalab.protocol.types import TopicPartition


def test_group_view_lists_members_offsets_and_lag_over_time(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 2, 3))
    producer = cluster.producer()
    for n in range(10):
        producer.send("orders", f"v{n}", partition=0 if n < 6 else 1)
    cluster.wait(producer.close())
    consumer = cluster.consumer(group_id="g", auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.subscribe(["orders"])
    loop = PollLoop(consumer).start()
    cluster.run_for(3000)
    loop.stop()
    cluster.wait(consumer.commit_sync({TopicPartition("orders", 0): 1, TopicPartition("orders", 1): 0}))
    cluster.run_for(3000)
    view = group(cluster)
    assert (view.state, view.generation, view.protocol_type, view.protocol) == ("Stable", 1, "consumer", "range")
    assert view.offsets_partition == partition_for_group("g", 50)
    assert [(m.client_id, m.assignment) for m in view.members] == [(consumer.client_id, ("orders-0", "orders-1"))]
    rows = {p.partition: p for p in view.partitions}
    assert (rows[0].current_offset, rows[0].log_end_offset, rows[0].lag) == (1, 6, 5)
    assert (rows[1].current_offset, rows[1].log_end_offset, rows[1].lag) == (0, 4, 4)
    assert rows[0].client_id == consumer.client_id and rows[0].member_id == consumer.member_id
    assert view.total_lag == 10 - 1
    assert rows[0].lag_history[-1][1] == 5 and len(rows[0].lag_history) >= 2
    assert view.lag_history[-1][1] == 9
    cluster.wait(consumer.commit_sync())
    cluster.run_for(1000)
    assert group(cluster).lag_history[-1][1] == 0
    coordinator = cluster.snapshot().broker(view.coordinator)
    assert coordinator.coordinated_groups == ("g",)
