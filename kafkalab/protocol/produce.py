"""Produce (API key 0): a client hands record batches to partition leaders."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.errors import Errors
from kafkalab.protocol.types import Request, TopicPartition


@dataclass(frozen=True)
class ProduceRequest(Request["ProduceResponse"]):
    """Batches per partition; ``acks`` is 0, 1 or -1 (all)."""

    acks: int
    timeout_ms: int
    partitions: dict[TopicPartition, bytes]
    client_id: str = ""
    #: A transactional producer's id (Produce v3+): the leader verifies its first batch with the coordinator (KIP-890).
    transactional_id: str | None = None
    #: The client understands TRANSACTION_ABORTABLE (Produce v11+, KIP-890); older ones are told INVALID_TXN_STATE.
    abortable_errors: bool = False


@dataclass(frozen=True)
class PartitionProduceResponse:
    """Where a partition's batch landed, or why it did not."""

    error: Errors
    base_offset: int = -1
    log_append_time_ms: int = -1
    log_start_offset: int = -1
    message: str = ""


@dataclass(frozen=True)
class ProduceResponse:
    partitions: dict[TopicPartition, PartitionProduceResponse]
