"""The ``describe_*`` results, read from a cluster view."""

from __future__ import annotations

from kafkalab.actions.results import (
    AssignedPartition,
    DescribeGroupResult,
    DescribeTopicResult,
    DescribeTransactionResult,
    GroupMemberDescription,
    PartitionDescription,
)
from kafkalab.errors import Errors, KafkaError
from kafkalab.views import ClusterView


def describe_topic(view: ClusterView, topic: str) -> DescribeTopicResult:
    """Each partition's leader (None when offline), replicas, ISR, epoch and offsets."""
    topic_view = view.topic(topic)
    if topic_view is None:
        raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{topic}' does not exist.")
    return DescribeTopicResult(topic, tuple(
        PartitionDescription(p.partition, p.leader, p.replicas, p.isr, p.leader_epoch, p.log_start_offset,
                             p.high_watermark, p.log_end_offset, p.last_stable_offset)
        for p in topic_view.partitions))


def assigned_partition(name: str) -> AssignedPartition:
    """``orders-0`` as topic ``orders``, partition 0 (topics may contain '-')."""
    topic, partition = name.rsplit("-", 1)
    return AssignedPartition(topic, int(partition))


def describe_group(view: ClusterView, group_id: str) -> DescribeGroupResult:
    """A group's state, generation, strategy and each member's assignment."""
    group = view.group(group_id)
    if group is None:
        raise KafkaError(Errors.GROUP_ID_NOT_FOUND, f"Group '{group_id}' does not exist (or its coordinator is down).")
    return DescribeGroupResult(group_id, group.state, group.generation, group.protocol, tuple(
        GroupMemberDescription(member.client_id, tuple(assigned_partition(name) for name in member.assignment))
        for member in sorted(group.members, key=lambda m: (m.client_id, m.member_id))))


def describe_transaction(view: ClusterView, transactional_id: str) -> DescribeTransactionResult:
    """A transactional id's state, producer id and epoch, partitions and timeout at its coordinator."""
    transaction = view.transaction(transactional_id)
    if transaction is None:
        raise KafkaError(Errors.TRANSACTIONAL_ID_NOT_FOUND, f"Transactional id '{transactional_id}' does not exist "
                                                            f"(or its coordinator is down).")
    return DescribeTransactionResult(transactional_id, transaction.state, transaction.producer_id,
                                     transaction.producer_epoch,
                                     tuple(AssignedPartition(tp.topic, tp.partition) for tp in transaction.partitions),
                                     transaction.timeout_ms)
