"""A member of the KRaft quorum on kafkalab's scheduler and network (Kafka 4.1's ``KafkaRaftClient``).

It drives a ``QuorumState`` with messages and timers, the way ``KafkaRaftClient.poll``
does: every inbound request or response is handled at once, then ``_poll`` runs the
current state's duties (send votes, fetch, append, resign, start an election) and sleeps
until the earliest deadline. Durable transitions are written to ``quorum-state`` (and
fsynced) before anything that depends on them leaves the node. Voters are reachable on
the network under their node names; an observer (a broker) only sends.

One object is one incarnation of a replica: ``start`` once, then ``kill`` (a crash) or
``shutdown`` (clean); a restart is a new ``RaftNode`` on the same directory.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafkalab.errors import Errors, KafkaError
from kafkalab.events.journal import EventJournal
from kafkalab.events.raft import (
    MetadataLogCleaned,
    MetadataSnapshotLoaded,
    MetadataSnapshotTaken,
    QuorumElectionStarted,
    QuorumFollowerTruncated,
    QuorumHighWatermarkAdvanced,
    QuorumLeaderElected,
    QuorumLeaderResigned,
    QuorumReplicaFailed,
    QuorumReplicaStarted,
    QuorumReplicaStopped,
    QuorumVoteGranted,
    QuorumVoteRejected,
)
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
from kafkalab.raft.accumulator import BatchAccumulator
from kafkalab.raft.config import DEFAULT_QUORUM_CONFIG, QuorumConfig
from kafkalab.raft.divergence import FetchPosition, ValidOffsetAndEpoch
from kafkalab.raft.epoch_states import (
    CandidateState,
    FollowerState,
    LeaderState,
    ProspectiveState,
    ReplicaState,
    ResignedState,
    Role,
    UnattachedState,
)
from kafkalab.raft.listeners import STARTING, LeaderAndEpoch, ListenerContext, RaftListener, decode_committed
from kafkalab.raft.metadata_log import MetadataLog
from kafkalab.raft.quorum_state import IllegalTransition, QuorumState, Transition
from kafkalab.raft.quorum_store import QuorumStateStore
from kafkalab.raft.requests import RequestManager
from kafkalab.raft.snapshots import MAX_BATCH_SIZE_BYTES
from kafkalab.raft.views import QuorumDescription, RaftReplicaView, ReplicaProgress
from kafkalab.sim.network import Network, Responder
from kafkalab.sim.process import Future
from kafkalab.sim.scheduler import Scheduler, Timer, TimerGroup
from kafkalab.storage.control_records import LeaderChangeMessage

#: How long a Fetch waits at the leader for new records (``KafkaRaftClient.MAX_FETCH_WAIT_MS``).
MAX_FETCH_WAIT_MS = 500
#: Bytes asked for per Fetch and FetchSnapshot (``MAX_FETCH_SIZE_BYTES``).
MAX_FETCH_SIZE_BYTES = MAX_BATCH_SIZE_BYTES
#: How often snapshots past retention are cleaned (``RaftMetadataLogCleanerManager``).
SNAPSHOT_CLEAN_INTERVAL_MS = 60_000
#: Kafka's ``GracefulShutdown`` wait for a successor after a leader resigns.
DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000
#: The high-watermark event is announced at most this often within an epoch.
HIGH_WATERMARK_EVENT_INTERVAL_MS = 1000


def _leader(leader_id: int) -> int | None:
    return None if leader_id < 0 else leader_id


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


@dataclass(eq=False)
class _GracefulShutdown:
    deadline_ms: float
    done: Future[None]


class RaftNode:
    """One replica of ``__cluster_metadata-0``: a voter (controller) or an observer."""

    def __init__(self, node_id: int, voters: Mapping[int, str], *, node_name: str, cluster_id: str, log_dir: Path,
                 scheduler: Scheduler, network: Network, journal: EventJournal, rng: random.Random,
                 config: QuorumConfig = DEFAULT_QUORUM_CONFIG, max_fetch_bytes: int = MAX_FETCH_SIZE_BYTES) -> None:
        self.node_id = node_id
        self.node_name = node_name
        self.cluster_id = cluster_id
        self.log_dir = log_dir
        self.scheduler = scheduler
        self.network = network
        self.journal = journal
        self.config = config
        self._voter_nodes = dict(voters)
        self.is_voter = node_id in self._voter_nodes
        self._max_fetch_bytes = max_fetch_bytes
        self._rng = rng
        self._group = TimerGroup(scheduler)
        self._requests = RequestManager(config.retry_backoff_ms, rng)
        self._quorum = QuorumState(node_id, sorted(self._voter_nodes), config, rng)
        self._listeners: list[ListenerContext] = []
        self._accumulator: BatchAccumulator | None = None
        self._parked: list[_ParkedFetch] = []
        self._correlation_ids = itertools.count(1)
        self._wakeup: Timer | None = None
        self._poll_scheduled = False
        self._shutdown: _GracefulShutdown | None = None
        self._log_or_none: MetadataLog | None = None
        self._store_or_none: QuorumStateStore | None = None
        self._next_clean_ms = 0.0
        self._snapshot_timestamps: dict[OffsetAndEpoch, int] = {}
        #: Snapshots downloaded in this incarnation: loading them is not news from the disk.
        self._fetched_snapshots: set[OffsetAndEpoch] = set()
        self._hw_announced = (-1, -1, -math.inf)  # (epoch, high watermark, time)
        self.running = False

    # -- lifecycle -------------------------------------------------------------------

    @property
    def log(self) -> MetadataLog:
        """This replica's metadata log (once started)."""
        if self._log_or_none is None:
            raise KafkaError(Errors.BROKER_NOT_AVAILABLE, f"Replica {self.node_id} of the metadata log is not started.")
        return self._log_or_none

    @property
    def _store(self) -> QuorumStateStore:
        if self._store_or_none is None:
            raise KafkaError(Errors.BROKER_NOT_AVAILABLE, f"Replica {self.node_id} of the metadata log is not started.")
        return self._store_or_none

    def start(self) -> None:
        """Open the log and ``quorum-state``, take the state they imply, and begin serving and polling."""
        now = self.scheduler.now_ms
        try:
            self._log_or_none, _ = MetadataLog.open(self.log_dir, self.config, int(now))
            self._store_or_none = QuorumStateStore(self.log.directory)
            self._apply(self._quorum.initialize(self._store.read(), self.log.end_offset_and_epoch(), now), now)
        except KafkaError as error:
            self.journal.emit(QuorumReplicaFailed, node_id=self.node_id, voter=self.is_voter, error=str(error))
            if self._log_or_none is not None:
                self._log_or_none.close_abruptly()
            raise
        self.running = True
        self._next_clean_ms = now + SNAPSHOT_CLEAN_INTERVAL_MS
        if self.is_voter:
            self.network.attach(self.node_name, self._on_request)
        state = self._quorum.state
        self.journal.emit(QuorumReplicaStarted, node_id=self.node_id, voter=self.is_voter, role=state.role.value,
                          epoch=state.epoch, log_end_offset=self.log.end_offset)
        if isinstance(state, CandidateState):
            self._maybe_become_leader(state, now)
        elif self._quorum.is_only_voter and state.role is not Role.CANDIDATE:
            self._become_prospective("it is the only voter", now)
        self._poll()

    def kill(self) -> None:
        """Crash: stop at once, writing nothing more (what was fsynced survives)."""
        if self.running:
            self._stop(clean=False)

    def shutdown(self, timeout_ms: float = DEFAULT_SHUTDOWN_TIMEOUT_MS) -> Future[None]:
        """Stop cleanly: a leader resigns first and waits (up to ``timeout_ms``) until a successor is elected."""
        done: Future[None] = Future()
        if not self.running:
            done.set_result(None)
            return done
        self._shutdown = _GracefulShutdown(self.scheduler.now_ms + timeout_ms, done)
        self._request_poll()
        return done

    def _stop(self, clean: bool) -> None:
        self.running = False
        self._group.cancel_all()
        if self.is_voter:
            self.network.detach(self.node_name)
        if clean:
            self.log.close()
        else:
            self.log.close_abruptly()
        self.journal.emit(QuorumReplicaStopped, node_id=self.node_id, voter=self.is_voter, clean=clean)
        if self._shutdown is not None:
            self._shutdown.done.set_result(None)

    def _guarded(self, action: Callable[..., None], *args: Any) -> None:
        """Run ``action`` for a live replica; an unrecoverable KafkaError stops it and is reported (a fatal fault)."""
        if not self.running:
            return
        try:
            action(*args)
        except KafkaError as error:
            if self.running:
                self.journal.emit(QuorumReplicaFailed, node_id=self.node_id, voter=self.is_voter, error=str(error))
                self._stop(clean=False)

    # -- the API for the state machine above (the controller, a broker's metadata loader) --

    def register(self, listener: RaftListener) -> None:
        """Deliver committed batches, snapshots and leader changes to ``listener`` from now on."""
        self._listeners.append(ListenerContext(listener))
        self._request_poll()

    def append(self, records: Sequence[bytes], epoch: int | None = None) -> int:
        """As leader (of ``epoch``, if given), queue ``records`` for the log; returns the offset of the last one.

        They are committed once the high watermark passes that offset; a listener sees
        them in ``handle_commit``. NOT_LEADER_OR_FOLLOWER when this replica does not lead
        (that epoch).
        """
        state = self._quorum.state if self.running else None
        if not isinstance(state, LeaderState) or self._accumulator is None:
            raise KafkaError(Errors.NOT_LEADER_OR_FOLLOWER, "Append failed because the replica is not the current leader.")
        if epoch is not None and epoch != state.epoch:
            raise KafkaError(Errors.NOT_LEADER_OR_FOLLOWER, f"Append failed because the given epoch {epoch} is stale. "
                                                            f"Current leader epoch = {state.epoch}.")
        if not records:
            raise ValueError("append needs at least one record")
        too_large = next((len(r) for r in records if len(r) > MAX_BATCH_SIZE_BYTES - 100), None)
        if too_large is not None:
            raise KafkaError(Errors.MESSAGE_TOO_LARGE, f"A record of {too_large} bytes does not fit in a metadata batch "
                                                       f"of at most {MAX_BATCH_SIZE_BYTES} bytes.")
        offset = self._accumulator.append(records, self.scheduler.now_ms)
        self._request_poll()
        return offset

    def create_snapshot(self, snapshot_id: OffsetAndEpoch, records: Sequence[bytes],
                        last_contained_log_time_ms: int) -> bool:
        """Write a snapshot of the listener's state up to ``snapshot_id`` (committed); False if it exists already."""
        size = self.log.create_snapshot(snapshot_id, records, last_contained_log_time_ms, self.scheduler.now_int_ms())
        if size is None:
            return False
        self._snapshot_timestamps[snapshot_id] = last_contained_log_time_ms
        self.journal.emit(MetadataSnapshotTaken, node_id=self.node_id, voter=self.is_voter,
                          end_offset=snapshot_id.offset, epoch=snapshot_id.epoch, size_bytes=size, records=len(records))
        return True

    @property
    def role(self) -> Role:
        return self._quorum.role

    @property
    def epoch(self) -> int:
        return self._quorum.epoch

    @property
    def leader_and_epoch(self) -> LeaderAndEpoch:
        """The leader this replica knows for its epoch."""
        return LeaderAndEpoch(self._quorum.leader_id, self._quorum.epoch)

    @property
    def voted_id(self) -> int | None:
        """The candidate this replica voted for in its epoch, if any."""
        return self._quorum.state.voted_id

    @property
    def high_watermark(self) -> int | None:
        """The committed end of the log as this replica knows it (None until known in this incarnation)."""
        return self._quorum.state.high_watermark

    def describe(self) -> RaftReplicaView:
        """A frozen view of this replica now."""
        state = self._quorum.state
        election_deadline = state.election_deadline_ms if isinstance(
            state, UnattachedState | ProspectiveState | CandidateState | ResignedState) else None
        votes = state.votes.granted if isinstance(state, ProspectiveState | CandidateState) else ()
        return RaftReplicaView(
            node_id=self.node_id, is_voter=self.is_voter, running=self.running, role=state.role.value,
            epoch=state.epoch, leader_id=state.leader_id, voted_id=state.voted_id,
            log_start_offset=self.log.start_offset, log_end_offset=self.log.end_offset,
            last_fetched_epoch=self.log.last_fetched_epoch, high_watermark=state.high_watermark,
            election_deadline_ms=None if election_deadline is None or math.isinf(election_deadline) else election_deadline,
            fetch_deadline_ms=state.fetch_deadline_ms if isinstance(state, FollowerState) else None,
            granted_votes=tuple(sorted(votes)), snapshots=self.log.snapshot_ids,
            description=self._describe_quorum(state) if isinstance(state, LeaderState) else None)

    @staticmethod
    def _describe_quorum(state: LeaderState) -> QuorumDescription:
        def progress(replica: ReplicaState) -> ReplicaProgress:
            end = -1 if replica.end_offset is None else replica.end_offset
            return ReplicaProgress(replica.node_id, end, replica.last_fetch_ms, replica.last_caught_up_ms)

        return QuorumDescription(state.local_id, state.epoch, NO_HIGH_WATERMARK if state.high_watermark is None
                                 else state.high_watermark, tuple(progress(r) for r in state.voter_states.values()),
                                 tuple(progress(r) for _, r in sorted(state.observer_states.items())))

    # -- transitions ------------------------------------------------------------------

    def _apply(self, transition: Transition, now: float, vote_only: bool = False) -> None:
        """Make a move take effect: persist it first if durable, then forget what the old state was waiting for.

        ``vote_only`` marks a vote added within the same state, which changes nothing else.
        """
        if transition.durable:
            self._store.write(transition.current.election(), self._voter_nodes)
        previous = transition.previous
        if previous is None or vote_only:
            return
        self._requests.reset_all()
        self.log.abort_fetching_snapshot()
        if isinstance(previous, LeaderState):
            self._accumulator = None
            for parked in list(self._parked):
                self._complete_parked(parked)
        self._request_poll()

    def _become_prospective(self, reason: str, now: float) -> None:
        self._apply(self._quorum.transition_to_prospective(now), now)
        state = self._quorum.state
        self.journal.emit(QuorumElectionStarted, node_id=self.node_id, epoch=state.epoch, pre_vote=True, reason=reason)
        if isinstance(state, ProspectiveState) and state.votes.is_vote_granted:
            self._become_candidate("it is the only voter", now)

    def _become_candidate(self, reason: str, now: float) -> None:
        self._apply(self._quorum.transition_to_candidate(now), now)
        state = self._quorum.state
        self.journal.emit(QuorumElectionStarted, node_id=self.node_id, epoch=state.epoch, pre_vote=False, reason=reason)
        if isinstance(state, CandidateState):
            self._maybe_become_leader(state, now)

    def _maybe_become_leader(self, state: CandidateState, now: float) -> None:
        if not state.votes.is_vote_granted:
            return
        self._apply(self._quorum.transition_to_leader(self.log.end_offset, now), now)
        leader = self._quorum.state
        assert isinstance(leader, LeaderState)
        self.log.initialize_leader_epoch(leader.epoch)
        self.log.append_control(LeaderChangeMessage(self.node_id, tuple(sorted(leader.voters)),
                                                    tuple(sorted(leader.granting_voters))), leader.epoch, int(now))
        self.log.flush(int(now))
        self._accumulator = BatchAccumulator(leader.epoch, self.log.end_offset, self.config.append_linger_ms)
        self.journal.emit(QuorumLeaderElected, leader_id=self.node_id, epoch=leader.epoch,
                          granting_voters=tuple(sorted(leader.granting_voters)),
                          epoch_start_offset=leader.epoch_start_offset)
        self._on_leader_log_end(leader, now)

    def _resign(self, reason: str, now: float) -> None:
        state = self._quorum.state
        assert isinstance(state, LeaderState)
        self._apply(self._quorum.transition_to_resigned(state.voters_by_descending_fetch_offset(), now), now)
        self.journal.emit(QuorumLeaderResigned, leader_id=self.node_id, epoch=state.epoch, reason=reason)

    def _to_follower(self, epoch: int, leader_id: int, now: float) -> None:
        self._apply(self._quorum.transition_to_follower(epoch, leader_id, now), now)

    def _to_unattached(self, epoch: int, now: float) -> None:
        self._apply(self._quorum.transition_to_unattached(epoch, now), now)

    def _maybe_transition(self, leader_id: int | None, epoch: int, now: float) -> None:
        """Follow what a message says of the leader and epoch, if it is news (``maybeTransition``)."""
        if not self._quorum.has_consistent_leader(epoch, leader_id):
            raise IllegalTransition(f"Replica {self.node_id} received leader {leader_id} and epoch {epoch}, which is "
                                    f"inconsistent with its leader {self._quorum.leader_id} in epoch {self.epoch}")
        if epoch > self._quorum.epoch:
            if leader_id is not None:
                self._to_follower(epoch, leader_id, now)
            else:
                self._to_unattached(epoch, now)
        elif leader_id is not None and self._quorum.leader_id is None:
            self._to_follower(epoch, leader_id, now)

    # -- polling ------------------------------------------------------------------------

    def _request_poll(self) -> None:
        if self.running and not self._poll_scheduled:
            self._poll_scheduled = True
            self._group.call_soon(self._guarded, self._poll)

    def _poll(self) -> None:
        """Do the current state's duties and sleep until the next deadline (``KafkaRaftClient.poll``)."""
        self._poll_scheduled = False
        now = self.scheduler.now_ms
        if self._maybe_complete_shutdown(now):
            return
        timeout = min(self._poll_current_state(now), self._maybe_clean_snapshots(now))
        self._update_listeners()
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        if self.running and timeout < math.inf:
            self._wakeup = self._group.call_later(max(0.0, timeout), self._guarded, self._poll)

    def _poll_current_state(self, now: float) -> float:
        state = self._quorum.state
        if isinstance(state, LeaderState):
            return self._poll_leader(state, now)
        if isinstance(state, CandidateState):
            return self._poll_candidate(state, now)
        if isinstance(state, ProspectiveState):
            return self._poll_prospective(state, now)
        if isinstance(state, FollowerState):
            return self._poll_follower(state, now)
        if isinstance(state, UnattachedState):
            return self._poll_unattached(state, now)
        assert isinstance(state, ResignedState)
        return self._poll_resigned(state, now)

    def _maybe_complete_shutdown(self, now: float) -> bool:
        """A shutting-down replica stops once a successor leads (or it is an observer), or at its deadline."""
        shutdown = self._shutdown
        if shutdown is None:
            return False
        leader = self._quorum.leader_id
        if (now >= shutdown.deadline_ms or not self.is_voter or self._quorum.is_only_voter
                or (leader is not None and leader != self.node_id)):
            self._stop(clean=True)
            return True
        return False

    def _poll_leader(self, state: LeaderState, now: float) -> float:
        if self._shutdown is not None:
            self._resign("it is shutting down", now)
            return 0.0
        if now >= state.check_quorum_deadline():
            self._resign(f"no majority of voters fetched from it for {self.config.check_quorum_timeout_ms} ms "
                         f"(1.5 x controller.quorum.fetch.timeout.ms)", now)
            return 0.0
        accumulator = self._accumulator
        assert accumulator is not None
        if accumulator.time_until_drain(now) <= 0:
            for base_offset, records in accumulator.drain():
                if base_offset != self.log.end_offset:
                    raise IllegalTransition(f"Leader batch at offset {base_offset} does not continue the log at "
                                            f"{self.log.end_offset}")
                self.log.append_as_leader(records, state.epoch, int(now))
            self.log.flush(int(now))
            self._on_leader_log_end(state, now)
        if now >= state.begin_quorum_epoch_due_ms:
            for voter in sorted(self._quorum.remote_voters):
                self._maybe_send(voter, BeginQuorumEpochRequest(self.cluster_id, self.node_id, state.epoch, voter), now)
            state.begin_quorum_epoch_due_ms = now + self.config.begin_quorum_epoch_interval_ms
        return min(accumulator.time_until_drain(now), state.begin_quorum_epoch_due_ms - now,
                   state.check_quorum_deadline() - now)

    def _poll_candidate(self, state: CandidateState, now: float) -> float:
        if now >= state.election_deadline_ms:
            self._become_prospective(f"its election for epoch {state.epoch} timed out without a majority", now)
            return 0.0
        return min(self._send_vote_requests(state, False, now), state.election_deadline_ms - now)

    def _poll_prospective(self, state: ProspectiveState, now: float) -> float:
        if state.votes.is_vote_rejected or now >= state.election_deadline_ms:
            self._prospective_lost(state, now)
            return 0.0
        return min(self._send_vote_requests(state, True, now), state.election_deadline_ms - now)

    def _prospective_lost(self, state: ProspectiveState, now: float) -> None:
        """Back to the leader it knew, if any, else Unattached in the same epoch (``prospectiveTransitionAfterElectionLoss``)."""
        if state.leader_id is not None:
            self._to_follower(state.epoch, state.leader_id, now)
        else:
            self._to_unattached(state.epoch, now)

    def _poll_follower(self, state: FollowerState, now: float) -> float:
        if now >= state.fetch_deadline_ms:
            if self.is_voter:
                self._become_prospective(f"no successful fetch from leader {state.leader} for "
                                         f"{self.config.fetch_timeout_ms} ms", now)
                return 0.0
            return self._fetch_from_any_voter(now)
        return min(self._fetch_from_best_node(state, now), state.fetch_deadline_ms - now)

    def _poll_unattached(self, state: UnattachedState, now: float) -> float:
        if not self.is_voter:
            return self._fetch_from_any_voter(now)
        if now >= state.election_deadline_ms:
            self._become_prospective(f"no leader was found within its election timeout in epoch {state.epoch}", now)
            return 0.0
        return state.election_deadline_ms - now

    def _poll_resigned(self, state: ResignedState, now: float) -> float:
        timeout = math.inf
        for voter in sorted(state.unacked_voters):
            timeout = min(timeout, self._maybe_send(voter, EndQuorumEpochRequest(
                self.cluster_id, self.node_id, state.epoch, state.preferred_successors), now))
        if self._shutdown is not None:
            return min(timeout, self._shutdown.deadline_ms - now)
        if now >= state.election_deadline_ms:
            self._to_unattached(state.epoch + 1, now)
            return 0.0
        return min(timeout, state.election_deadline_ms - now)

    # -- sending ------------------------------------------------------------------------

    def _maybe_send(self, destination: int, request: Any, now: float) -> float:
        """Send ``request`` if the connection is ready; how long until it could be sent otherwise."""
        if not self._requests.is_ready(destination, now):
            return self._requests.remaining_backoff_ms(destination, now)
        correlation_id = next(self._correlation_ids)
        self._requests.on_request_sent(destination, correlation_id)

        def on_response(response: Any, error: Errors | None) -> None:
            self._guarded(self._on_response, destination, correlation_id, response, error)

        self.network.request(self.node_name, self._voter_nodes[destination], request, on_response,
                             self.config.request_timeout_ms)
        return math.inf

    def _send_vote_requests(self, state: ProspectiveState | CandidateState, pre_vote: bool, now: float) -> float:
        if state.votes.is_vote_rejected:
            return math.inf
        end = self.log.end_offset_and_epoch()
        return min((self._maybe_send(voter, VoteRequest(self.cluster_id, self.node_id, state.epoch, end.epoch,
                                                        end.offset, pre_vote, voter), now)
                    for voter in sorted(state.votes.unrecorded)), default=math.inf)

    def _fetch_request(self) -> RaftFetchRequest:
        return RaftFetchRequest(self.cluster_id, self.node_id, self.epoch, self.log.end_offset,
                                self.log.last_fetched_epoch, MAX_FETCH_WAIT_MS, self._max_fetch_bytes)

    def _fetch_from_best_node(self, state: FollowerState, now: float) -> float:
        """Fetch from the leader; while its connection backs off, ask another voter who leads (``maybeSendFetchToBestNode``)."""
        if self._requests.is_backing_off(state.leader, now):
            return self._fetch_from_any_voter(now)
        if self._requests.has_in_flight():
            return math.inf
        fetching = self.log.fetching_snapshot
        if fetching is not None:
            request: Any = FetchSnapshotRequest(self.cluster_id, self.node_id, self.epoch, fetching,
                                                self.log.fetched_snapshot_size(), self._max_fetch_bytes)
        else:
            request = self._fetch_request()
        return self._maybe_send(state.leader, request, now)

    def _fetch_from_any_voter(self, now: float) -> float:
        voters = sorted(self._quorum.remote_voters)
        if self._requests.has_in_flight():
            return math.inf
        destination = self._requests.find_ready(voters, now)
        if destination is None:
            return self._requests.backoff_before_available(voters, now)
        return self._maybe_send(destination, self._fetch_request(), now)

    # -- responses ----------------------------------------------------------------------

    def _on_response(self, source: int, correlation_id: int, response: Any, error: Errors | None) -> None:
        if not self._requests.is_response_expected(source, correlation_id):
            return
        now = self.scheduler.now_ms
        if error is not None:
            success = False  # refused, reset or timed out: back off and retry (``handleUnexpectedError``)
        elif isinstance(response, VoteResponse):
            success = self._handle_vote_response(source, response, now)
        elif isinstance(response, BeginQuorumEpochResponse):
            success = self._handle_begin_quorum_epoch_response(source, response, now)
        elif isinstance(response, EndQuorumEpochResponse):
            success = self._handle_end_quorum_epoch_response(source, response, now)
        elif isinstance(response, RaftFetchResponse):
            success = self._handle_fetch_response(response, now)
        else:
            success = self._handle_fetch_snapshot_response(response, now)
        if self._requests.is_response_expected(source, correlation_id):
            self._requests.on_response(source, success, now)
        self._request_poll()

    def _handle_common_response(self, error: Errors, leader_id: int, epoch: int, now: float) -> bool | None:
        """What every response teaches about the leader and epoch (``maybeHandleCommonResponse``).

        None means the caller handles the response; True or False mean it is handled, and
        whether the connection may be used again at once.
        """
        leader = _leader(leader_id)
        if epoch < self._quorum.epoch or error is Errors.UNKNOWN_LEADER_EPOCH:
            return True
        if epoch > self._quorum.epoch or error in (Errors.FENCED_LEADER_EPOCH, Errors.NOT_LEADER_OR_FOLLOWER):
            self._maybe_transition(leader, epoch, now)
            return True
        if leader is not None and self._quorum.leader_id is None:
            self._to_follower(epoch, leader, now)
            return None if error is Errors.NONE else True
        if error is Errors.BROKER_NOT_AVAILABLE:
            return False
        if error is Errors.INVALID_REQUEST:
            raise IllegalTransition(f"Replica {self.node_id} sent a request the receiver found invalid")
        return None

    def _handle_vote_response(self, source: int, response: VoteResponse, now: float) -> bool:
        handled = self._handle_common_response(response.error, response.leader_id, response.leader_epoch, now)
        if handled is not None:
            return handled
        if response.error is not Errors.NONE:
            return False
        state = self._quorum.state
        if isinstance(state, ProspectiveState):
            state.votes.record(source, response.vote_granted)
            if state.votes.is_vote_granted:
                self._become_candidate("a majority granted it a pre-vote", now)
            elif state.votes.is_vote_rejected:
                self._prospective_lost(state, now)
        elif isinstance(state, CandidateState):
            state.votes.record(source, response.vote_granted)
            # A lost election waits out its timeout before the next pre-vote (Kafka 4.x).
            self._maybe_become_leader(state, now)
        return True

    def _handle_begin_quorum_epoch_response(self, source: int, response: BeginQuorumEpochResponse, now: float) -> bool:
        handled = self._handle_common_response(response.error, response.leader_id, response.leader_epoch, now)
        if handled is not None:
            return handled
        state = self._quorum.state
        if response.error is Errors.NONE and isinstance(state, LeaderState):
            state.acknowledge(source)
        return response.error is Errors.NONE

    def _handle_end_quorum_epoch_response(self, source: int, response: EndQuorumEpochResponse, now: float) -> bool:
        handled = self._handle_common_response(response.error, response.leader_id, response.leader_epoch, now)
        if handled is not None:
            return handled
        state = self._quorum.state
        if response.error is Errors.NONE and isinstance(state, ResignedState):
            state.unacked_voters.discard(source)
        return response.error is Errors.NONE

    def _follower_state(self) -> FollowerState:
        state = self._quorum.state
        if not isinstance(state, FollowerState):
            raise IllegalTransition(f"Expected to be a follower, but replica {self.node_id} is {state.role.value}")
        return state

    def _handle_fetch_response(self, response: RaftFetchResponse, now: float) -> bool:
        handled = self._handle_common_response(response.error, response.leader_id, response.leader_epoch, now)
        if handled is not None:
            return handled
        if response.error is not Errors.NONE:
            return False
        state = self._follower_state()
        if response.diverging_epoch is not None:
            old_end = self.log.end_offset
            result = self.log.truncate_to_end_offset(response.diverging_epoch, int(now))
            self.journal.emit(QuorumFollowerTruncated, node_id=self.node_id, voter=self.is_voter,
                              leader_id=state.leader, epoch=state.epoch, diverging_epoch=response.diverging_epoch.epoch,
                              diverging_end_offset=response.diverging_epoch.offset, old_log_end_offset=old_end,
                              new_log_end_offset=result.new_log_end_offset)
        elif response.snapshot_id is not None:
            self.log.begin_fetching_snapshot(response.snapshot_id)
        else:
            if response.records:
                self.log.append_as_follower(response.records, int(now))
                if self.is_voter:
                    # A voter's fetch offset counts towards the high watermark: it must be on disk first.
                    self.log.flush(int(now))
            if response.high_watermark >= 0:
                self._update_follower_high_watermark(state, response.high_watermark)
        state.reset_fetch_timeout(now)
        return True

    def _update_follower_high_watermark(self, state: FollowerState, leader_high_watermark: int) -> None:
        new = min(self.log.end_offset, leader_high_watermark)
        if state.update_high_watermark(new) is not None:
            self.log.high_watermark = max(self.log.high_watermark or 0, new)

    def _handle_fetch_snapshot_response(self, response: FetchSnapshotResponse, now: float) -> bool:
        handled = self._handle_common_response(response.error, response.leader_id, response.leader_epoch, now)
        if handled is not None:
            return handled
        state = self._follower_state()
        fetching = self.log.fetching_snapshot
        if response.error is Errors.SNAPSHOT_NOT_FOUND or response.snapshot_id is None:
            # The leader deleted it meanwhile: start over with a Fetch.
            self.log.abort_fetching_snapshot()
            state.reset_fetch_timeout(now)
            return True
        if response.error is not Errors.NONE:
            return False
        if fetching != response.snapshot_id or response.position != self.log.fetched_snapshot_size():
            raise IllegalTransition(f"Unexpected FetchSnapshot response for {response.snapshot_id} at position "
                                    f"{response.position}; fetching {fetching}")
        self.log.append_fetched_snapshot(response.unaligned_records)
        if self.log.fetched_snapshot_size() >= response.size:
            snapshot_id = self.log.freeze_fetched_snapshot(int(now))
            self._fetched_snapshots.add(snapshot_id)
            self.journal.emit(MetadataSnapshotLoaded, node_id=self.node_id, voter=self.is_voter,
                              end_offset=snapshot_id.offset, epoch=snapshot_id.epoch, fetched_from=state.leader)
            self._update_follower_high_watermark(state, snapshot_id.offset)
        state.reset_fetch_timeout(now)
        return True

    # -- requests -----------------------------------------------------------------------

    def _on_request(self, source: str, request: Any, respond: Responder) -> None:
        self._guarded(self._handle_request, request, respond)

    def _handle_request(self, request: Any, respond: Responder) -> None:
        now = self.scheduler.now_ms
        if isinstance(request, VoteRequest):
            respond(self._handle_vote_request(request, now))
        elif isinstance(request, BeginQuorumEpochRequest):
            respond(self._handle_begin_quorum_epoch_request(request, now))
        elif isinstance(request, EndQuorumEpochRequest):
            respond(self._handle_end_quorum_epoch_request(request, now))
        elif isinstance(request, RaftFetchRequest):
            self._handle_fetch_request(request, respond, now)
        elif isinstance(request, FetchSnapshotRequest):
            respond(self._handle_fetch_snapshot_request(request, now))
        self._request_poll()

    def _vote_response(self, error: Errors, granted: bool = False) -> VoteResponse:
        return VoteResponse(error, self._leader_id_or_nil(), self.epoch, granted)

    def _leader_id_or_nil(self) -> int:
        leader = self._quorum.leader_id
        return NO_LEADER_ID if leader is None else leader

    def _handle_vote_request(self, request: VoteRequest, now: float) -> VoteResponse:
        """Grant or refuse a (pre-)vote; a granted vote is fsynced to ``quorum-state`` before the answer."""
        if request.cluster_id != self.cluster_id:
            return self._vote_response(Errors.INCONSISTENT_CLUSTER_ID)
        # A candidate bumped its epoch past its log's; a prospective has not (KafkaRaftClient.handleVoteRequest).
        illegal_epoch = (request.last_offset_epoch > request.candidate_epoch if request.pre_vote
                         else request.last_offset_epoch >= request.candidate_epoch)
        if request.last_offset < 0 or request.last_offset_epoch < 0 or illegal_epoch or request.voter_id != self.node_id:
            return self._vote_response(Errors.INVALID_REQUEST)

        def reject(reason: str) -> None:
            self.journal.emit(QuorumVoteRejected, voter_id=self.node_id, candidate_id=request.candidate_id,
                              epoch=request.candidate_epoch, pre_vote=request.pre_vote, reason=reason)

        if request.candidate_epoch < self.epoch:
            reject(f"its epoch {request.candidate_epoch} is older than ours ({self.epoch})")
            return self._vote_response(Errors.FENCED_LEADER_EPOCH)
        if request.candidate_epoch > self.epoch:
            self._to_unattached(request.candidate_epoch, now)
        if request.candidate_id not in self._voter_nodes:
            reject("it is not a voter")
            return self._vote_response(Errors.NONE)
        ours = self.log.end_offset_and_epoch()
        theirs = OffsetAndEpoch(request.last_offset, request.last_offset_epoch)
        decision = self._quorum.can_grant_vote(request.candidate_id, theirs >= ours, request.pre_vote)
        if not decision.granted:
            reason = decision.reason
            if theirs < ours:
                reason += (f" (it ends at offset {theirs.offset} in epoch {theirs.epoch}, we at offset {ours.offset} "
                           f"in epoch {ours.epoch})")
            reject(reason)
            return self._vote_response(Errors.NONE)
        if not request.pre_vote and self._quorum.state.voted_id is None:
            self._apply(self._quorum.add_vote(request.candidate_epoch, request.candidate_id, now), now, vote_only=True)
        self.journal.emit(QuorumVoteGranted, voter_id=self.node_id, candidate_id=request.candidate_id,
                          epoch=request.candidate_epoch, pre_vote=request.pre_vote)
        return self._vote_response(Errors.NONE, granted=True)

    def _validate_voter_only_request(self, remote_id: int, epoch: int) -> Errors | None:
        if epoch < self.epoch:
            return Errors.FENCED_LEADER_EPOCH
        if remote_id < 0 or remote_id not in self._voter_nodes:
            return Errors.INVALID_REQUEST
        return None

    def _handle_begin_quorum_epoch_request(self, request: BeginQuorumEpochRequest, now: float) -> BeginQuorumEpochResponse:
        if request.cluster_id != self.cluster_id:
            error: Errors | None = Errors.INCONSISTENT_CLUSTER_ID
        else:
            error = self._validate_voter_only_request(request.leader_id, request.leader_epoch)
        if error is None:
            self._maybe_transition(request.leader_id, request.leader_epoch, now)
        return BeginQuorumEpochResponse(error or Errors.NONE, self._leader_id_or_nil(), self.epoch)

    def _handle_end_quorum_epoch_request(self, request: EndQuorumEpochRequest, now: float) -> EndQuorumEpochResponse:
        if request.cluster_id != self.cluster_id:
            error: Errors | None = Errors.INCONSISTENT_CLUSTER_ID
        else:
            error = self._validate_voter_only_request(request.leader_id, request.leader_epoch)
        if error is None:
            self._maybe_transition(request.leader_id, request.leader_epoch, now)
            state = self._quorum.state
            if isinstance(state, FollowerState) and state.leader == request.leader_id:
                successors = request.preferred_successors
                position = successors.index(self.node_id) if self.node_id in successors else len(successors)
                state.override_fetch_timeout(now, _strict_exponential_backoff_ms(
                    position, len(successors), self.config.election_backoff_max_ms))
        return EndQuorumEpochResponse(error or Errors.NONE, self._leader_id_or_nil(), self.epoch)

    def _validate_leader_only_request(self, epoch: int) -> Errors | None:
        if epoch < self.epoch:
            return Errors.FENCED_LEADER_EPOCH
        if epoch > self.epoch:
            return Errors.UNKNOWN_LEADER_EPOCH
        if not isinstance(self._quorum.state, LeaderState):
            return Errors.NOT_LEADER_OR_FOLLOWER
        if self._shutdown is not None:
            return Errors.BROKER_NOT_AVAILABLE
        return None

    def _fetch_error(self, error: Errors) -> RaftFetchResponse:
        return RaftFetchResponse(error, self._leader_id_or_nil(), self.epoch)

    def _handle_fetch_request(self, request: RaftFetchRequest, respond: Responder, now: float) -> None:
        """Answer a Fetch now, or park it until records arrive or ``max_wait_ms`` passes."""
        if request.cluster_id != self.cluster_id:
            respond(self._fetch_error(Errors.INCONSISTENT_CLUSTER_ID))
            return
        if (request.max_wait_ms < 0 or request.fetch_offset < 0 or request.last_fetched_epoch < 0
                or request.last_fetched_epoch > request.current_leader_epoch):
            respond(self._fetch_error(Errors.INVALID_REQUEST))
            return
        response = self._try_complete_fetch(request, now)
        if (response.error is not Errors.NONE or response.records or request.max_wait_ms == 0
                or response.diverging_epoch is not None or response.snapshot_id is not None):
            respond(response)
            return
        parked = _ParkedFetch(request, respond)
        parked.timer = self._group.call_later(request.max_wait_ms, self._guarded, self._complete_parked, parked)
        self._parked.append(parked)

    def _complete_parked(self, parked: _ParkedFetch) -> None:
        if parked in self._parked:
            self._parked.remove(parked)
            if parked.timer is not None:
                parked.timer.cancel()
            parked.respond(self._try_complete_fetch(parked.request, self.scheduler.now_ms))

    def _try_complete_fetch(self, request: RaftFetchRequest, now: float) -> RaftFetchResponse:
        """Validate a fetch against the leader's log and read from it (``tryCompleteFetchRequest``)."""
        error = self._validate_leader_only_request(request.current_leader_epoch)
        state = self._quorum.state
        if error is not None or not isinstance(state, LeaderState):
            return self._fetch_error(error or Errors.NOT_LEADER_OR_FOLLOWER)
        latest_snapshot = self.log.latest_snapshot_id
        if request.fetch_offset == 0 and latest_snapshot is not None:
            # An empty follower loads the latest snapshot rather than replaying the log from 0.
            valid = ValidOffsetAndEpoch(FetchPosition.SNAPSHOT, latest_snapshot)
        else:
            valid = self.log.validate_offset_and_epoch(request.fetch_offset, request.last_fetched_epoch)
        records = b""
        if valid.kind is FetchPosition.VALID:
            records = self.log.read(request.fetch_offset, request.max_bytes)
            advanced = state.update_replica_state(request.replica_id, request.fetch_offset, now)
            if advanced is not None:
                self._on_leader_high_watermark(state, now)
        return RaftFetchResponse(
            Errors.NONE, self.node_id, state.epoch,
            NO_HIGH_WATERMARK if state.high_watermark is None else state.high_watermark, self.log.start_offset,
            records, valid.offset_and_epoch if valid.kind is FetchPosition.DIVERGING else None,
            valid.offset_and_epoch if valid.kind is FetchPosition.SNAPSHOT else None)

    def _handle_fetch_snapshot_request(self, request: FetchSnapshotRequest, now: float) -> FetchSnapshotResponse:
        if request.cluster_id != self.cluster_id:
            return FetchSnapshotResponse(Errors.INCONSISTENT_CLUSTER_ID, self._leader_id_or_nil(), self.epoch)
        error = self._validate_leader_only_request(request.current_leader_epoch)
        state = self._quorum.state
        if error is not None or not isinstance(state, LeaderState):
            return FetchSnapshotResponse(error or Errors.NOT_LEADER_OR_FOLLOWER, self._leader_id_or_nil(), self.epoch)
        data = self.log.snapshot_bytes(request.snapshot_id)
        if data is None:
            return FetchSnapshotResponse(Errors.SNAPSHOT_NOT_FOUND, self.node_id, state.epoch)
        if not 0 <= request.position < len(data):
            return FetchSnapshotResponse(Errors.POSITION_OUT_OF_RANGE, self.node_id, state.epoch)
        state.update_check_quorum(request.replica_id, now)
        chunk = data[request.position:request.position + max(1, request.max_bytes)]
        return FetchSnapshotResponse(Errors.NONE, self.node_id, state.epoch, request.snapshot_id, len(data),
                                     request.position, chunk)

    # -- the leader's high watermark and the listeners ------------------------------------

    def _on_leader_log_end(self, state: LeaderState, now: float) -> None:
        """The leader's log end moved: maybe the high watermark too, and parked fetches have records now."""
        if state.update_local_state(self.log.end_offset) is not None:
            self._on_leader_high_watermark(state, now)
        for parked in [p for p in self._parked if p.request.fetch_offset < self.log.end_offset]:
            self._complete_parked(parked)

    def _on_leader_high_watermark(self, state: LeaderState, now: float) -> None:
        high_watermark = state.high_watermark
        assert high_watermark is not None
        self.log.high_watermark = max(self.log.high_watermark or 0, high_watermark)
        epoch, announced, announced_ms = self._hw_announced
        if epoch != state.epoch or now - announced_ms >= HIGH_WATERMARK_EVENT_INTERVAL_MS:
            self.journal.emit(QuorumHighWatermarkAdvanced, leader_id=self.node_id, epoch=state.epoch,
                              old_high_watermark=announced, new_high_watermark=high_watermark)
            self._hw_announced = (state.epoch, high_watermark, now)
        self._request_poll()

    def _update_listeners(self) -> None:
        """Deliver snapshots and committed batches up to the high watermark, then leader changes (``pollListeners``)."""
        high_watermark = self._quorum.state.high_watermark
        for context in self._listeners:
            if high_watermark is not None:
                self._deliver(context, high_watermark)
        self._fire_leader_change()

    def _deliver(self, context: ListenerContext, high_watermark: int) -> None:
        latest = self.log.latest_snapshot_id
        if context.next_offset < high_watermark and latest is not None and (
                context.next_offset == STARTING or context.next_offset < self.log.start_offset):
            if context.next_offset == STARTING and latest not in self._fetched_snapshots:
                self.journal.emit(MetadataSnapshotLoaded, node_id=self.node_id, voter=self.is_voter,
                                  end_offset=latest.offset, epoch=latest.epoch, fetched_from=-1)
            context.listener.handle_load_snapshot(self.log.read_snapshot(latest))
            context.next_offset = latest.offset
        elif context.next_offset == STARTING:
            context.next_offset = 0
        while context.next_offset < high_watermark:
            data = self.log.read(context.next_offset, self._max_fetch_bytes, committed_only=True)
            if not data:
                return
            batches = decode_committed(data)
            context.next_offset = batches[-1].last_offset + 1
            context.listener.handle_commit(batches)

    def _fire_leader_change(self) -> None:
        """Tell listeners of a new leader or epoch; the local leader only once they reached its epoch start.

        A resigned leader announces nothing: its epoch's leader is itself, but it no
        longer leads (Kafka would report itself here).
        """
        state = self._quorum.state
        if isinstance(state, ResignedState):
            return
        leader = self.leader_and_epoch
        for context in self._listeners:
            if not context.should_fire(leader):
                continue
            if isinstance(state, LeaderState) and context.next_offset < state.epoch_start_offset:
                continue
            context.fire_leader_change(leader)

    def _maybe_clean_snapshots(self, now: float) -> float:
        """Every minute, apply ``metadata.max.retention.*`` to the snapshots and the log before them."""
        if now < self._next_clean_ms:
            return self._next_clean_ms - now
        self._next_clean_ms = now + SNAPSHOT_CLEAN_INTERVAL_MS
        timestamps = {}
        for snapshot_id in self.log.snapshot_ids:
            if snapshot_id not in self._snapshot_timestamps:
                self._snapshot_timestamps[snapshot_id] = self.log.read_snapshot(snapshot_id).last_contained_log_timestamp
            timestamps[snapshot_id] = self._snapshot_timestamps[snapshot_id]
        for deletion in self.log.maybe_clean(int(now), timestamps):
            self.journal.emit(MetadataLogCleaned, node_id=self.node_id, voter=self.is_voter,
                              snapshot_end_offset=deletion.snapshot_id.offset, snapshot_epoch=deletion.snapshot_id.epoch,
                              log_start_offset=self.log.start_offset, reason=deletion.reason)
        return SNAPSHOT_CLEAN_INTERVAL_MS
