"""The KRaft quorum's APIs: Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch and FetchSnapshot (KIP-595, KIP-630).

Each request names the one partition Kafka's Raft replicates, ``__cluster_metadata-0``,
so the topic and partition fields are left out. Responses carry the responder's view of
the leader and epoch, as Kafka's do: every reply teaches the asker who leads now.
``-1`` means "no leader" and "no high watermark yet", as on the wire.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from kafkalab.errors import Errors

#: ``leader_id`` of a response from a replica that knows no leader.
NO_LEADER_ID = -1
#: ``high_watermark`` of a Fetch response from a leader that has not committed in its epoch yet.
NO_HIGH_WATERMARK = -1


@functools.total_ordering
@dataclass(frozen=True)
class OffsetAndEpoch:
    """An end offset and the epoch of the record before it (Kafka's ``OffsetAndEpoch``); also a snapshot's id.

    Ordered as Kafka orders them, by epoch first and offset second: a log that ends in a
    newer epoch is more up to date than a longer log of an older epoch (Raft's vote rule).
    """

    offset: int
    epoch: int

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, OffsetAndEpoch):
            return NotImplemented
        return (self.epoch, self.offset) < (other.epoch, other.offset)


@dataclass(frozen=True)
class VoteRequest:
    """A candidate asks for a vote, or a prospective for a pre-vote (KIP-996), at ``candidate_epoch``.

    A pre-vote's epoch is the prospective's current epoch (it has not bumped it); a real
    vote's is the new epoch the candidate persisted before asking.
    """

    cluster_id: str
    candidate_id: int
    candidate_epoch: int
    last_offset_epoch: int
    last_offset: int
    pre_vote: bool
    voter_id: int


@dataclass(frozen=True)
class VoteResponse:
    """The voter's answer and what it knows of the leader and epoch."""

    error: Errors
    leader_id: int
    leader_epoch: int
    vote_granted: bool


@dataclass(frozen=True)
class BeginQuorumEpochRequest:
    """A newly elected leader tells a voter about its epoch, so the voter need not wait for a fetch timeout."""

    cluster_id: str
    leader_id: int
    leader_epoch: int
    voter_id: int


@dataclass(frozen=True)
class BeginQuorumEpochResponse:
    error: Errors
    leader_id: int
    leader_epoch: int


@dataclass(frozen=True)
class EndQuorumEpochRequest:
    """A resigning leader asks the voters to elect a successor now, the most caught-up first."""

    cluster_id: str
    leader_id: int
    leader_epoch: int
    preferred_successors: tuple[int, ...]


@dataclass(frozen=True)
class EndQuorumEpochResponse:
    error: Errors
    leader_id: int
    leader_epoch: int


@dataclass(frozen=True)
class RaftFetchRequest:
    """Fetch (API key 1) on ``__cluster_metadata-0``: a voter or an observer pulls the leader's log.

    ``last_fetched_epoch`` is the epoch of the record before ``fetch_offset``; the leader
    checks the pair against its own log and answers with a diverging epoch if they differ.
    ``high_watermark`` is the one the fetcher knows (-1: none): a leader that knows a
    newer one answers at once instead of waiting for records (KIP-1166, Kafka 4.1).
    """

    cluster_id: str
    replica_id: int
    current_leader_epoch: int
    fetch_offset: int
    last_fetched_epoch: int
    high_watermark: int
    max_wait_ms: int
    max_bytes: int


@dataclass(frozen=True)
class RaftFetchResponse:
    """Records from ``fetch_offset``, or where to truncate to, or which snapshot to fetch first."""

    error: Errors
    leader_id: int
    leader_epoch: int
    high_watermark: int = NO_HIGH_WATERMARK
    log_start_offset: int = -1
    records: bytes = b""
    #: Set when the fetcher's log diverged: truncate to this end offset of this epoch, then fetch again.
    diverging_epoch: OffsetAndEpoch | None = None
    #: Set when the fetch offset is below the log start: fetch this snapshot (FetchSnapshot) first.
    snapshot_id: OffsetAndEpoch | None = None


@dataclass(frozen=True)
class FetchSnapshotRequest:
    """KIP-630: fetch the bytes of snapshot ``snapshot_id`` from ``position``."""

    cluster_id: str
    replica_id: int
    current_leader_epoch: int
    snapshot_id: OffsetAndEpoch
    position: int
    max_bytes: int


@dataclass(frozen=True)
class FetchSnapshotResponse:
    """A chunk of the snapshot file, not aligned to batches (Kafka's ``UnalignedRecords``)."""

    error: Errors
    leader_id: int
    leader_epoch: int
    snapshot_id: OffsetAndEpoch | None = None
    size: int = -1
    position: int = -1
    unaligned_records: bytes = b""
