"""Frozen read models of quorum replicas, for views, tests and ``describe_quorum`` (``kafka-metadata-quorum.sh``)."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.protocol.raft import OffsetAndEpoch


@dataclass(frozen=True)
class ReplicaProgress:
    """How far a replica has fetched, as the leader saw it (``DescribeQuorum``'s ReplicaState); -1 means never."""

    node_id: int
    log_end_offset: int
    last_fetch_ms: float
    last_caught_up_ms: float


@dataclass(frozen=True)
class QuorumDescription:
    """``kafka-metadata-quorum.sh describe --status --replication`` as the leader answers it."""

    leader_id: int
    leader_epoch: int
    high_watermark: int
    voters: tuple[ReplicaProgress, ...]
    observers: tuple[ReplicaProgress, ...]

    def lag(self, replica: ReplicaProgress) -> int:
        """How many offsets ``replica`` is behind the leader's log end."""
        leader_end = next(r.log_end_offset for r in self.voters if r.node_id == self.leader_id)
        return max(0, leader_end - replica.log_end_offset) if replica.log_end_offset >= 0 else leader_end


@dataclass(frozen=True)
class RaftReplicaView:
    """One replica of the metadata log at a moment: role, epoch, vote, offsets and timers."""

    node_id: int
    is_voter: bool
    running: bool
    #: ``unattached``, ``prospective``, ``candidate``, ``leader``, ``follower`` or ``resigned``.
    role: str
    epoch: int
    leader_id: int | None
    voted_id: int | None
    log_start_offset: int
    log_end_offset: int
    last_fetched_epoch: int
    high_watermark: int | None
    #: When this voter starts an election unless something changes (Unattached, Prospective, Candidate, Resigned).
    election_deadline_ms: float | None
    #: When this follower gives up on its leader unless a fetch succeeds.
    fetch_deadline_ms: float | None
    #: When this leader resigns unless a majority of voters fetches from it first (check quorum, KIP-835).
    resign_deadline_ms: float | None
    #: Votes granted so far to this prospective or candidate.
    granted_votes: tuple[int, ...]
    snapshots: tuple[OffsetAndEpoch, ...]
    #: The leader's view of every replica (leaders only).
    description: QuorumDescription | None

    @property
    def display_role(self) -> str:
        """``observer`` for a replica that is not a voter, else its role."""
        return self.role if self.is_voter else "observer"


@dataclass(frozen=True)
class ControllerStatus:
    """A controller node as it describes itself: whether it runs and is active, and its Raft replica."""

    node_id: int
    running: bool
    active: bool
    metadata_offset: int
    raft: RaftReplicaView | None

