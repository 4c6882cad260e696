"""One replica's Raft state machine: the only valid moves between epoch states (Kafka 4.1's ``QuorumState``).

A voter moves as follows (an observer only between Unattached and Follower)::

    Unattached  -> Prospective (election timeout), Follower (leader found), Unattached (newer epoch or a vote)
    Prospective -> Candidate (a majority granted the pre-vote), Follower or Unattached (pre-vote lost
                   or timed out: back to the known leader, if any), Unattached (newer epoch)
    Candidate   -> Leader (a majority voted), Prospective (election timed out), Unattached (newer epoch)
    Leader      -> Resigned (shutdown, or it lost touch with a majority), Unattached / Follower (newer epoch)
    Follower    -> Prospective (fetch timeout), Follower (newer epoch's leader), Unattached (newer epoch)
    Resigned    -> Unattached (election timeout, at epoch + 1), Follower / Unattached (newer epoch)

Each move returns a ``Transition``. A durable one changes what ``quorum-state`` must say
(epoch, leader or vote): the driver writes and fsyncs the file before it sends anything
that depends on the new state, above all before it answers a vote. Prospective and
Resigned change nothing persistent and are not written, as in Kafka.

Pure: no I/O and no clock; callers pass the virtual time and randomness comes from the
seeded generator given at construction.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from kafkalab.protocol.raft import OffsetAndEpoch
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.epoch_states import (
    CandidateState,
    EpochElection,
    EpochState,
    FollowerState,
    LeaderState,
    ProspectiveState,
    ResignedState,
    Role,
    UnattachedState,
    VoteDecision,
)
from kafkalab.raft.quorum_store import ElectionState


@dataclass(frozen=True)
class Transition:
    """A move from ``previous`` to ``current``; ``durable`` when ``quorum-state`` must be rewritten first."""

    previous: EpochState | None
    current: EpochState
    durable: bool


def _running_election_deadline(state: EpochState) -> float | None:
    """The election deadline a move to Unattached keeps: a running election timer is not restarted."""
    if isinstance(state, CandidateState | UnattachedState | ResignedState):
        return state.election_deadline_ms
    if isinstance(state, ProspectiveState) and not state.votes.is_vote_rejected:
        return state.election_deadline_ms
    return None


class IllegalTransition(Exception):
    """A move the Raft rules forbid (a bug in the caller, never a user's doing)."""


class QuorumState:
    """The current epoch state of replica ``local_id`` in a quorum of ``voters``."""

    def __init__(self, local_id: int, voters: Sequence[int], config: QuorumConfig, rng: random.Random) -> None:
        self.local_id = local_id
        self.voters = frozenset(voters)
        #: The other voters in id order (asked for votes, fetched from: once per Fetch without a leader).
        self.remote_voters = tuple(sorted(self.voters - {local_id}))
        self.config = config
        self._rng = rng
        self._state: EpochState | None = None

    # -- queries ---------------------------------------------------------------------

    @property
    def state(self) -> EpochState:
        if self._state is None:
            raise IllegalTransition("the quorum state is not initialized")
        return self._state

    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def role(self) -> Role:
        return self.state.role

    @property
    def leader_id(self) -> int | None:
        return self.state.leader_id

    @property
    def is_voter(self) -> bool:
        return self.local_id in self.voters

    @property
    def is_only_voter(self) -> bool:
        return self.voters == {self.local_id}

    def election(self) -> ElectionState:
        """What ``quorum-state`` holds for the current state."""
        return self.state.election()

    def has_consistent_leader(self, epoch: int, leader_id: int | None) -> bool:
        """False when a message names another leader for our own epoch, which Raft never allows."""
        if leader_id is not None and leader_id == self.local_id:
            return self.role is Role.LEADER or epoch != self.epoch
        return epoch != self.epoch or leader_id is None or self.leader_id is None or leader_id == self.leader_id

    def can_grant_vote(self, candidate_id: int, log_up_to_date: bool, pre_vote: bool) -> VoteDecision:
        """Whether the current state grants ``candidate_id``'s (pre-)vote in the current epoch."""
        return self.state.can_grant_vote(candidate_id, log_up_to_date, pre_vote)

    def random_election_timeout_ms(self) -> int:
        """A fresh election timeout between ``election.timeout.ms`` and twice that (``randomElectionTimeoutMs``)."""
        timeout = self.config.election_timeout_ms
        return timeout + self._rng.randrange(timeout) if timeout > 0 else 0

    # -- transitions -----------------------------------------------------------------

    def _move(self, state: EpochState, durable: bool) -> Transition:
        previous, self._state = self._state, state
        return Transition(previous, state, durable)

    def _unattached_deadline(self, now_ms: float) -> float:
        return math.inf if not self.is_voter else now_ms + self.random_election_timeout_ms()

    def initialize(self, stored: ElectionState | None, log_end: OffsetAndEpoch, now_ms: float) -> Transition:
        """The state to start in after a restart (``QuorumState.initialize``).

        A former leader starts Resigned in its epoch, so it can neither vote again in that
        epoch nor reuse an (offset, epoch) it may have lost; a former candidate is again a
        candidate; a log holding a newer epoch than the file wins.
        """
        election = stored or ElectionState(0)
        if election.epoch < log_end.epoch:
            state: EpochState = UnattachedState(log_end.epoch, self._unattached_deadline(now_ms))
        elif self.is_voter and election.leader_id == self.local_id:
            state = ResignedState(election.epoch, self.local_id, now_ms + self.random_election_timeout_ms(),
                                  set(self.remote_voters), ())
        elif self.is_voter and election.voted_id == self.local_id:
            state = CandidateState(election.epoch, self.local_id, self._self_vote(), now_ms +
                                   self.random_election_timeout_ms(), retries=1)
        elif election.leader_id is not None and election.leader_id in self.voters:
            state = FollowerState(election.epoch, election.leader_id, self.config.fetch_timeout_ms,
                                  now_ms + self.config.fetch_timeout_ms, voted=election.voted_id)
        else:
            state = UnattachedState(election.epoch, self._unattached_deadline(now_ms), voted=election.voted_id)
        return self._move(state, durable=True)

    def _self_vote(self) -> EpochElection:
        return EpochElection(self.voters, granted={self.local_id})

    def transition_to_unattached(self, epoch: int, now_ms: float) -> Transition:
        """A newer epoch with no known leader, or the same epoch after a lost pre-vote (keeping the vote)."""
        current = self.state
        if epoch < current.epoch or (epoch == current.epoch and current.role is not Role.PROSPECTIVE):
            raise IllegalTransition(f"Cannot transition to Unattached with epoch {epoch} from {current}")
        deadline = _running_election_deadline(current)
        if not self.is_voter:
            deadline = math.inf
        elif deadline is None:
            deadline = now_ms + self.random_election_timeout_ms()
        voted = current.voted_id if epoch == current.epoch else None
        return self._move(UnattachedState(epoch, deadline, current.high_watermark, voted), durable=True)

    def add_vote(self, epoch: int, candidate_id: int, now_ms: float) -> Transition:
        """Grant a vote in the current epoch as Unattached or Prospective (``unattachedAddVotedState`` and kin).

        The election timeout restarts: the candidate has at least our chance of winning.
        """
        current = self.state
        if candidate_id == self.local_id or not self.is_voter or epoch != current.epoch or current.voted_id is not None:
            raise IllegalTransition(f"Cannot add a vote for {candidate_id} in epoch {epoch} to {current}")
        deadline = now_ms + self.random_election_timeout_ms()
        if isinstance(current, UnattachedState):
            return self._move(UnattachedState(epoch, deadline, current.high_watermark, candidate_id), durable=True)
        if isinstance(current, ProspectiveState):
            return self._move(ProspectiveState(epoch, self.local_id, self._self_vote(), deadline, current.retries,
                                               current.high_watermark, current.known_leader, candidate_id),
                              durable=True)
        raise IllegalTransition(f"Cannot add a vote for {candidate_id} in epoch {epoch} to {current}")

    def transition_to_follower(self, epoch: int, leader_id: int, now_ms: float) -> Transition:
        """Follow ``leader_id``, the leader of ``epoch``; a vote given in the same epoch is kept."""
        current = self.state
        if leader_id == self.local_id or leader_id not in self.voters or epoch < current.epoch or (
                epoch == current.epoch and current.role in (Role.FOLLOWER, Role.LEADER)):
            raise IllegalTransition(f"Cannot transition to Follower of {leader_id} in epoch {epoch} from {current}")
        voted = current.voted_id if epoch == current.epoch else None
        timeout = self.config.fetch_timeout_ms
        return self._move(FollowerState(epoch, leader_id, timeout, now_ms + timeout, current.high_watermark, voted),
                          durable=True)

    def transition_to_prospective(self, now_ms: float) -> Transition:
        """Start a pre-vote in the current epoch: nothing is persisted, the epoch does not move (KIP-996)."""
        current = self.state
        if not self.is_voter or current.role in (Role.LEADER, Role.PROSPECTIVE):
            raise IllegalTransition(f"Cannot transition to Prospective from {current}")
        retries = current.retries + 1 if isinstance(current, CandidateState) else 1
        return self._move(ProspectiveState(current.epoch, self.local_id, self._self_vote(),
                                           now_ms + self.random_election_timeout_ms(), retries, current.high_watermark,
                                           current.leader_id, current.voted_id), durable=False)

    def transition_to_candidate(self, now_ms: float) -> Transition:
        """A majority granted the pre-vote: bump the epoch and vote for ourselves (persisted before asking)."""
        current = self.state
        if not isinstance(current, ProspectiveState):
            raise IllegalTransition(f"Only a prospective may become a candidate, not {current}")
        return self._move(CandidateState(current.epoch + 1, self.local_id, self._self_vote(),
                                         now_ms + self.random_election_timeout_ms(), current.retries,
                                         current.high_watermark), durable=True)

    def transition_to_leader(self, epoch_start_offset: int, now_ms: float) -> Transition:
        """A majority voted: lead the epoch from ``epoch_start_offset`` (the high watermark starts unknown)."""
        current = self.state
        if not isinstance(current, CandidateState) or not current.votes.is_vote_granted:
            raise IllegalTransition(f"Cannot become leader without a majority of votes from {current}")
        timeout = self.config.check_quorum_timeout_ms
        return self._move(LeaderState(current.epoch, self.local_id, epoch_start_offset, self.voters,
                                      frozenset(current.votes.granted), timeout, now_ms + timeout), durable=True)

    def transition_to_resigned(self, preferred_successors: Sequence[int], now_ms: float) -> Transition:
        """Step down as leader, naming the voters that should be elected next."""
        current = self.state
        if not isinstance(current, LeaderState):
            raise IllegalTransition(f"Cannot resign from {current}")
        return self._move(ResignedState(current.epoch, self.local_id, now_ms + self.random_election_timeout_ms(),
                                        set(self.remote_voters), tuple(preferred_successors)), durable=False)
