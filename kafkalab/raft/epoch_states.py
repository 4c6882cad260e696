"""What one replica knows and does within one epoch: Kafka 4.1's ``EpochState`` classes.

Unattached, Prospective (KIP-996 pre-vote), Candidate, Leader, Follower and Resigned
each hold their epoch, their timers as virtual deadlines and the rule by which they
grant votes (``canGrantVote``). They change nothing outside themselves; ``QuorumState``
moves a replica between them and its driver does the I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from kafkalab.raft.quorum_store import ElectionState


class Role(Enum):
    """A replica's state in its current epoch (an observer is Unattached or Follower)."""

    UNATTACHED = "unattached"
    PROSPECTIVE = "prospective"
    CANDIDATE = "candidate"
    LEADER = "leader"
    FOLLOWER = "follower"
    RESIGNED = "resigned"


@dataclass(frozen=True)
class VoteDecision:
    """Whether a Vote request is granted, and why, in words the timeline can show."""

    granted: bool
    reason: str


_LOG_BEHIND = "its log is behind ours (a leader must hold every committed record)"


def _pre_vote_decision(log_up_to_date: bool) -> VoteDecision:
    if log_up_to_date:
        return VoteDecision(True, "its log is at least as up to date as ours")
    return VoteDecision(False, _LOG_BEHIND)


def _unattached_or_prospective_decision(leader_id: int | None, voted_id: int | None, candidate_id: int,
                                        log_up_to_date: bool, pre_vote: bool) -> VoteDecision:
    """Kafka's ``QuorumState.unattachedOrProspectiveCanGrantVote``."""
    if pre_vote:
        return _pre_vote_decision(log_up_to_date)
    if voted_id is not None:
        if voted_id == candidate_id:
            return VoteDecision(True, "we already voted for it in this epoch")
        return VoteDecision(False, f"we already voted for {voted_id} in this epoch")
    if leader_id is not None:
        return VoteDecision(False, f"we already know leader {leader_id} in this epoch")
    return _pre_vote_decision(log_up_to_date)


@dataclass
class EpochElection:
    """The votes one election has gathered (Kafka's ``EpochElection``); the local replica votes for itself."""

    voters: frozenset[int]
    granted: set[int] = field(default_factory=set)
    rejected: set[int] = field(default_factory=set)

    @property
    def majority(self) -> int:
        return len(self.voters) // 2 + 1

    @property
    def unrecorded(self) -> frozenset[int]:
        """Voters that have not answered yet."""
        return self.voters - self.granted - self.rejected

    @property
    def is_vote_granted(self) -> bool:
        """A majority granted: the election is won."""
        return len(self.granted) >= self.majority

    @property
    def is_vote_rejected(self) -> bool:
        """Too many rejected for a majority to remain possible: the election is lost."""
        return len(self.granted) + len(self.unrecorded) < self.majority

    def record(self, voter_id: int, granted: bool) -> bool:
        """Record ``voter_id``'s answer; False if it is not a voter or already answered."""
        if voter_id not in self.unrecorded:
            return False
        (self.granted if granted else self.rejected).add(voter_id)
        return True


class EpochState:
    """The common face of every state: epoch, known leader and vote, high watermark, vote rule."""

    role: Role
    epoch: int
    high_watermark: int | None

    @property
    def leader_id(self) -> int | None:
        """The leader of this epoch, if known."""
        return None

    @property
    def voted_id(self) -> int | None:
        """The candidate this replica voted for in this epoch, if any."""
        return None

    def election(self) -> ElectionState:
        """What is persisted in ``quorum-state`` for this state."""
        return ElectionState(self.epoch, self.leader_id, self.voted_id)

    def can_grant_vote(self, candidate_id: int, log_up_to_date: bool, pre_vote: bool) -> VoteDecision:
        """Whether a (pre-)vote from ``candidate_id`` in this epoch is granted."""
        raise NotImplementedError


@dataclass
class UnattachedState(EpochState):
    """The epoch is known but not its leader; the replica may have voted in it (Kafka's Unattached, voted or not)."""

    epoch: int
    election_deadline_ms: float
    high_watermark: int | None = None
    voted: int | None = None
    role = Role.UNATTACHED

    @property
    def voted_id(self) -> int | None:
        return self.voted

    def can_grant_vote(self, candidate_id: int, log_up_to_date: bool, pre_vote: bool) -> VoteDecision:
        return _unattached_or_prospective_decision(None, self.voted, candidate_id, log_up_to_date, pre_vote)


@dataclass
class ProspectiveState(EpochState):
    """KIP-996: a voter that would like to start an election asks first, without bumping the epoch.

    Only if a majority would vote for it does it become a candidate; a voter cut off from
    the quorum therefore never disturbs a working leader with a higher epoch.
    """

    epoch: int
    local_id: int
    votes: EpochElection
    election_deadline_ms: float
    retries: int
    high_watermark: int | None = None
    known_leader: int | None = None
    voted: int | None = None
    role = Role.PROSPECTIVE

    @property
    def leader_id(self) -> int | None:
        return self.known_leader

    @property
    def voted_id(self) -> int | None:
        return self.voted

    def can_grant_vote(self, candidate_id: int, log_up_to_date: bool, pre_vote: bool) -> VoteDecision:
        return _unattached_or_prospective_decision(self.known_leader, self.voted, candidate_id, log_up_to_date,
                                                   pre_vote)


@dataclass
class CandidateState(EpochState):
    """The replica bumped the epoch, voted for itself (persisted) and asks the others for their votes."""

    epoch: int
    local_id: int
    votes: EpochElection
    election_deadline_ms: float
    retries: int
    high_watermark: int | None = None
    role = Role.CANDIDATE

    @property
    def voted_id(self) -> int | None:
        return self.local_id

    def can_grant_vote(self, candidate_id: int, log_up_to_date: bool, pre_vote: bool) -> VoteDecision:
        if pre_vote:
            return _pre_vote_decision(log_up_to_date)
        return VoteDecision(False, "we are a candidate in this epoch ourselves")


@dataclass
class ReplicaState:
    """The leader's view of one replica's fetching (Kafka's ``LeaderState.ReplicaState``); -1 means never."""

    node_id: int
    end_offset: int | None = None
    last_fetch_ms: float = -1.0
    last_caught_up_ms: float = -1.0
    last_fetch_leader_end_offset: int = -1

    def update(self, fetch_offset: int, now_ms: float, leader_end_offset: int | None) -> None:
        """Record a fetch at ``fetch_offset`` (Kafka's ``updateFollowerState``).

        A fetch at the leader's end means caught up now; one that reached what the leader
        had at the previous fetch means caught up as of that previous fetch.
        """
        if leader_end_offset is not None:
            if fetch_offset >= leader_end_offset:
                self.last_caught_up_ms = max(self.last_caught_up_ms, now_ms)
            elif 0 < self.last_fetch_leader_end_offset <= fetch_offset:
                self.last_caught_up_ms = max(self.last_caught_up_ms, self.last_fetch_ms)
            self.last_fetch_leader_end_offset = leader_end_offset
        self.last_fetch_ms = max(self.last_fetch_ms, now_ms)
        self.end_offset = fetch_offset


@dataclass
class LeaderState(EpochState):
    """The elected leader: it tracks how far each replica fetched and derives the high watermark from the voters."""

    epoch: int
    local_id: int
    epoch_start_offset: int
    voters: frozenset[int]
    granting_voters: frozenset[int]
    check_quorum_timeout_ms: int
    check_quorum_deadline_ms: float
    high_watermark: int | None = None
    voter_states: dict[int, ReplicaState] = field(default_factory=dict)
    observer_states: dict[int, ReplicaState] = field(default_factory=dict)
    #: Voters that fetched since the check-quorum timer was last reset.
    fetched_voters: set[int] = field(default_factory=set)
    begin_quorum_epoch_due_ms: float = 0.0
    role = Role.LEADER

    def __post_init__(self) -> None:
        if not self.voter_states:
            self.voter_states = {voter: ReplicaState(voter) for voter in sorted(self.voters)}

    @property
    def leader_id(self) -> int | None:
        return self.local_id

    @property
    def voted_id(self) -> int | None:
        return self.local_id

    def can_grant_vote(self, candidate_id: int, log_up_to_date: bool, pre_vote: bool) -> VoteDecision:
        return VoteDecision(False, "we are the leader of this epoch")

    def update_local_state(self, end_offset: int) -> tuple[int | None, int] | None:
        """The leader's own log end moved; returns ``(old, new)`` if the high watermark advanced."""
        self.voter_states[self.local_id].end_offset = end_offset
        return self._maybe_update_high_watermark()

    def update_replica_state(self, replica_id: int, fetch_offset: int, now_ms: float) -> tuple[int | None, int] | None:
        """Record a replica's valid fetch; returns ``(old, new)`` if the high watermark advanced."""
        if replica_id < 0 or replica_id == self.local_id:
            return None
        states = self.voter_states if replica_id in self.voters else self.observer_states
        state = states.setdefault(replica_id, ReplicaState(replica_id))
        state.update(fetch_offset, now_ms, self.voter_states[self.local_id].end_offset)
        self.update_check_quorum(replica_id, now_ms)
        return self._maybe_update_high_watermark() if replica_id in self.voters else None

    def update_check_quorum(self, replica_id: int, now_ms: float) -> None:
        """A voter fetched: once a majority (with the leader) has, the check-quorum timer restarts (KIP-835)."""
        if replica_id not in self.voters:
            return
        self.fetched_voters.add(replica_id)
        if len(self.fetched_voters) >= len(self.voters) // 2:
            self.fetched_voters.clear()
            self.check_quorum_deadline_ms = now_ms + self.check_quorum_timeout_ms

    def check_quorum_deadline(self) -> float:
        """When the leader resigns unless a majority fetches; never with a single voter."""
        return math.inf if len(self.voters) == 1 else self.check_quorum_deadline_ms

    def voters_by_descending_fetch_offset(self) -> tuple[int, ...]:
        """The other voters, most caught-up first: the preferred successors when resigning."""
        others = [state for voter, state in self.voter_states.items() if voter != self.local_id]
        others.sort(key=lambda s: (-(s.end_offset if s.end_offset is not None else -1), s.node_id))
        return tuple(state.node_id for state in others)

    def _maybe_update_high_watermark(self) -> tuple[int | None, int] | None:
        """The largest offset a majority of voters has, once it passes the epoch start (``maybeUpdateHighWatermark``).

        A new leader exposes nothing until a record of its own epoch (its LeaderChange
        record) is on a majority: only then are the earlier epochs' records it holds safe
        from being truncated by a later leader (Raft's commitment rule).
        """
        offsets = sorted((s.end_offset if s.end_offset is not None else -1 for s in self.voter_states.values()),
                         reverse=True)
        candidate = offsets[len(self.voter_states) // 2]
        if candidate <= self.epoch_start_offset:
            return None
        if self.high_watermark is not None and candidate <= self.high_watermark:
            return None
        old, self.high_watermark = self.high_watermark, candidate
        return old, candidate


@dataclass
class FollowerState(EpochState):
    """The replica knows the leader and fetches from it; no successful fetch for the fetch timeout ends this."""

    epoch: int
    leader: int
    fetch_timeout_ms: int
    fetch_deadline_ms: float
    high_watermark: int | None = None
    voted: int | None = None
    #: Set by the first successful fetch: from then on pre-votes are refused (KIP-996).
    has_fetched_from_leader: bool = False
    role = Role.FOLLOWER

    @property
    def leader_id(self) -> int | None:
        return self.leader

    @property
    def voted_id(self) -> int | None:
        return self.voted

    def can_grant_vote(self, candidate_id: int, log_up_to_date: bool, pre_vote: bool) -> VoteDecision:
        if pre_vote and not self.has_fetched_from_leader:
            return _pre_vote_decision(log_up_to_date)
        if pre_vote:
            return VoteDecision(False, f"we still hear from leader {self.leader}")
        return VoteDecision(False, f"we already follow leader {self.leader} in this epoch")

    def reset_fetch_timeout(self, now_ms: float) -> None:
        """A fetch from the leader succeeded."""
        self.fetch_deadline_ms = now_ms + self.fetch_timeout_ms
        self.has_fetched_from_leader = True

    def override_fetch_timeout(self, now_ms: float, timeout_ms: float) -> None:
        """The leader resigned: start an election after ``timeout_ms`` instead (EndQuorumEpoch)."""
        self.fetch_deadline_ms = now_ms + timeout_ms

    def update_high_watermark(self, high_watermark: int) -> tuple[int | None, int] | None:
        """Take the leader's high watermark; returns ``(old, new)`` if it moved. It never moves back."""
        old = self.high_watermark
        if old is not None and high_watermark < old:
            raise ValueError(f"Non-monotonic update of high watermark from {old} to {high_watermark}")
        if old == high_watermark:
            return None
        self.high_watermark = high_watermark
        return old, high_watermark


@dataclass
class ResignedState(EpochState):
    """A leader that stepped down: it asks the voters to elect a successor (EndQuorumEpoch) and votes for nobody."""

    epoch: int
    local_id: int
    election_deadline_ms: float
    unacked_voters: set[int]
    preferred_successors: tuple[int, ...]
    high_watermark: int | None = None
    role = Role.RESIGNED

    @property
    def leader_id(self) -> int | None:
        return self.local_id

    def can_grant_vote(self, candidate_id: int, log_up_to_date: bool, pre_vote: bool) -> VoteDecision:
        return VoteDecision(False, "we resigned as leader of this epoch")
