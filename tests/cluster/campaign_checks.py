"""What the fault campaign checks once the cluster has settled after its faults."""

from __future__ import annotations

import re
from collections.abc import Iterable

from campaign_producer import AcksAllProducer

from kafkalab.cluster.cluster import Cluster
from kafkalab.cluster.invariants import hosted_replicas, log_bytes
from kafkalab.coordination import paths
from kafkalab.protocol.types import TopicPartition
from kafkalab.server.broker import BrokerState
from kafkalab.storage.log import PartitionLog


def partitions_settled(cluster: Cluster, topic: str) -> bool:
    """Every broker runs (none still shutting down) and every replica of ``topic`` is in sync and caught up."""
    if any(broker.state != BrokerState.RUNNING for broker in cluster.brokers.values()):
        return False
    view = cluster.snapshot().topic(topic)
    if view is None:
        return False
    for partition in view.partitions:
        if partition.leader is None or len(partition.isr) != len(partition.replicas):
            return False
        if any(not r.online or r.log_end_offset != partition.log_end_offset
               or r.high_watermark != partition.log_end_offset for r in partition.replica_views):
            return False
    return True


def deletion_leftovers(cluster: Cluster, topic: str) -> list[str]:
    """Where a deleted topic still shows: ZooKeeper, a broker's metadata, replicas, logs or log directory."""
    topic_znode = paths.topic_path(topic)
    leftovers = [f"znode {path}" for path in sorted(cluster.coordinator.tree.nodes)
                 if path in (topic_znode, paths.topic_config_path(topic), paths.delete_topic_path(topic))
                 or path.startswith(topic_znode + "/")]
    for broker_id, broker in sorted(cluster.brokers.items()):
        if broker.ctx is not None and topic in broker.ctx.metadata.partition_counts:
            leftovers.append(f"broker {broker_id}'s metadata")
        if broker.replicas is not None and any(tp.topic == topic for tp in broker.replicas.partitions):
            leftovers.append(f"broker {broker_id}'s replicas")
        if broker.log_manager is not None and any(t == topic for t, _ in broker.log_manager.logs()):
            leftovers.append(f"broker {broker_id}'s logs")
        if broker.log_dir.exists():
            # A partition's directory, or one renamed for deletion (Kafka's "<topic>-<n>.<id>-delete").
            pattern = re.compile(rf"{re.escape(topic)}-\d+(\..+-delete)?")
            leftovers += [f"directory {d}" for d in sorted(broker.log_dir.iterdir()) if pattern.fullmatch(d.name)]
    return leftovers


def check_acknowledged(cluster: Cluster, topic: str, producers: Iterable[AcksAllProducer],
                       replication_factor: int) -> None:
    """No acknowledged record is lost or out of order, and all replicas hold the same bytes below the HW."""
    for producer in producers:
        tp = TopicPartition(topic, producer.partition)
        records = cluster.wait(cluster.fetch(topic, producer.partition, 0, max_bytes=50_000_000))
        stored = {record.offset: record.value for record in records}
        for sequence, offset in producer.acknowledged:
            if stored.get(offset) != producer.value(sequence):
                raise AssertionError(f"{tp}: acknowledged record {producer.value(sequence)!r} at offset {offset} "
                                     f"is lost (found {stored.get(offset)!r})")
        offsets = [offset for _, offset in sorted(producer.acknowledged)]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            raise AssertionError(f"{tp}: acknowledged records are out of order: {offsets}")
        replicas = hosted_replicas(cluster, tp)
        high_watermark = min(replica.high_watermark for replica in replicas.values())
        contents = {broker_id: log_bytes(_log(cluster, broker_id, tp), 0, high_watermark) for broker_id in replicas}
        if len(set(contents.values())) != 1 or len(replicas) != replication_factor:
            raise AssertionError(f"{tp}: replicas differ below the high watermark {high_watermark}: "
                                 f"{ {b: len(c) for b, c in contents.items()} } bytes")


def _log(cluster: Cluster, broker_id: int, tp: TopicPartition) -> PartitionLog:
    log = cluster.brokers[broker_id].replica_log(tp)
    assert log is not None, f"broker {broker_id} hosts no replica of {tp}"
    return log
