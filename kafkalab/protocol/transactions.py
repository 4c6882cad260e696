"""Transaction APIs (KIP-98): AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit,
WriteTxnMarkers, DescribeTransactions and ListTransactions (KIP-664).

A transactional producer finds its coordinator with FindCoordinator (key type 1) and
gets its producer id and epoch with InitProducerId (``protocol/groups.py``). Field
names follow Kafka's JSON message definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.errors import Errors
from kafkalab.protocol.types import Request, TopicPartition

#: FindCoordinator key type of a transactional id.
TRANSACTION_KEY_TYPE = 1


@dataclass(frozen=True)
class AddPartitionsToTxnRequest(Request["AddPartitionsToTxnResponse"]):
    """Partitions the producer is about to write in its transaction (the coordinator must mark them)."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    partitions: tuple[TopicPartition, ...]
    #: AddPartitionsToTxn v4's ``VerifyOnly``: a partition leader asks whether they are in the transaction (KIP-890).
    verify_only: bool = False


@dataclass(frozen=True)
class AddPartitionsToTxnResponse:
    errors: dict[TopicPartition, Errors]


@dataclass(frozen=True)
class AddOffsetsToTxnRequest(Request["AddOffsetsToTxnResponse"]):
    """The group whose offsets the transaction will commit: its ``__consumer_offsets`` partition joins the transaction."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    group_id: str


@dataclass(frozen=True)
class AddOffsetsToTxnResponse:
    error: Errors


@dataclass(frozen=True)
class EndTxnRequest(Request["EndTxnResponse"]):
    """Commit (``committed``) or abort the producer's transaction."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    committed: bool


@dataclass(frozen=True)
class EndTxnResponse:
    error: Errors


@dataclass(frozen=True)
class TxnOffsetCommitRequest(Request["TxnOffsetCommitResponse"]):
    """Offsets committed inside a transaction, sent to the group's coordinator: visible once it commits."""

    transactional_id: str
    group_id: str
    producer_id: int
    producer_epoch: int
    offsets: dict[TopicPartition, int]
    generation_id: int = -1
    member_id: str = ""
    client_id: str = ""
    group_instance_id: str | None = None


@dataclass(frozen=True)
class TxnOffsetCommitResponse:
    errors: dict[TopicPartition, Errors]


@dataclass(frozen=True)
class WritableTxnMarker:
    """One producer's COMMIT or ABORT marker for some partitions, from the coordinator at ``coordinator_epoch``."""

    producer_id: int
    producer_epoch: int
    committed: bool
    partitions: tuple[TopicPartition, ...]
    coordinator_epoch: int


@dataclass(frozen=True)
class WriteTxnMarkersRequest(Request["WriteTxnMarkersResponse"]):
    """A transaction coordinator asks a partition leader to append markers (broker to broker only)."""

    markers: tuple[WritableTxnMarker, ...]


@dataclass(frozen=True)
class WriteTxnMarkersResponse:
    """Per producer id, each partition's outcome."""

    results: dict[int, dict[TopicPartition, Errors]]


@dataclass(frozen=True)
class DescribeTransactionsRequest(Request["DescribeTransactionsResponse"]):
    transactional_ids: tuple[str, ...]


@dataclass(frozen=True)
class TransactionDescription:
    """``kafka-transactions.sh describe``: one transactional id's state at its coordinator."""

    error: Errors
    transactional_id: str
    state: str = ""
    producer_id: int = -1
    producer_epoch: int = -1
    timeout_ms: int = -1
    #: When the open transaction began (-1 when none is open).
    start_time_ms: int = -1
    partitions: tuple[TopicPartition, ...] = ()


@dataclass(frozen=True)
class DescribeTransactionsResponse:
    transactions: tuple[TransactionDescription, ...]


@dataclass(frozen=True)
class ListTransactionsRequest(Request["ListTransactionsResponse"]):
    """``kafka-transactions.sh list``: every transactional id a broker coordinates."""


@dataclass(frozen=True)
class ListedTransaction:
    transactional_id: str
    producer_id: int
    state: str


@dataclass(frozen=True)
class ListTransactionsResponse:
    error: Errors
    transactions: tuple[ListedTransaction, ...]


@dataclass(frozen=True)
class DescribeProducersRequest(Request["DescribeProducersResponse"]):
    """``kafka-transactions.sh describe-producers``: the producers a replica of each partition knows (KIP-664)."""

    partitions: tuple[TopicPartition, ...]


@dataclass(frozen=True)
class ActiveProducer:
    """One producer in a partition's producer state (DescribeProducers' ``ProducerState``)."""

    producer_id: int
    producer_epoch: int
    last_sequence: int
    last_timestamp: int
    coordinator_epoch: int
    #: The first offset of its transaction open in this partition, -1 when none is.
    current_txn_start_offset: int


@dataclass(frozen=True)
class PartitionProducers:
    error: Errors
    producers: tuple[ActiveProducer, ...] = ()


@dataclass(frozen=True)
class DescribeProducersResponse:
    partitions: dict[TopicPartition, PartitionProducers]
