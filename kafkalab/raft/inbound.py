"""How one quorum replica answers the others: Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch, FetchSnapshot.

Kafka's ``KafkaRaftClient.handle*Request``: each request is validated (cluster id, epoch),
may move the replica to a newer epoch or leader, and is answered with what the replica
knows of the leader and epoch. A granted vote is written to ``quorum-state`` before the
answer leaves. A leader parks a Fetch that finds nothing new (the fetch purgatory) until
records arrive, the high watermark moves or ``max_wait_ms`` passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kafkalab.errors import Errors
from kafkalab.events.raft import QuorumEpochBegun, QuorumVoteGranted, QuorumVoteRejected
from kafkalab.protocol.raft import (
    NO_HIGH_WATERMARK,
    NO_LEADER_ID,
    BeginQuorumEpochRequest,
    BeginQuorumEpochResponse,
    EndQuorumEpochRequest,
    EndQuorumEpochResponse,
    FetchSnapshotRequest,
    FetchSnapshotResponse,
    OffsetAndEpoch,
    RaftFetchRequest,
    RaftFetchResponse,
    VoteRequest,
    VoteResponse,
)
from kafkalab.raft.divergence import FetchPosition, ValidOffsetAndEpoch
from kafkalab.raft.epoch_states import EpochState, FollowerState, LeaderState
from kafkalab.sim.network import Responder
from kafkalab.sim.scheduler import Timer

if TYPE_CHECKING:
    from kafkalab.raft.client import RaftNode

#: The requests a voter answers as a member of the quorum.
QUORUM_REQUESTS = (VoteRequest, BeginQuorumEpochRequest, EndQuorumEpochRequest, RaftFetchRequest, FetchSnapshotRequest)


def _strict_exponential_backoff_ms(position: int, successors: int, max_ms: int) -> int:
    """Sooner for the more caught-up successors (``strictExponentialElectionBackoffMs``)."""
    if position == 0:
        return 0
    if position < 0 or position >= successors:
        return max_ms
    return min(max_ms, (max_ms >> (successors - 1)) << (position - 1))


@dataclass(eq=False)
class _ParkedFetch:
    """A Fetch waiting at the leader for records past its offset (Kafka's fetch purgatory)."""

    request: RaftFetchRequest
    respond: Responder
    timer: Timer | None = None


class InboundRequests:
    """Answers the requests that reach ``node`` from its peers."""

    def __init__(self, node: RaftNode) -> None:
        self.node = node
        self.parked: list[_ParkedFetch] = []
        #: The last error answer to a Fetch and the state it was built in: a voter without a leader gives every
        #: observer's Fetch the same one, and a state's epoch and leader never change (a transition makes a new one).
        self._fetch_error_answer: tuple[EpochState, RaftFetchResponse] | None = None

    def handle(self, request: Any, respond: Responder) -> None:
        """Answer one request (the replica's network handler runs it through ``RaftNode.guarded``)."""
        now = self.node.scheduler.now_ms
        if isinstance(request, RaftFetchRequest):  # first: nearly every request is a Fetch
            self._handle_fetch_request(request, respond, now)
        elif isinstance(request, VoteRequest):
            respond(self._handle_vote_request(request, now))
        elif isinstance(request, BeginQuorumEpochRequest):
            respond(self._handle_begin_quorum_epoch_request(request, now))
        elif isinstance(request, EndQuorumEpochRequest):
            respond(self._handle_end_quorum_epoch_request(request, now))
        elif isinstance(request, FetchSnapshotRequest):
            respond(self._handle_fetch_snapshot_request(request, now))
        self.node.request_poll()

    def _vote_response(self, error: Errors, granted: bool = False) -> VoteResponse:
        return VoteResponse(error, self._leader_id_or_nil(), self.node.epoch, granted)

    def _leader_id_or_nil(self) -> int:
        leader = self.node.quorum.leader_id
        return NO_LEADER_ID if leader is None else leader

    def _handle_vote_request(self, request: VoteRequest, now: float) -> VoteResponse:
        """Grant or refuse a (pre-)vote; a granted vote is fsynced to ``quorum-state`` before the answer."""
        if request.cluster_id != self.node.cluster_id:
            return self._vote_response(Errors.INCONSISTENT_CLUSTER_ID)
        # A candidate bumped its epoch past its log's; a prospective has not (KafkaRaftClient.handleVoteRequest).
        illegal_epoch = (request.last_offset_epoch > request.candidate_epoch if request.pre_vote
                         else request.last_offset_epoch >= request.candidate_epoch)
        if (request.last_offset < 0 or request.last_offset_epoch < 0 or illegal_epoch
                or request.voter_id != self.node.node_id):
            return self._vote_response(Errors.INVALID_REQUEST)

        def reject(reason: str) -> None:
            self.node.journal.emit(QuorumVoteRejected, voter_id=self.node.node_id, candidate_id=request.candidate_id,
                                   epoch=request.candidate_epoch, pre_vote=request.pre_vote, reason=reason)

        if request.candidate_epoch < self.node.epoch:
            reject(f"its epoch {request.candidate_epoch} is older than ours ({self.node.epoch})")
            return self._vote_response(Errors.FENCED_LEADER_EPOCH)
        if request.candidate_epoch > self.node.epoch:
            self.node.to_unattached(request.candidate_epoch, now)
        if request.candidate_id not in self.node.voter_nodes:
            reject("it is not a voter")
            return self._vote_response(Errors.NONE)
        ours = self.node.log.end_offset_and_epoch()
        theirs = OffsetAndEpoch(request.last_offset, request.last_offset_epoch)
        decision = self.node.quorum.can_grant_vote(request.candidate_id, theirs >= ours, request.pre_vote)
        if not decision.granted:
            reason = decision.reason
            if theirs < ours:
                reason += (f" (it ends at offset {theirs.offset} in epoch {theirs.epoch}, we at offset {ours.offset} "
                           f"in epoch {ours.epoch})")
            reject(reason)
            return self._vote_response(Errors.NONE)
        if not request.pre_vote and self.node.quorum.state.voted_id is None:
            vote = self.node.quorum.add_vote(request.candidate_epoch, request.candidate_id, now)
            self.node.apply(vote, now, vote_only=True)
        self.node.journal.emit(QuorumVoteGranted, voter_id=self.node.node_id, candidate_id=request.candidate_id,
                               epoch=request.candidate_epoch, pre_vote=request.pre_vote)
        return self._vote_response(Errors.NONE, granted=True)

    def _validate_voter_only_request(self, remote_id: int, epoch: int) -> Errors | None:
        if epoch < self.node.epoch:
            return Errors.FENCED_LEADER_EPOCH
        if remote_id < 0 or remote_id not in self.node.voter_nodes:
            return Errors.INVALID_REQUEST
        return None

    def _handle_begin_quorum_epoch_request(self, request: BeginQuorumEpochRequest, now: float) -> BeginQuorumEpochResponse:
        if request.cluster_id != self.node.cluster_id:
            error: Errors | None = Errors.INCONSISTENT_CLUSTER_ID
        else:
            error = self._validate_voter_only_request(request.leader_id, request.leader_epoch)
        if error is None:
            before = (self.node.epoch, self.node.quorum.leader_id)
            self.node.maybe_transition(request.leader_id, request.leader_epoch, now)
            if (self.node.epoch, self.node.quorum.leader_id) != before:
                self.node.journal.emit(QuorumEpochBegun, voter_id=self.node.node_id, leader_id=request.leader_id,
                                       epoch=request.leader_epoch, old_epoch=before[0])
        return BeginQuorumEpochResponse(error or Errors.NONE, self._leader_id_or_nil(), self.node.epoch)

    def _handle_end_quorum_epoch_request(self, request: EndQuorumEpochRequest, now: float) -> EndQuorumEpochResponse:
        if request.cluster_id != self.node.cluster_id:
            error: Errors | None = Errors.INCONSISTENT_CLUSTER_ID
        else:
            error = self._validate_voter_only_request(request.leader_id, request.leader_epoch)
        if error is None:
            self.node.maybe_transition(request.leader_id, request.leader_epoch, now)
            state = self.node.quorum.state
            if isinstance(state, FollowerState) and state.leader == request.leader_id:
                successors = request.preferred_successors
                position = successors.index(self.node.node_id) if self.node.node_id in successors else len(successors)
                state.override_fetch_timeout(now, _strict_exponential_backoff_ms(
                    position, len(successors), self.node.config.election_backoff_max_ms))
        return EndQuorumEpochResponse(error or Errors.NONE, self._leader_id_or_nil(), self.node.epoch)

    def _validate_leader_only_request(self, epoch: int) -> Errors | None:
        state = self.node.quorum.state
        if epoch < state.epoch:
            return Errors.FENCED_LEADER_EPOCH
        if epoch > state.epoch:
            return Errors.UNKNOWN_LEADER_EPOCH
        if not isinstance(state, LeaderState):
            return Errors.NOT_LEADER_OR_FOLLOWER
        if self.node.shutting_down:
            return Errors.BROKER_NOT_AVAILABLE
        return None

    def _fetch_error(self, error: Errors) -> RaftFetchResponse:
        state = self.node.quorum.state
        cached = self._fetch_error_answer
        if cached is not None and cached[0] is state and cached[1].error is error:
            return cached[1]  # a frozen value, so one answer serves every Fetch it fits
        leader = state.leader_id
        answer = RaftFetchResponse(error, NO_LEADER_ID if leader is None else leader, state.epoch)
        self._fetch_error_answer = (state, answer)
        return answer

    def _handle_fetch_request(self, request: RaftFetchRequest, respond: Responder, now: float) -> None:
        """Answer a Fetch now, or park it until records arrive or ``max_wait_ms`` passes."""
        if request.cluster_id != self.node.cluster_id:
            respond(self._fetch_error(Errors.INCONSISTENT_CLUSTER_ID))
            return
        if (request.max_wait_ms < 0 or request.fetch_offset < 0 or request.last_fetched_epoch < 0
                or request.last_fetched_epoch > request.current_leader_epoch):
            respond(self._fetch_error(Errors.INVALID_REQUEST))
            return
        response = self._try_complete_fetch(request, now)
        if (response.error is not Errors.NONE or response.records or request.max_wait_ms == 0
                or response.diverging_epoch is not None or response.snapshot_id is not None
                or request.high_watermark < response.high_watermark):
            respond(response)
            return
        parked = _ParkedFetch(request, respond)
        parked.timer = self.node.group.call_later(request.max_wait_ms, self.node.guarded, self._complete_parked, parked)
        self.parked.append(parked)

    def _complete_parked(self, parked: _ParkedFetch) -> None:
        if parked in self.parked:
            self.parked.remove(parked)
            if parked.timer is not None:
                parked.timer.cancel()
            parked.respond(self._try_complete_fetch(parked.request, self.node.scheduler.now_ms))

    def _try_complete_fetch(self, request: RaftFetchRequest, now: float) -> RaftFetchResponse:
        """Validate a fetch against the leader's log and read from it (``tryCompleteFetchRequest``)."""
        error = self._validate_leader_only_request(request.current_leader_epoch)
        state = self.node.quorum.state
        if error is not None or not isinstance(state, LeaderState):
            return self._fetch_error(error or Errors.NOT_LEADER_OR_FOLLOWER)
        latest_snapshot = self.node.log.latest_snapshot_id
        if request.fetch_offset == 0 and latest_snapshot is not None:
            # An empty follower loads the latest snapshot rather than replaying the log from 0.
            valid = ValidOffsetAndEpoch(FetchPosition.SNAPSHOT, latest_snapshot)
        else:
            valid = self.node.log.validate_offset_and_epoch(request.fetch_offset, request.last_fetched_epoch)
        records = b""
        if valid.kind is FetchPosition.VALID:
            records = self.node.log.read(request.fetch_offset, request.max_bytes)
            advanced = state.update_replica_state(request.replica_id, request.fetch_offset, now)
            if advanced is not None:
                self.node.on_leader_high_watermark(state, now)
        return RaftFetchResponse(
            Errors.NONE, self.node.node_id, state.epoch,
            NO_HIGH_WATERMARK if state.high_watermark is None else state.high_watermark, self.node.log.start_offset,
            records, valid.offset_and_epoch if valid.kind is FetchPosition.DIVERGING else None,
            valid.offset_and_epoch if valid.kind is FetchPosition.SNAPSHOT else None)

    def _handle_fetch_snapshot_request(self, request: FetchSnapshotRequest, now: float) -> FetchSnapshotResponse:
        if request.cluster_id != self.node.cluster_id:
            return FetchSnapshotResponse(Errors.INCONSISTENT_CLUSTER_ID, self._leader_id_or_nil(), self.node.epoch)
        error = self._validate_leader_only_request(request.current_leader_epoch)
        state = self.node.quorum.state
        if error is not None or not isinstance(state, LeaderState):
            return FetchSnapshotResponse(error or Errors.NOT_LEADER_OR_FOLLOWER, self._leader_id_or_nil(), self.node.epoch)
        data = self.node.log.snapshot_bytes(request.snapshot_id)
        if data is None:
            return FetchSnapshotResponse(Errors.SNAPSHOT_NOT_FOUND, self.node.node_id, state.epoch)
        if not 0 <= request.position < len(data):
            return FetchSnapshotResponse(Errors.POSITION_OUT_OF_RANGE, self.node.node_id, state.epoch)
        state.update_check_quorum(request.replica_id, now)
        chunk = data[request.position:request.position + max(1, request.max_bytes)]
        return FetchSnapshotResponse(Errors.NONE, self.node.node_id, state.epoch, request.snapshot_id, len(data),
                                     request.position, chunk)

    def complete_parked_fetches(self, below_offset: int | None = None) -> None:
        """Answer the parked fetches (those at offsets below ``below_offset``, if given) with what is there now."""
        for parked in [p for p in self.parked if below_offset is None or p.request.fetch_offset < below_offset]:
            self._complete_parked(parked)
