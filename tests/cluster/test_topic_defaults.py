"""CreateTopics with -1 partitions or replication factor takes the broker's defaults (KIP-464)."""

from __future__ import annotations

from cluster_helpers import open_cluster, partition

from kafkalab.sim.process import spawn


def test_minus_one_takes_num_partitions_and_default_replication_factor(clusters):
    cluster = open_cluster(clusters, **{"num.partitions": 4, "default.replication.factor": 2})
    cluster.wait(spawn(cluster.admin.client.group, cluster.admin.create_topic("defaults", -1, -1), name="create topic"))
    topic = cluster.snapshot().topic("defaults")
    assert topic is not None and len(topic.partitions) == 4
    assert all(len(partition(cluster, "defaults", p).replicas) == 2 for p in range(4))
