"""What the fault campaign checks once the cluster has settled after its faults."""

from __future__ import annotations

from collections.abc import Iterable

from campaign_producer import AcksAllProducer

from kafkalab.broker.broker import BrokerState
from kafkalab.cluster.cluster import Cluster
from kafkalab.cluster.invariants import hosted_replicas, log_bytes
from kafkalab.protocol.types import TopicPartition


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
        contents = {broker_id: log_bytes(replica.log, 0, high_watermark) for broker_id, replica in replicas.items()}
        if len(set(contents.values())) != 1 or len(replicas) != replication_factor:
            raise AssertionError(f"{tp}: replicas differ below the high watermark {high_watermark}: "
                                 f"{ {b: len(c) for b, c in contents.items()} } bytes")
