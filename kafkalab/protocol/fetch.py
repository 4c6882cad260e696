"""Fetch (API key 1) and the offset lookups that go with it (ListOffsets, OffsetsForLeaderEpoch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from kafkalab.errors import Errors
from kafkalab.protocol.types import Request, TopicPartition

#: ``replica_id`` of a fetch sent by a consumer rather than a follower broker.
CONSUMER_REPLICA_ID = -1
#: ListOffsets timestamps meaning "the log start offset" and "the log end offset".
EARLIEST_TIMESTAMP = -2
LATEST_TIMESTAMP = -1
#: ``isolation.level`` on the wire (KIP-98): read_uncommitted reads to the high watermark, read_committed to the LSO.
READ_UNCOMMITTED = 0
READ_COMMITTED = 1


class FetchPartition(NamedTuple):
    """Where a fetch reads one partition from.

    This and ``FetchPartitionData`` are named tuples: a fetch makes one of each for every
    partition of every round, and a tuple is built and compared in C.
    """

    fetch_offset: int
    current_leader_epoch: int = -1
    partition_max_bytes: int = 1_048_576


#: KIP-227 session epochs: 0 opens a session with a full fetch, -1 fetches (or closes) without one.
INITIAL_SESSION_EPOCH = 0
FINAL_SESSION_EPOCH = -1


@dataclass(frozen=True)
class FetchRequest(Request["FetchResponse"]):
    """A follower's (replica_id >= 0) or a consumer's fetch, waiting up to ``max_wait_ms``.

    With a fetch session (KIP-227) ``partitions`` holds only what changed since the last
    request of the session and ``forgotten`` what leaves it.
    """

    replica_id: int
    max_wait_ms: int
    min_bytes: int
    max_bytes: int
    partitions: dict[TopicPartition, FetchPartition]
    client_id: str = ""
    session_id: int = 0
    session_epoch: int = FINAL_SESSION_EPOCH
    forgotten: tuple[TopicPartition, ...] = ()
    isolation_level: int = READ_UNCOMMITTED


@dataclass(frozen=True)
class AbortedTransaction:
    """A producer's aborted transaction in the fetched range: its records from ``first_offset`` on are dropped."""

    producer_id: int
    first_offset: int


class FetchPartitionData(NamedTuple):
    """One partition of a fetch response: its error, offsets and record batches as bytes."""

    error: Errors
    high_watermark: int = -1
    log_start_offset: int = -1
    log_end_offset: int = -1
    records: bytes = b""
    #: -1 where unknown (an error); for read_committed fetches also the end of what was served.
    last_stable_offset: int = -1
    #: Only in read_committed responses (None otherwise, as on Kafka's wire).
    aborted_transactions: tuple[AbortedTransaction, ...] | None = None


@dataclass(frozen=True)
class FetchResponse:
    """Data per partition; an incremental session response omits partitions with nothing new."""

    partitions: dict[TopicPartition, FetchPartitionData]
    error: Errors = Errors.NONE
    session_id: int = 0


@dataclass(frozen=True)
class ListOffsetsRequest(Request["ListOffsetsResponse"]):
    """Offsets by timestamp; EARLIEST_TIMESTAMP / LATEST_TIMESTAMP ask for log start / end."""

    partitions: dict[TopicPartition, int]
    replica_id: int = CONSUMER_REPLICA_ID
    isolation_level: int = READ_UNCOMMITTED


@dataclass(frozen=True)
class ListOffsetsPartition:
    error: Errors
    offset: int = -1
    timestamp: int = -1
    #: The leader's epoch with a latest offset, as Kafka 3.9's ``Partition.fetchOffsetForTimestamp`` answers (-1: none).
    leader_epoch: int = -1


@dataclass(frozen=True)
class ListOffsetsResponse:
    partitions: dict[TopicPartition, ListOffsetsPartition]


@dataclass(frozen=True)
class EpochRequest:
    current_leader_epoch: int
    leader_epoch: int


@dataclass(frozen=True)
class OffsetsForLeaderEpochRequest(Request["OffsetsForLeaderEpochResponse"]):
    """KIP-101/279: a follower asks where an epoch ended on the leader, to truncate safely."""

    replica_id: int
    partitions: dict[TopicPartition, EpochRequest]


@dataclass(frozen=True)
class EpochEndOffset:
    error: Errors
    leader_epoch: int = -1
    end_offset: int = -1


@dataclass(frozen=True)
class OffsetsForLeaderEpochResponse:
    partitions: dict[TopicPartition, EpochEndOffset]
