"""The pure Raft state machine: valid moves, what is persisted, vote rules, timeouts and the high watermark."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kafkalab.protocol.raft import OffsetAndEpoch
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.epoch_states import (
    CandidateState,
    EpochElection,
    FollowerState,
    LeaderState,
    ProspectiveState,
    ResignedState,
    Role,
    UnattachedState,
)
from kafkalab.raft.quorum_state import IllegalTransition, QuorumState
from kafkalab.raft.quorum_store import ElectionState

CONFIG = QuorumConfig.build()
START = OffsetAndEpoch(0, 0)


def quorum(local_id: int = 1, voters: tuple[int, ...] = (1, 2, 3), stored: ElectionState | None = None,
           log_end: OffsetAndEpoch = START, seed: int = 7) -> QuorumState:
    state = QuorumState(local_id, voters, CONFIG, random.Random(seed))
    state.initialize(stored, log_end, now_ms=0)
    return state


def leader_of(voters: tuple[int, ...] = (1, 2, 3), epoch_start_offset: int = 10) -> QuorumState:
    """Replica 1 elected leader of epoch 1 by replica 2's vote."""
    state = quorum(voters=voters)
    state.transition_to_prospective(0)
    assert isinstance(state.state, ProspectiveState)
    state.state.votes.record(2, True)
    state.transition_to_candidate(0)
    assert isinstance(state.state, CandidateState)
    for voter in voters[1:len(voters) // 2 + 1]:
        state.state.votes.record(voter, True)
    state.transition_to_leader(epoch_start_offset, 0)
    return state


# -- starting from disk ------------------------------------------------------------------


def test_a_new_replica_starts_unattached_in_epoch_zero_with_a_randomized_election_timeout() -> None:
    state = quorum()
    assert isinstance(state.state, UnattachedState)
    assert state.epoch == 0 and state.leader_id is None and state.state.voted_id is None
    assert CONFIG.election_timeout_ms <= state.state.election_deadline_ms < 2 * CONFIG.election_timeout_ms


def test_a_former_leader_restarts_resigned_in_its_epoch_and_cannot_vote_in_it() -> None:
    state = quorum(stored=ElectionState(4, leader_id=1, voted_id=1))
    assert isinstance(state.state, ResignedState)
    assert state.epoch == 4
    assert not state.can_grant_vote(2, log_up_to_date=True, pre_vote=False).granted
    assert state.state.unacked_voters == {2, 3}


def test_a_former_candidate_restarts_as_candidate_of_the_same_epoch() -> None:
    state = quorum(stored=ElectionState(3, voted_id=1))
    assert isinstance(state.state, CandidateState)
    assert state.epoch == 3 and state.state.votes.granted == {1}


def test_a_vote_survives_a_restart() -> None:
    state = quorum(stored=ElectionState(3, voted_id=2))
    assert isinstance(state.state, UnattachedState)
    assert state.state.voted_id == 2
    assert state.can_grant_vote(2, True, False).granted
    decision = state.can_grant_vote(3, True, False)
    assert not decision.granted and "already voted for 2" in decision.reason


def test_a_known_leader_is_followed_after_a_restart() -> None:
    state = quorum(stored=ElectionState(5, leader_id=3, voted_id=2))
    assert isinstance(state.state, FollowerState)
    assert (state.epoch, state.leader_id, state.state.voted_id) == (5, 3, 2)
    assert state.state.fetch_deadline_ms == CONFIG.fetch_timeout_ms


def test_a_log_with_a_newer_epoch_than_the_file_wins() -> None:
    state = quorum(stored=ElectionState(2, leader_id=3), log_end=OffsetAndEpoch(40, 6))
    assert isinstance(state.state, UnattachedState) and state.epoch == 6


def test_an_observer_never_starts_an_election() -> None:
    state = quorum(local_id=9)
    assert not state.is_voter
    assert isinstance(state.state, UnattachedState) and state.state.election_deadline_ms == math.inf
    with pytest.raises(IllegalTransition):
        state.transition_to_prospective(0)


def test_every_initial_state_is_written_to_disk() -> None:
    state = QuorumState(1, (1, 2, 3), CONFIG, random.Random(1))
    assert state.initialize(None, START, 0).durable


# -- timeouts ------------------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=2**32))
def test_election_timeouts_fall_between_one_and_two_election_timeouts(timeout_ms: int, seed: int) -> None:
    state = QuorumState(1, (1, 2, 3), QuorumConfig.build({"controller.quorum.election.timeout.ms": timeout_ms}),
                        random.Random(seed))
    drawn = [state.random_election_timeout_ms() for _ in range(20)]
    assert all(timeout_ms <= value < 2 * timeout_ms for value in drawn)


def test_the_same_seed_draws_the_same_timeouts() -> None:
    first = [quorum(seed=3).random_election_timeout_ms() for _ in range(3)]
    assert first == [quorum(seed=3).random_election_timeout_ms() for _ in range(3)]
    assert first != [quorum(seed=4).random_election_timeout_ms() for _ in range(3)]


def test_moving_to_a_newer_epoch_keeps_a_running_election_timer() -> None:
    state = quorum()
    assert isinstance(state.state, UnattachedState)
    deadline = state.state.election_deadline_ms
    state.transition_to_unattached(3, now_ms=500)
    assert isinstance(state.state, UnattachedState) and state.state.election_deadline_ms == deadline


# -- elections ------------------------------------------------------------------------------


def test_pre_vote_keeps_the_epoch_and_is_not_persisted_then_the_candidate_bumps_and_persists_it() -> None:
    state = quorum()
    prospective = state.transition_to_prospective(0)
    assert not prospective.durable and state.epoch == 0 and state.role is Role.PROSPECTIVE
    assert isinstance(state.state, ProspectiveState)
    state.state.votes.record(3, True)
    candidate = state.transition_to_candidate(0)
    assert candidate.durable
    assert state.election() == ElectionState(1, None, 1)


def test_only_a_prospective_becomes_a_candidate_and_only_a_winner_leads() -> None:
    state = quorum()
    with pytest.raises(IllegalTransition):
        state.transition_to_candidate(0)
    state.transition_to_prospective(0)
    state.transition_to_candidate(0)
    with pytest.raises(IllegalTransition):
        state.transition_to_leader(0, 0)
    assert isinstance(state.state, CandidateState)
    state.state.votes.record(2, True)
    assert state.transition_to_leader(0, 0).durable and state.role is Role.LEADER


def test_a_candidate_that_times_out_goes_back_to_pre_vote_counting_its_retries() -> None:
    state = quorum()
    state.transition_to_prospective(0)
    state.transition_to_candidate(0)
    state.transition_to_prospective(3000)
    assert isinstance(state.state, ProspectiveState)
    assert state.epoch == 1 and state.state.retries == 2 and state.state.voted_id == 1


def test_the_only_voter_wins_its_pre_vote_alone() -> None:
    state = quorum(voters=(1,))
    assert state.is_only_voter
    state.transition_to_prospective(0)
    assert isinstance(state.state, ProspectiveState) and state.state.votes.is_vote_granted


def test_a_vote_is_added_once_per_epoch_and_persisted() -> None:
    state = quorum()
    transition = state.add_vote(0, 2, now_ms=100)
    assert transition.durable and state.election() == ElectionState(0, None, 2)
    with pytest.raises(IllegalTransition):
        state.add_vote(0, 3, now_ms=100)


def test_a_leader_cannot_follow_in_its_own_epoch_and_nobody_follows_itself() -> None:
    state = leader_of()
    with pytest.raises(IllegalTransition):
        state.transition_to_follower(1, 2, 0)
    with pytest.raises(IllegalTransition):
        quorum().transition_to_follower(1, 1, 0)
    with pytest.raises(IllegalTransition):
        quorum().transition_to_follower(1, 7, 0)


def test_following_a_leader_keeps_the_vote_given_in_that_epoch() -> None:
    state = quorum()
    state.add_vote(0, 2, 0)
    state.transition_to_follower(0, 2, 0)
    assert state.election() == ElectionState(0, 2, 2)
    state.transition_to_follower(1, 3, 0)
    assert state.election() == ElectionState(1, 3, None)


def test_resigning_is_not_persisted_and_names_the_successors() -> None:
    state = leader_of()
    transition = state.transition_to_resigned((3, 2), 0)
    assert not transition.durable
    assert isinstance(state.state, ResignedState) and state.state.preferred_successors == (3, 2)


def test_epochs_never_go_back() -> None:
    state = quorum(stored=ElectionState(5))
    with pytest.raises(IllegalTransition):
        state.transition_to_unattached(4, 0)
    with pytest.raises(IllegalTransition):
        state.transition_to_unattached(5, 0)
    with pytest.raises(IllegalTransition):
        state.transition_to_follower(4, 2, 0)


# -- vote rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(("up_to_date", "pre_vote", "granted"), [
    (True, True, True), (False, True, False), (True, False, True), (False, False, False)])
def test_an_unattached_voter_grants_up_to_date_candidates(up_to_date: bool, pre_vote: bool, granted: bool) -> None:
    assert quorum().can_grant_vote(2, up_to_date, pre_vote).granted is granted


def test_a_follower_refuses_pre_votes_once_it_heard_from_its_leader() -> None:
    state = quorum(stored=ElectionState(2, leader_id=3))
    assert isinstance(state.state, FollowerState)
    assert state.can_grant_vote(2, True, pre_vote=True).granted
    state.state.reset_fetch_timeout(100)
    decision = state.can_grant_vote(2, True, pre_vote=True)
    assert not decision.granted and "still hear from leader 3" in decision.reason
    assert not state.can_grant_vote(2, True, pre_vote=False).granted


def test_a_candidate_grants_pre_votes_but_never_votes_for_another() -> None:
    state = quorum()
    state.transition_to_prospective(0)
    state.transition_to_candidate(0)
    assert state.can_grant_vote(2, True, pre_vote=True).granted
    assert not state.can_grant_vote(2, True, pre_vote=False).granted


def test_a_prospective_that_knows_the_leader_refuses_real_votes() -> None:
    state = quorum(stored=ElectionState(2, leader_id=3))
    state.transition_to_prospective(0)
    assert state.can_grant_vote(2, True, pre_vote=True).granted
    assert not state.can_grant_vote(2, True, pre_vote=False).granted


def test_leaders_and_resigned_leaders_refuse_everything() -> None:
    state = leader_of()
    assert not state.can_grant_vote(2, True, True).granted
    state.transition_to_resigned((2, 3), 0)
    assert not state.can_grant_vote(2, True, True).granted


@given(st.integers(min_value=1, max_value=9), st.data())
def test_an_election_is_won_by_a_majority_and_lost_once_a_majority_is_impossible(size: int, data: st.DataObject) -> None:
    voters = frozenset(range(1, size + 1))
    election = EpochElection(voters, granted={1})
    answers = data.draw(st.lists(st.tuples(st.sampled_from(sorted(voters)), st.booleans()), max_size=12))
    for voter, granted in answers:
        election.record(voter, granted)
    majority = size // 2 + 1
    assert election.is_vote_granted == (len(election.granted) >= majority)
    assert election.is_vote_rejected == (len(election.granted) + len(election.unrecorded) < majority)
    assert not (election.is_vote_granted and election.is_vote_rejected)
    assert election.granted.isdisjoint(election.rejected)


# -- the high watermark and check quorum -------------------------------------------------------


def test_the_high_watermark_waits_for_a_majority_past_the_epoch_start() -> None:
    state = leader_of(epoch_start_offset=10)
    leader = state.state
    assert isinstance(leader, LeaderState)
    assert leader.update_local_state(11) is None
    assert leader.update_replica_state(3, 8, now_ms=10) is None  # a majority holds only offsets below 10
    assert leader.update_replica_state(2, 11, now_ms=20) == (None, 11)
    assert leader.high_watermark == 11


def test_observers_do_not_count_towards_the_high_watermark() -> None:
    state = leader_of(epoch_start_offset=0)
    leader = state.state
    assert isinstance(leader, LeaderState)
    leader.update_local_state(5)
    assert leader.update_replica_state(9, 5, now_ms=1) is None
    assert leader.high_watermark is None and 9 in leader.observer_states


@given(st.sampled_from([1, 3, 5]), st.lists(st.tuples(st.integers(0, 4), st.integers(0, 50)), max_size=40))
def test_the_high_watermark_is_the_majority_offset_and_never_moves_back(size: int,
                                                                       fetches: list[tuple[int, int]]) -> None:
    voters = tuple(range(1, size + 1))
    leader = LeaderState(1, 1, 0, frozenset(voters), frozenset({1}), 3000, 3000)
    leader.update_local_state(50)
    previous = leader.high_watermark
    offsets = {1: 50}
    for index, offset in fetches:
        voter = voters[index % size]
        if voter == 1:
            continue
        offsets[voter] = max(offsets.get(voter, 0), offset)
        leader.update_replica_state(voter, offsets[voter], now_ms=1)
        ranked = sorted((offsets.get(v, -1) for v in voters), reverse=True)
        majority_offset = ranked[size // 2]
        if majority_offset > 0:
            assert leader.high_watermark is not None and leader.high_watermark >= majority_offset
        if previous is not None:
            assert leader.high_watermark is not None and leader.high_watermark >= previous
        previous = leader.high_watermark


def test_a_leader_must_hear_from_a_majority_within_one_and_a_half_fetch_timeouts() -> None:
    state = leader_of(voters=(1, 2, 3, 4, 5))
    leader = state.state
    assert isinstance(leader, LeaderState)
    assert leader.check_quorum_deadline() == 3000
    leader.update_replica_state(2, 0, now_ms=1000)
    assert leader.check_quorum_deadline() == 3000  # one follower of four is not a majority with the leader
    leader.update_replica_state(9, 0, now_ms=1500)  # observers do not count
    leader.update_replica_state(4, 0, now_ms=2000)
    assert leader.check_quorum_deadline() == 2000 + 3000


def test_a_single_voter_leader_never_loses_its_quorum() -> None:
    state = quorum(voters=(1,))
    state.transition_to_prospective(0)
    state.transition_to_candidate(0)
    state.transition_to_leader(0, 0)
    assert isinstance(state.state, LeaderState) and state.state.check_quorum_deadline() == math.inf


def test_a_follower_high_watermark_never_moves_back() -> None:
    follower = FollowerState(1, 2, 2000, 2000)
    assert follower.update_high_watermark(5) == (None, 5)
    assert follower.update_high_watermark(5) is None
    with pytest.raises(ValueError, match="Non-monotonic"):
        follower.update_high_watermark(4)


def test_successors_are_ranked_by_how_far_they_fetched() -> None:
    state = leader_of(voters=(1, 2, 3, 4, 5), epoch_start_offset=0)
    leader = state.state
    assert isinstance(leader, LeaderState)
    leader.update_replica_state(4, 9, 1)
    leader.update_replica_state(2, 3, 1)
    assert leader.voters_by_descending_fetch_offset() == (4, 2, 3, 5)
