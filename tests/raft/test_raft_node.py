"""The quorum on the scheduler and network: elections, pre-vote, replication, resignation, truncation, snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from raft_harness import CLUSTER_ID, OBSERVER_ID, Quorum, voter_name

from kafkalab.errors import Errors, KafkaError
from kafkalab.events.raft import (
    MetadataSnapshotLoaded,
    QuorumElectionStarted,
    QuorumEpochBegun,
    QuorumFollowerTruncated,
    QuorumLeaderElected,
    QuorumLeaderResigned,
    QuorumReplicaFailed,
    QuorumReplicaStarted,
    QuorumVoteGranted,
    QuorumVoteRejected,
)
from kafkalab.protocol.raft import (
    BeginQuorumEpochRequest,
    OffsetAndEpoch,
    RaftFetchRequest,
    RaftFetchResponse,
    VoteRequest,
    VoteResponse,
)
from kafkalab.raft.client import RaftNode
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.epoch_states import Role
from kafkalab.raft.listeners import decode_committed
from kafkalab.raft.outbound import MAX_FETCH_WAIT_MS
from kafkalab.storage.control_records import LeaderChangeMessage

ELECTION_MS = 1000
FETCH_MS = 2000


def elected(quorum: Quorum, timeout_ms: float = 10_000) -> RaftNode:
    """Run until a leader that every running voter follows; that leader."""
    assert quorum.run_until(lambda: quorum.stable_leader() is not None, timeout_ms), "no stable leader"
    leader = quorum.stable_leader()
    assert leader is not None
    return leader


def committed_everywhere(quorum: Quorum, offset: int, timeout_ms: float = 5000) -> None:
    assert quorum.run_until(lambda: all(quorum.listeners[n.node_id].next_offset > offset for n in quorum.running()),
                            timeout_ms), f"offset {offset} was not applied everywhere"


def send(quorum: Quorum, destination: str, request: Any) -> Any:
    """Send ``request`` from a test node and return the response (or the network error)."""
    answers: list[Any] = []
    quorum.network.request("tester", destination, request, lambda response, error: answers.append(response or error),
                           timeout_ms=1000)
    quorum.run_until(lambda: bool(answers), 1500)
    return answers[0]


@pytest.fixture
def three(tmp_path: Path) -> Quorum:
    quorum = Quorum(tmp_path, (1, 2, 3), (OBSERVER_ID,), seed=11)
    quorum.start_all()
    yield quorum
    quorum.close()


def test_a_new_quorum_elects_a_leader_by_pre_vote_then_vote_and_announces_it(three: Quorum) -> None:
    leader = elected(three)
    assert leader.epoch == 1
    # The first election waits for a randomized election timeout: between 1 and 2 s.
    (won,) = three.journal.of_type(QuorumLeaderElected)
    assert ELECTION_MS <= won.time_ms < 2 * ELECTION_MS + 50
    started = three.journal.of_type(QuorumElectionStarted)
    assert [(e.node_id, e.pre_vote, e.epoch) for e in started] == [(leader.node_id, True, 0),
                                                                  (leader.node_id, False, 1)]
    assert {e.pre_vote for e in three.journal.of_type(QuorumVoteGranted)} == {True, False}
    (batch,) = decode_committed(leader.log.read(0, 1 << 20))
    assert batch.control_records == (LeaderChangeMessage(leader.node_id, (1, 2, 3), won.granting_voters),)
    observer = three.nodes[OBSERVER_ID]
    assert three.run_until(lambda: observer.leader_and_epoch == leader.leader_and_epoch, 100)
    assert observer.role is Role.FOLLOWER and not observer.is_voter
    assert three.stored_election(leader.node_id)["leaderId"] == leader.node_id


def test_voters_learn_the_new_leader_from_its_begin_quorum_epoch_once(three: Quorum) -> None:
    leader = elected(three)
    others = sorted(n.node_id for n in three.running() if n.is_voter and n is not leader)
    begun = three.journal.of_type(QuorumEpochBegun)
    assert sorted((e.voter_id, e.leader_id, e.epoch) for e in begun) == [(n, leader.node_id, 1) for n in others]
    # The leader keeps re-sending BeginQuorumEpoch until voters fetch; a repeat changes nobody's mind.
    three.run_until(lambda: False, 5 * FETCH_MS)
    assert len(three.journal.of_type(QuorumEpochBegun)) == len(begun)


def test_appended_records_commit_on_a_majority_and_reach_every_listener_in_order(three: Quorum) -> None:
    leader = elected(three)
    first = leader.append([b"a", b"b"])
    second = leader.append([b"c"])
    assert second == first + 1
    assert leader.log.end_offset <= first  # lingering (controller.quorum.append.linger.ms)
    committed_everywhere(three, second)
    for listener in three.listeners.values():
        assert [value for _, value in listener.applied] == [b"a", b"b", b"c"]
    # Both appends lingered into one batch of the leader's epoch, after its LeaderChange batch.
    batches = decode_committed(leader.log.read(1, 1 << 20))
    assert [(b.base_offset, b.records, b.epoch) for b in batches] == [(first - 1, (b"a", b"b", b"c"), leader.epoch)]
    view = leader.describe()
    assert view.role == "leader" and view.display_role == "leader"
    description = view.description
    assert description is not None and description.high_watermark == second + 1
    assert [r.node_id for r in description.voters] == [1, 2, 3]
    assert [description.lag(r) for r in description.voters] == [0, 0, 0]
    assert [r.node_id for r in description.observers] == [OBSERVER_ID]
    assert three.nodes[OBSERVER_ID].describe().display_role == "observer"


def test_a_leaders_listener_hears_of_its_leadership_only_after_catching_up(three: Quorum) -> None:
    leader = elected(three)
    committed_everywhere(three, 0)
    assert three.listeners[leader.node_id].leaders[-1] == leader.leader_and_epoch


def test_only_the_leader_accepts_appends_and_only_for_its_epoch(three: Quorum) -> None:
    leader = elected(three)
    follower = next(n for n in three.running() if n.role is Role.FOLLOWER)
    with pytest.raises(KafkaError) as raised:
        follower.append([b"x"])
    assert raised.value.error is Errors.NOT_LEADER_OR_FOLLOWER
    with pytest.raises(KafkaError, match="stale"):
        leader.append([b"x"], epoch=leader.epoch - 1)


def test_killing_the_leader_elects_another_in_the_next_epoch_within_the_timeouts(three: Quorum) -> None:
    old = elected(three)
    offset = old.append([b"before"])
    committed_everywhere(three, offset)
    killed_at = three.scheduler.now_ms
    old.kill()
    new = elected(three)
    assert new.node_id != old.node_id and new.epoch > old.epoch
    # Followers notice after the fetch timeout (the same for both, so their first elections may split
    # the vote), then a randomized election timeout settles it.
    assert FETCH_MS < three.scheduler.now_ms - killed_at < FETCH_MS + 3 * 2 * ELECTION_MS
    reasons = [e.reason for e in three.journal.of_type(QuorumElectionStarted) if e.time_ms > killed_at]
    assert any(f"no successful fetch from leader {old.node_id}" in reason for reason in reasons)
    committed_everywhere(three, new.append([b"after"]))
    assert [v for _, v in three.listeners[new.node_id].applied] == [b"before", b"after"]


def test_an_observer_asking_voters_who_leads_is_told_their_epoch_and_leader_of_the_moment_and_fetches_from_its_log_end(
        three: Quorum) -> None:
    # Voters reuse one error answer per epoch state, observers one Fetch while their position holds: neither may go stale.
    old = elected(three)
    committed_everywhere(three, old.append([b"before"]))
    observer = three.nodes[OBSERVER_ID]
    voters = {voter_name(voter_id): voter_id for voter_id in three.voter_ids}
    told: set[tuple[int, int]] = set()

    def check(node: str, request: Any, response: Any) -> None:
        if not isinstance(request, RaftFetchRequest) or request.replica_id != OBSERVER_ID:
            return
        assert request.fetch_offset == observer.log.end_offset  # one Fetch in flight: the log cannot move meanwhile
        if response.error is not Errors.NONE:
            voter = three.nodes[voters[node]]
            leader = voter.leader_and_epoch.leader_id
            assert (response.leader_id, response.leader_epoch) == (-1 if leader is None else leader, voter.epoch)
            told.add((voter.node_id, voter.epoch))

    three.network.response_checks.append(check)
    old.kill()
    new = elected(three)
    committed_everywhere(three, new.append([b"after"]))
    assert [v for _, v in three.listeners[OBSERVER_ID].applied] == [b"before", b"after"]
    assert len({epoch for _, epoch in told}) > 1  # the answers followed the voters into their new epochs


def test_an_isolated_voter_keeps_its_epoch_and_cannot_disturb_the_leader_when_it_returns(three: Quorum) -> None:
    leader = elected(three)
    loner = next(n for n in three.running() if n.is_voter and n is not leader)
    for other in (1, 2, 3):
        if other != loner.node_id:
            three.network.cut(voter_name(loner.node_id), voter_name(other))
    three.scheduler.run_for(20_000)
    # KIP-996: it asks for pre-votes again and again but never becomes a candidate, so its epoch stays.
    assert loner.epoch == leader.epoch and loner.role is not Role.CANDIDATE
    assert any(e.node_id == loner.node_id and e.pre_vote for e in three.journal.of_type(QuorumElectionStarted))
    for other in (1, 2, 3):
        three.network.heal(voter_name(loner.node_id), voter_name(other))
    three.scheduler.run_for(10_000)
    assert three.stable_leader() is leader and leader.epoch == 1


def test_a_leader_cut_off_from_the_voters_resigns_after_one_and_a_half_fetch_timeouts(three: Quorum) -> None:
    leader = elected(three)
    three.scheduler.run_for(1000)
    cut_at = three.scheduler.now_ms
    for other in (1, 2, 3):
        if other != leader.node_id:
            three.network.cut(voter_name(leader.node_id), voter_name(other))
    assert three.run_until(lambda: leader.role is Role.RESIGNED, 10_000)
    # Counted from the last fetch of a majority: a fetch parked at the leader when the link was cut
    # still counts when it completes, up to one long-poll (500 ms) either side of the cut.
    assert abs(three.scheduler.now_ms - cut_at - 1.5 * FETCH_MS) <= MAX_FETCH_WAIT_MS
    (resigned,) = three.journal.of_type(QuorumLeaderResigned)
    assert "no majority of voters fetched from it" in resigned.reason


def test_a_clean_shutdown_of_the_leader_hands_over_to_the_most_caught_up_voter_at_once(three: Quorum) -> None:
    leader = elected(three)
    epoch = leader.epoch
    committed_everywhere(three, leader.append([b"x"]))
    stopped = leader.shutdown()
    asked_at = three.scheduler.now_ms
    assert three.run_until(lambda: stopped.done, 6000)
    assert not leader.running
    new = elected(three)
    # EndQuorumEpoch: the first preferred successor starts its election at once, not after a fetch timeout.
    assert three.scheduler.now_ms - asked_at < ELECTION_MS
    assert new.epoch == epoch + 1
    assert "shutting down" in three.journal.of_type(QuorumLeaderResigned)[0].reason


def test_a_restarted_former_leader_starts_resigned_and_its_records_survive(three: Quorum) -> None:
    leader = elected(three)
    offset = leader.append([b"kept"])
    committed_everywhere(three, offset)
    for node in three.running():
        node.kill()
    for node_id in three.all_ids:
        three.start(node_id)
    starts = [e for e in three.journal.of_type(QuorumReplicaStarted) if e.node_id == leader.node_id]
    assert starts[-1].role == "resigned" and starts[-1].epoch == leader.epoch
    new = elected(three)
    assert new.epoch > leader.epoch
    committed_everywhere(three, new.append([b"later"]))
    assert [v for _, v in three.listeners[OBSERVER_ID].applied] == [b"kept", b"later"]


def test_an_old_leaders_uncommitted_records_are_truncated_when_it_rejoins(three: Quorum) -> None:
    old = elected(three)
    committed_everywhere(three, old.append([b"committed"]))
    for other in (1, 2, 3):
        if other != old.node_id:
            three.network.cut(voter_name(old.node_id), voter_name(other))
    three.network.cut(voter_name(old.node_id), "broker-100")
    lost = old.append([b"never committed"])
    three.scheduler.run_for(100)
    assert old.log.end_offset > lost
    assert three.run_until(lambda: any(n.role is Role.LEADER and n is not old for n in three.running()), 10_000)
    new = next(n for n in three.running() if n.role is Role.LEADER and n is not old)
    new.append([b"new leader"])
    three.scheduler.run_for(500)
    for other in (1, 2, 3):
        three.network.heal(voter_name(old.node_id), voter_name(other))
    three.network.heal(voter_name(old.node_id), "broker-100")
    elected(three)
    three.scheduler.run_for(2000)
    (truncated,) = [e for e in three.journal.of_type(QuorumFollowerTruncated) if e.node_id == old.node_id]
    assert truncated.new_log_end_offset <= lost < truncated.old_log_end_offset
    values = [v for _, v in three.listeners[old.node_id].applied]
    assert b"never committed" not in values and values[:1] == [b"committed"] and b"new leader" in values


def test_votes_are_refused_to_candidates_with_older_logs_and_say_why(three: Quorum) -> None:
    leader = elected(three)
    committed_everywhere(three, 0)
    follower = next(n for n in three.running() if n.is_voter and n is not leader)
    response = send(three, voter_name(follower.node_id),
                    VoteRequest(CLUSTER_ID, leader.node_id, leader.epoch + 1, 0, 0, pre_vote=False,
                                voter_id=follower.node_id))
    assert isinstance(response, VoteResponse) and not response.vote_granted
    assert response.leader_epoch == leader.epoch + 1  # a newer epoch is taken even when the vote is refused
    rejected = three.journal.of_type(QuorumVoteRejected)[-1]
    assert "log is behind" in rejected.reason and "we at offset" in rejected.reason


def test_requests_from_another_cluster_or_an_old_epoch_are_refused(three: Quorum) -> None:
    leader = elected(three)
    name = voter_name(leader.node_id)
    stranger = send(three, name, VoteRequest("other-cluster", 2, 9, 0, 0, False, leader.node_id))
    assert stranger.error is Errors.INCONSISTENT_CLUSTER_ID
    stale = send(three, name, RaftFetchRequest(CLUSTER_ID, 7, leader.epoch - 1, 0, 0, -1, 0, 1000))
    assert isinstance(stale, RaftFetchResponse) and stale.error is Errors.FENCED_LEADER_EPOCH
    assert (stale.leader_id, stale.leader_epoch) == (leader.node_id, leader.epoch)
    ahead = send(three, name, RaftFetchRequest(CLUSTER_ID, 7, leader.epoch + 1, 0, 0, -1, 0, 1000))
    assert ahead.error is Errors.UNKNOWN_LEADER_EPOCH
    nonsense = send(three, name, RaftFetchRequest(CLUSTER_ID, 7, leader.epoch, 0, leader.epoch + 1, -1, 0, 1000))
    assert nonsense.error is Errors.INVALID_REQUEST
    begin = send(three, name, BeginQuorumEpochRequest(CLUSTER_ID, 2, leader.epoch - 1, leader.node_id))
    assert begin.error is Errors.FENCED_LEADER_EPOCH


def test_a_fetch_at_the_log_end_waits_at_the_leader_for_new_records(three: Quorum) -> None:
    leader = elected(three)
    committed_everywhere(three, 0)
    hw = leader.high_watermark
    assert hw is not None

    def fetch(known_high_watermark: int) -> float:
        """Fetch at the log end; how long the answer took."""
        answers: list[float] = []
        asked = three.scheduler.now_ms
        request = RaftFetchRequest(CLUSTER_ID, OBSERVER_ID + 1, leader.epoch, leader.log.end_offset,
                                   leader.log.last_fetched_epoch, known_high_watermark, MAX_FETCH_WAIT_MS, 1 << 20)
        three.network.request("tester", voter_name(leader.node_id), request,
                              lambda response, error: answers.append(three.scheduler.now_ms), timeout_ms=2000)
        three.run_until(lambda: bool(answers), 1000)
        return answers[0] - asked

    assert fetch(known_high_watermark=hw) == MAX_FETCH_WAIT_MS + 1  # nothing new: it waits out max_wait_ms
    assert fetch(known_high_watermark=-1) == 1  # KIP-1166: a fetcher behind on the high watermark is answered at once
    three.scheduler.call_later(100, leader.append, [b"wake"])
    # Answered once the record is written (after the linger), not after 500 ms.
    assert fetch(known_high_watermark=hw) <= 100 + QuorumConfig.build().append_linger_ms + 1


def test_a_follower_behind_the_leaders_log_start_fetches_a_snapshot(tmp_path: Path) -> None:
    config = QuorumConfig.build({"metadata.log.segment.bytes": 1024, "metadata.log.segment.min.bytes": 512,
                                 "metadata.max.retention.bytes": 1})
    quorum = Quorum(tmp_path, (1, 2, 3), seed=5, config=config, snapshot_every_bytes=200, max_fetch_bytes=300)
    quorum.start_all()
    leader = elected(quorum)
    laggard = next(n for n in quorum.running() if n is not leader)
    laggard.kill()
    for index in range(60):
        leader.append([b"record-%03d" % index])
        quorum.scheduler.run_for(50)
    quorum.scheduler.run_for(61_000)  # the snapshot cleaner runs every minute
    assert leader.log.start_offset > 0, "the leader's log was not cleaned"
    restarted = quorum.start(laggard.node_id)
    committed_everywhere(quorum, leader.log.end_offset - 1, timeout_ms=10_000)
    loaded = [e for e in quorum.journal.of_type(MetadataSnapshotLoaded) if e.node_id == laggard.node_id]
    assert loaded and loaded[-1].fetched_from == leader.node_id
    assert restarted.log.start_offset >= leader.log.start_offset
    assert quorum.listeners[laggard.node_id].snapshots_loaded
    assert dict(quorum.listeners[laggard.node_id].applied) == dict(quorum.listeners[leader.node_id].applied)
    quorum.close()


def test_a_restarted_replica_loads_its_own_snapshot_first(tmp_path: Path) -> None:
    quorum = Quorum(tmp_path, (1,), seed=2, snapshot_every_bytes=10)
    quorum.start_all()
    leader = elected(quorum)
    committed_everywhere(quorum, leader.append([b"0123456789", b"abc"]))
    quorum.scheduler.run_for(10)
    assert leader.log.snapshot_ids
    leader.kill()
    again = quorum.start(1)
    elected(quorum)
    committed_everywhere(quorum, again.append([b"next"]))
    loaded = quorum.journal.of_type(MetadataSnapshotLoaded)[-1]
    assert loaded.fetched_from == -1
    assert [v for _, v in quorum.listeners[1].applied] == [b"0123456789", b"abc", b"next"]


def test_a_single_voter_elects_itself_at_once(tmp_path: Path) -> None:
    quorum = Quorum(tmp_path, (1,))
    quorum.start_all()
    quorum.scheduler.run_for(1)
    assert quorum.nodes[1].role is Role.LEADER and quorum.nodes[1].epoch == 1
    quorum.close()


def test_an_unreadable_quorum_state_stops_the_replica_with_an_event(tmp_path: Path) -> None:
    quorum = Quorum(tmp_path, (1, 2, 3))
    quorum.start(1).kill()
    (quorum.directory(1) / "__cluster_metadata-0" / "quorum-state").write_text("{broken")
    with pytest.raises(KafkaError) as raised:
        quorum.start(1)
    assert raised.value.error is Errors.KAFKA_STORAGE_ERROR
    assert quorum.journal.of_type(QuorumReplicaFailed)[-1].node_id == 1


def test_the_same_seed_replays_the_same_elections(tmp_path: Path) -> None:
    def run(path: Path) -> list[str]:
        quorum = Quorum(path, (1, 2, 3, 4, 5), seed=99)
        quorum.start_all()
        leader = elected(quorum)
        leader.kill()
        elected(quorum)
        quorum.close()
        return [event.describe() for event in quorum.journal]

    assert run(tmp_path / "a") == run(tmp_path / "b")


def test_a_vote_is_on_disk_before_it_is_answered(three: Quorum) -> None:
    leader = elected(three)
    seen: list[tuple[int, int]] = []

    def on_response(node: str, request: Any, response: Any) -> None:
        if isinstance(response, VoteResponse) and response.vote_granted and not request.pre_vote:
            stored = three.stored_election(int(node.split("-")[1]))
            seen.append((stored["leaderEpoch"], stored["votedId"]))

    three.network.response_checks.append(on_response)
    leader.kill()
    new = elected(three)
    assert seen and all(entry == (new.epoch, new.node_id) for entry in seen)


def test_a_follower_on_the_leaders_epoch_counts_it_as_offset_epoch_pair_order() -> None:
    assert OffsetAndEpoch(5, 2) > OffsetAndEpoch(100, 1)
    assert OffsetAndEpoch(6, 2) > OffsetAndEpoch(5, 2)
