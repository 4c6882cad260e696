"""What one quorum replica sends to the others, and what it does with their answers (``KafkaRaftClient``).

Votes and pre-votes, BeginQuorumEpoch, EndQuorumEpoch, Fetch and FetchSnapshot go out
through the ``RequestManager`` (one request in flight per peer, backoff after a failure);
every answer first goes through ``maybeHandleCommonResponse``, since any answer can say
that there is a newer epoch or a leader this replica did not know.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import TYPE_CHECKING, Any

from kafkalab.errors import Errors
from kafkalab.events.raft import MetadataSnapshotLoaded, QuorumFollowerTruncated
from kafkalab.protocol.raft import (
    NO_HIGH_WATERMARK,
    BeginQuorumEpochResponse,
    EndQuorumEpochResponse,
    FetchSnapshotRequest,
    FetchSnapshotResponse,
    RaftFetchRequest,
    RaftFetchResponse,
    VoteRequest,
    VoteResponse,
)
from kafkalab.raft.epoch_states import CandidateState, FollowerState, ProspectiveState, ResignedState
from kafkalab.raft.quorum_state import IllegalTransition
from kafkalab.raft.requests import RequestManager

if TYPE_CHECKING:
    from kafkalab.raft.client import RaftNode

#: How long a Fetch waits at the leader for new records (``KafkaRaftClient.MAX_FETCH_WAIT_MS``).
MAX_FETCH_WAIT_MS = 500


def leader_or_none(leader_id: int) -> int | None:
    """The wire's -1 ("no leader") as None."""
    return None if leader_id < 0 else leader_id


class OutboundRequests:
    """Requests from ``node`` to its peers and the handling of their responses."""

    def __init__(self, node: RaftNode) -> None:
        self.node = node
        self.requests = RequestManager(node.config.retry_backoff_ms, node.rng)
        self._correlation_ids = itertools.count(1)
        #: The last Fetch built: an observer without a leader sends the same one to voter after voter.
        self._last_fetch: RaftFetchRequest | None = None

    def send(self, destination: int, request: Any, now: float) -> float:
        """Send ``request`` if the connection is ready; how long until it could be sent otherwise."""
        if not self.requests.is_ready(destination, now):
            return self.requests.remaining_backoff_ms(destination, now)
        correlation_id = next(self._correlation_ids)
        self.requests.on_request_sent(destination, correlation_id)
        # A partial rather than a closure: no Python frame of its own between the network and the handler.
        on_response = functools.partial(self.node.guarded, self._on_response, destination, correlation_id)
        self.node.network.request(self.node.node_name, self.node.voter_nodes[destination], request, on_response,
                                  self.node.config.request_timeout_ms)
        return math.inf

    def send_vote_requests(self, state: ProspectiveState | CandidateState, pre_vote: bool, now: float) -> float:
        """Ask every voter that has not answered yet, while the election can still be won."""
        if state.votes.is_vote_rejected:
            return math.inf
        timeout = math.inf
        for voter in sorted(state.votes.unrecorded):
            # A (frozen, so costly) request is built only for a voter it can go to: a candidate polls at every
            # Fetch that reaches it, and the voter it still waits for is usually the dead leader, backing off.
            wait = self.requests.remaining_backoff_ms(voter, now)
            if wait <= 0:
                end = self.node.log.end_offset_and_epoch()
                wait = self.send(voter, VoteRequest(self.node.cluster_id, self.node.node_id, state.epoch, end.epoch,
                                                    end.offset, pre_vote, voter), now)
            timeout = min(timeout, wait)
        return timeout

    def _fetch_request(self) -> RaftFetchRequest:
        node, state = self.node, self.node.quorum.state
        log, high_watermark = node.log, state.high_watermark
        epoch, fetch_offset, last_fetched_epoch = state.epoch, log.end_offset, log.last_fetched_epoch
        high_watermark = NO_HIGH_WATERMARK if high_watermark is None else high_watermark
        last = self._last_fetch
        if (last is not None and last.current_leader_epoch == epoch and last.fetch_offset == fetch_offset
                and last.last_fetched_epoch == last_fetched_epoch and last.high_watermark == high_watermark):
            return last  # a frozen value: the same request again costs no new one
        last = self._last_fetch = RaftFetchRequest(node.cluster_id, node.node_id, epoch, fetch_offset, last_fetched_epoch,
                                                   high_watermark, MAX_FETCH_WAIT_MS, node.max_fetch_bytes)
        return last

    def fetch_from_best_node(self, state: FollowerState, now: float) -> float:
        """Fetch from the leader; an observer whose leader connection backs off asks another voter who leads.

        Voters fetch only from the leader, as ``pollFollowerAsVoter`` does with static voters
        (they learn a new leader from its BeginQuorumEpoch); the observer's detour is
        ``pollFollowerAsObserver``.
        """
        if not self.node.is_voter and self.requests.is_backing_off(state.leader, now):
            return self.fetch_from_any_voter(now)
        if self.requests.has_in_flight():
            return math.inf
        wait = self.requests.remaining_backoff_ms(state.leader, now)
        if wait > 0:  # nothing is built for a leader backing off (a voter's dead leader, polled at every request)
            return wait
        fetching = self.node.log.fetching_snapshot
        if fetching is not None:
            request: Any = FetchSnapshotRequest(self.node.cluster_id, self.node.node_id, self.node.epoch, fetching,
                                                self.node.log.fetched_snapshot_size(), self.node.max_fetch_bytes)
        else:
            request = self._fetch_request()
        return self.send(state.leader, request, now)

    def fetch_from_any_voter(self, now: float) -> float:
        """Fetch from a ready voter chosen at random, to learn who leads (``maybeSendAnyVoterFetch``).

        No backoff paces this while no leader is known: a voter without a leader answers
        NOT_LEADER_OR_FOLLOWER, which counts as handled (``maybeHandleCommonResponse``), and a
        handled answer leaves the connection ready (``RequestManager.onResponseResult``), so an
        observer asks voter after voter at the network's round trip, as Kafka's does; only a
        failed request backs off (``controller.quorum.retry.backoff.ms``).
        """
        voters = self.node.quorum.remote_voters
        if self.requests.has_in_flight():
            return math.inf
        destination = self.requests.find_ready(voters, now)
        if destination is None:
            return self.requests.backoff_before_available(voters, now)
        return self.send(destination, self._fetch_request(), now)

    # -- responses ----------------------------------------------------------------------

    def _on_response(self, source: int, correlation_id: int, response: Any, error: Errors | None) -> None:
        if not self.requests.is_response_expected(source, correlation_id):
            return
        now = self.node.scheduler.now_ms
        if error is not None:
            success = False  # refused, reset or timed out: back off and retry (``handleUnexpectedError``)
        elif isinstance(response, RaftFetchResponse):  # first: nearly every answer is a Fetch's
            success = self._handle_fetch_response(response, now)
        elif isinstance(response, VoteResponse):
            success = self._handle_vote_response(source, response, now)
        elif isinstance(response, BeginQuorumEpochResponse):
            success = self._handle_begin_quorum_epoch_response(response, now)
        elif isinstance(response, EndQuorumEpochResponse):
            success = self._handle_end_quorum_epoch_response(source, response, now)
        else:
            success = self._handle_fetch_snapshot_response(response, now)
        if self.requests.is_response_expected(source, correlation_id):
            self.requests.on_response(source, success, now)
        self.node.request_poll()

    def _handle_common_response(self, error: Errors, leader_id: int, epoch: int, now: float) -> bool | None:
        """What every response teaches about the leader and epoch (``maybeHandleCommonResponse``).

        None means the caller handles the response; True or False mean it is handled, and
        whether the connection may be used again at once.
        """
        leader = leader_or_none(leader_id)
        state = self.node.quorum.state
        if epoch < state.epoch or error is Errors.UNKNOWN_LEADER_EPOCH:
            return True
        if epoch > state.epoch or error in (Errors.FENCED_LEADER_EPOCH, Errors.NOT_LEADER_OR_FOLLOWER):
            self.node.maybe_transition(leader, epoch, now)
            return True
        if leader is not None and state.leader_id is None:
            self.node.to_follower(epoch, leader, now)
            return None if error is Errors.NONE else True
        if error is Errors.BROKER_NOT_AVAILABLE:
            return False
        if error is Errors.INVALID_REQUEST:
            raise IllegalTransition(f"Replica {self.node.node_id} sent a request the receiver found invalid")
        return None

    def _handle_vote_response(self, source: int, response: VoteResponse, now: float) -> bool:
        handled = self._handle_common_response(response.error, response.leader_id, response.leader_epoch, now)
        if handled is not None:
            return handled
        if response.error is not Errors.NONE:
            return False
        state = self.node.quorum.state
        if isinstance(state, ProspectiveState):
            state.votes.record(source, response.vote_granted)
            if state.votes.is_vote_granted:
                self.node.become_candidate("a majority granted it a pre-vote", now)
            elif state.votes.is_vote_rejected:
                self.node.prospective_lost(state, now)
        elif isinstance(state, CandidateState):
            state.votes.record(source, response.vote_granted)
            # A lost election waits out its timeout before the next pre-vote (Kafka 4.x).
            self.node.maybe_become_leader(state, now)
        return True

    def _handle_begin_quorum_epoch_response(self, response: BeginQuorumEpochResponse, now: float) -> bool:
        """A voter's answer to BeginQuorumEpoch only matters for what it says of the leader and epoch."""
        handled = self._handle_common_response(response.error, response.leader_id, response.leader_epoch, now)
        if handled is not None:
            return handled
        return response.error is Errors.NONE

    def _handle_end_quorum_epoch_response(self, source: int, response: EndQuorumEpochResponse, now: float) -> bool:
        handled = self._handle_common_response(response.error, response.leader_id, response.leader_epoch, now)
        if handled is not None:
            return handled
        state = self.node.quorum.state
        if response.error is Errors.NONE and isinstance(state, ResignedState):
            state.unacked_voters.discard(source)
        return response.error is Errors.NONE

    def _follower_state(self) -> FollowerState:
        state = self.node.quorum.state
        if not isinstance(state, FollowerState):
            raise IllegalTransition(f"Expected to be a follower, but replica {self.node.node_id} is {state.role.value}")
        return state

    def _handle_fetch_response(self, response: RaftFetchResponse, now: float) -> bool:
        handled = self._handle_common_response(response.error, response.leader_id, response.leader_epoch, now)
        if handled is not None:
            return handled
        if response.error is not Errors.NONE:
            return False
        state = self._follower_state()
        if response.diverging_epoch is not None:
            old_end = self.node.log.end_offset
            result = self.node.log.truncate_to_end_offset(response.diverging_epoch, int(now))
            self.node.journal.emit(QuorumFollowerTruncated, node_id=self.node.node_id, voter=self.node.is_voter,
                              leader_id=state.leader, epoch=state.epoch, diverging_epoch=response.diverging_epoch.epoch,
                              diverging_end_offset=response.diverging_epoch.offset, old_log_end_offset=old_end,
                              new_log_end_offset=result.new_log_end_offset)
        elif response.snapshot_id is not None:
            self.node.log.begin_fetching_snapshot(response.snapshot_id)
        else:
            if response.records:
                self.node.log.append_as_follower(response.records, int(now))
                if self.node.is_voter:
                    # A voter's fetch offset counts towards the high watermark: it must be on disk first.
                    self.node.log.flush(int(now))
            if response.high_watermark >= 0:
                self._update_follower_high_watermark(state, response.high_watermark)
        state.reset_fetch_timeout(now)
        return True

    def _update_follower_high_watermark(self, state: FollowerState, leader_high_watermark: int) -> None:
        new = min(self.node.log.end_offset, leader_high_watermark)
        if state.update_high_watermark(new) is not None:
            self.node.log.high_watermark = max(self.node.log.high_watermark or 0, new)

    def _handle_fetch_snapshot_response(self, response: FetchSnapshotResponse, now: float) -> bool:
        handled = self._handle_common_response(response.error, response.leader_id, response.leader_epoch, now)
        if handled is not None:
            return handled
        state = self._follower_state()
        fetching = self.node.log.fetching_snapshot
        if response.error is Errors.SNAPSHOT_NOT_FOUND or response.snapshot_id is None:
            # The leader deleted it meanwhile: start over with a Fetch.
            self.node.log.abort_fetching_snapshot()
            state.reset_fetch_timeout(now)
            return True
        if response.error is not Errors.NONE:
            return False
        if fetching != response.snapshot_id or response.position != self.node.log.fetched_snapshot_size():
            raise IllegalTransition(f"Unexpected FetchSnapshot response for {response.snapshot_id} at position "
                                    f"{response.position}; fetching {fetching}")
        self.node.log.append_fetched_snapshot(response.unaligned_records)
        if self.node.log.fetched_snapshot_size() >= response.size:
            snapshot_id = self.node.log.freeze_fetched_snapshot(int(now))
            self.node.fetched_snapshots.add(snapshot_id)
            self.node.journal.emit(MetadataSnapshotLoaded, node_id=self.node.node_id, voter=self.node.is_voter,
                              end_offset=snapshot_id.offset, epoch=snapshot_id.epoch, fetched_from=state.leader)
            self._update_follower_high_watermark(state, snapshot_id.offset)
        state.reset_fetch_timeout(now)
        return True
