"""Requests that read a partition's state and change nothing: ListOffsets, OffsetsForLeaderEpoch, DescribeProducers.

They answer from the broker's replicas as ``ReplicaManager`` holds them (Kafka 3.9 answers the first two
in ``ReplicaManager.fetchOffset`` / ``lastOffsetForLeaderEpoch`` from the leader, and the third from any
replica's producer state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.fetch import (
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    READ_COMMITTED,
    EpochEndOffset,
    ListOffsetsPartition,
    ListOffsetsRequest,
    ListOffsetsResponse,
    OffsetsForLeaderEpochRequest,
    OffsetsForLeaderEpochResponse,
)
from kafkalab.protocol.transactions import (
    ActiveProducer,
    DescribeProducersRequest,
    DescribeProducersResponse,
    PartitionProducers,
)
from kafkalab.protocol.types import TopicPartition

if TYPE_CHECKING:
    from kafkalab.broker.replica_manager import ReplicaManager


def list_offsets(replicas: ReplicaManager, request: ListOffsetsRequest) -> ListOffsetsResponse:
    """Log start (earliest) or high watermark (latest) of partitions this broker leads."""
    results: dict[TopicPartition, ListOffsetsPartition] = {}
    for tp, timestamp in request.partitions.items():
        partition = replicas.partitions.get(tp)
        if partition is None or not partition.is_leader:
            results[tp] = ListOffsetsPartition(replicas.unknown_or_not_leader(tp))
        elif timestamp == EARLIEST_TIMESTAMP:
            results[tp] = ListOffsetsPartition(Errors.NONE, partition.log.log_start_offset)
        elif timestamp == LATEST_TIMESTAMP:
            latest = (replicas.last_stable_offset(partition, build=True) if request.isolation_level == READ_COMMITTED
                      else partition.high_watermark)
            results[tp] = ListOffsetsPartition(Errors.NONE, latest, leader_epoch=partition.leader_epoch)
        else:
            results[tp] = ListOffsetsPartition(Errors.INVALID_REQUEST)
    return ListOffsetsResponse(results)


def offsets_for_leader_epoch(replicas: ReplicaManager, request: OffsetsForLeaderEpochRequest) -> OffsetsForLeaderEpochResponse:
    """Where an epoch ended in the leader's log (KIP-101/279), so a follower truncates exactly."""
    results: dict[TopicPartition, EpochEndOffset] = {}
    for tp, epoch_request in request.partitions.items():
        partition = replicas.partitions.get(tp)
        if partition is None or not partition.is_leader:
            results[tp] = EpochEndOffset(replicas.unknown_or_not_leader(tp))
        elif 0 <= epoch_request.current_leader_epoch < partition.leader_epoch:
            results[tp] = EpochEndOffset(Errors.FENCED_LEADER_EPOCH)
        else:
            epoch, end_offset = partition.log.leader_epoch_cache.end_offset_for(
                epoch_request.leader_epoch, partition.log.log_end_offset)
            results[tp] = EpochEndOffset(Errors.NONE, epoch, end_offset)
    return OffsetsForLeaderEpochResponse(results)


def describe_producers(replicas: ReplicaManager, request: DescribeProducersRequest) -> DescribeProducersResponse:
    """Each partition's producers as this replica's state has them, leader or follower (Kafka 3.9
    ``ReplicaManager.activeProducerState``, ``Partition.activeProducerState``)."""
    answers: dict[TopicPartition, PartitionProducers] = {}
    for tp in request.partitions:
        partition = replicas.partitions.get(tp)
        if partition is None:
            known = tp.partition < replicas.ctx.metadata.partition_counts.get(tp.topic, 0)
            answers[tp] = PartitionProducers(Errors.NOT_LEADER_OR_FOLLOWER if known
                                             else Errors.UNKNOWN_TOPIC_OR_PARTITION)
            continue
        try:
            entries = replicas.producer_states.active_producers(partition.log)
        except KafkaError as exc:
            answers[tp] = PartitionProducers(exc.error)
            continue
        answers[tp] = PartitionProducers(Errors.NONE, tuple(
            ActiveProducer(e.producer_id, e.epoch, e.last_sequence, e.timestamp, e.coordinator_epoch,
                           e.current_txn_first_offset) for e in entries))
    return DescribeProducersResponse(answers)
