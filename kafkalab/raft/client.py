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

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafkalab.errors import Errors, KafkaError
from kafkalab.events.journal import EventJournal
from kafkalab.events.raft import (
    MetadataSnapshotTaken,
    QuorumElectionStarted,
    QuorumHighWatermarkAdvanced,
    QuorumLeaderElected,
    QuorumLeaderResigned,
    QuorumReplicaFailed,
    QuorumReplicaStarted,
    QuorumReplicaStopped,
)
from kafkalab.protocol.raft import (
    NO_HIGH_WATERMARK,
    BeginQuorumEpochRequest,
    EndQuorumEpochRequest,
    OffsetAndEpoch,
)
from kafkalab.raft.accumulator import BatchAccumulator
from kafkalab.raft.config import DEFAULT_QUORUM_CONFIG, QuorumConfig
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
from kafkalab.raft.inbound import QUORUM_REQUESTS, InboundRequests
from kafkalab.raft.listener_delivery import ListenerDelivery
from kafkalab.raft.listeners import LeaderAndEpoch, RaftListener
from kafkalab.raft.metadata_log import MetadataLog
from kafkalab.raft.outbound import OutboundRequests
from kafkalab.raft.quorum_state import IllegalTransition, QuorumState, Transition
from kafkalab.raft.quorum_store import QuorumStateStore
from kafkalab.raft.snapshot_cleaner import SnapshotCleaner
from kafkalab.raft.snapshots import MAX_BATCH_SIZE_BYTES
from kafkalab.raft.views import QuorumDescription, RaftReplicaView, ReplicaProgress
from kafkalab.sim.network import Network, RequestHandler, Responder
from kafkalab.sim.process import Future
from kafkalab.sim.scheduler import Scheduler, Timer, TimerGroup
from kafkalab.storage.control_records import LeaderChangeMessage
from kafkalab.storage.records import BATCH_OVERHEAD

#: Bytes asked for per Fetch and FetchSnapshot (``MAX_FETCH_SIZE_BYTES``).
MAX_FETCH_SIZE_BYTES = MAX_BATCH_SIZE_BYTES
#: Kafka's ``GracefulShutdown`` wait for a successor after a leader resigns.
DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000
#: The largest record value a batch of at most 8 MiB holds: less the batch header and a record's framing
#: (attributes, timestamp and offset deltas, key and value lengths, header count and size: at most 28 bytes).
MAX_RECORD_BYTES = MAX_BATCH_SIZE_BYTES - BATCH_OVERHEAD - 28
#: The high-watermark event is announced at most this often within an epoch.
HIGH_WATERMARK_EVENT_INTERVAL_MS = 1000


@dataclass(eq=False)
class _GracefulShutdown:
    """A clean stop under way: it completes ``done`` once a successor leads or at ``deadline_ms``."""

    deadline_ms: float
    done: Future[None]


class RaftNode:
    """One replica of ``__cluster_metadata-0``: a voter (controller) or an observer.

    The API for the state machine above is ``start``/``kill``/``shutdown``, ``register``,
    ``append``, ``create_snapshot``, the read-only properties and ``describe``. The other
    public members (``quorum``, ``apply``, the ``to_*`` moves, ``guarded`` ...) serve this
    package's request handlers, ``inbound.InboundRequests`` and ``outbound.OutboundRequests``.
    """

    def __init__(self, node_id: int, voters: Mapping[int, str], *, node_name: str, cluster_id: str, log_dir: Path,
                 scheduler: Scheduler, network: Network, journal: EventJournal, rng: random.Random,
                 config: QuorumConfig = DEFAULT_QUORUM_CONFIG, max_fetch_bytes: int = MAX_FETCH_SIZE_BYTES,
                 other_requests: RequestHandler | None = None) -> None:
        self.node_id = node_id
        self.node_name = node_name
        self.cluster_id = cluster_id
        self.log_dir = log_dir
        self.scheduler = scheduler
        self.network = network
        self.journal = journal
        self.config = config
        self.voter_nodes = dict(voters)
        self.is_voter = node_id in self.voter_nodes
        self.max_fetch_bytes = max_fetch_bytes
        self.rng = rng
        #: Where a voter's node hands requests that are not the quorum's (a controller's own API).
        self.other_requests = other_requests
        self.group = TimerGroup(scheduler)
        self.quorum = QuorumState(node_id, sorted(self.voter_nodes), config, rng)
        self.inbound = InboundRequests(self)
        self.outbound = OutboundRequests(self)
        self.listeners = ListenerDelivery(self)
        self._accumulator: BatchAccumulator | None = None
        self._wakeup: Timer | None = None
        self._poll_scheduled = False
        self._shutdown: _GracefulShutdown | None = None
        self._log_or_none: MetadataLog | None = None
        self._store_or_none: QuorumStateStore | None = None
        self.cleaner = SnapshotCleaner(self)
        #: Snapshots downloaded in this incarnation: loading them is not news from the disk.
        self.fetched_snapshots: set[OffsetAndEpoch] = set()
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
        if self._log_or_none is not None:
            raise KafkaError(Errors.BROKER_ALREADY_RUNNING, f"Replica {self.node_id} of the metadata log was started "
                                                            f"already; a restart is a new RaftNode.")
        now = self.scheduler.now_ms
        try:
            self._log_or_none, _ = MetadataLog.open(self.log_dir, self.config, int(now))
            self._store_or_none = QuorumStateStore(self.log.directory)
            self.apply(self.quorum.initialize(self._store.read(), self.log.end_offset_and_epoch(), now), now)
        except KafkaError as error:
            self.journal.emit(QuorumReplicaFailed, node_id=self.node_id, voter=self.is_voter, error=str(error))
            if self._log_or_none is not None:
                self._log_or_none.close_abruptly()
            raise
        self.running = True
        self.cleaner.started(now)
        if self.is_voter:
            self.network.attach(self.node_name, self._on_request)
        state = self.quorum.state
        self.journal.emit(QuorumReplicaStarted, node_id=self.node_id, voter=self.is_voter, role=state.role.value,
                          epoch=state.epoch, log_end_offset=self.log.end_offset)
        if isinstance(state, CandidateState):
            self.maybe_become_leader(state, now)
        elif self.quorum.is_only_voter and state.role is not Role.CANDIDATE:
            self._become_prospective("it is the only voter", now)
        self._poll()

    def kill(self) -> None:
        """Crash: stop at once, writing nothing more (what was fsynced survives)."""
        if self.running:
            self._stop(clean=False)

    def close(self) -> None:
        """Stop at once with the log flushed and closed, telling the quorum nothing (the app exits)."""
        if self.running:
            self._stop(clean=True)

    def shutdown(self, timeout_ms: float = DEFAULT_SHUTDOWN_TIMEOUT_MS) -> Future[None]:
        """Stop cleanly: a leader resigns first and waits (up to ``timeout_ms``) until a successor is elected."""
        done: Future[None] = Future()
        if not self.running:
            done.set_result(None)
            return done
        self._shutdown = _GracefulShutdown(self.scheduler.now_ms + timeout_ms, done)
        self.request_poll()
        return done

    @property
    def shutting_down(self) -> bool:
        """True between ``shutdown`` and the stop."""
        return self._shutdown is not None

    def _stop(self, clean: bool) -> None:
        self.running = False
        self.group.cancel_all()
        if self.is_voter:
            self.network.detach(self.node_name)
        if clean:
            self.log.close()
        else:
            self.log.close_abruptly()
        self.journal.emit(QuorumReplicaStopped, node_id=self.node_id, voter=self.is_voter, clean=clean)
        if self._shutdown is not None:
            self._shutdown.done.set_result(None)

    def _on_request(self, source: str, request: Any, respond: Responder) -> None:
        if self.other_requests is not None and not isinstance(request, QUORUM_REQUESTS):
            self.other_requests(source, request, respond)
        else:
            self.guarded(self.inbound.handle, request, respond)

    def guarded(self, action: Callable[..., None], *args: Any) -> None:
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
        self.listeners.add(listener)
        self.request_poll()

    def append(self, records: Sequence[bytes], epoch: int | None = None) -> int:
        """As leader (of ``epoch``, if given), queue ``records`` for the log; returns the offset of the last one.

        They are committed once the high watermark passes that offset; a listener sees
        them in ``handle_commit``. NOT_LEADER_OR_FOLLOWER when this replica does not lead
        (that epoch).
        """
        state = self.quorum.state if self.running else None
        if not isinstance(state, LeaderState) or self._accumulator is None:
            raise KafkaError(Errors.NOT_LEADER_OR_FOLLOWER, "Append failed because the replica is not the current leader.")
        if epoch is not None and epoch != state.epoch:
            raise KafkaError(Errors.NOT_LEADER_OR_FOLLOWER, f"Append failed because the given epoch {epoch} is stale. "
                                                            f"Current leader epoch = {state.epoch}.")
        if not records:
            raise ValueError("append needs at least one record")
        too_large = next((len(r) for r in records if len(r) > MAX_RECORD_BYTES), None)
        if too_large is not None:
            raise KafkaError(Errors.MESSAGE_TOO_LARGE, f"A record of {too_large} bytes does not fit in a metadata batch "
                                                       f"of at most {MAX_BATCH_SIZE_BYTES} bytes.")
        now = self.scheduler.now_ms
        drain_was_due_ms = self._accumulator.time_until_drain(now)
        offset = self._accumulator.append(records, now)
        if self._accumulator.time_until_drain(now) < drain_was_due_ms:
            self.request_poll()  # the first records of a batch, or a full batch: the leader's wake-up moves
        return offset

    def create_snapshot(self, snapshot_id: OffsetAndEpoch, records: Sequence[bytes],
                        last_contained_log_time_ms: int) -> bool:
        """Write a snapshot of the listener's state up to ``snapshot_id`` (committed); False if it exists already."""
        if not self.running:
            raise KafkaError(Errors.BROKER_NOT_AVAILABLE, f"Replica {self.node_id} of the metadata log is not running.")
        size = self.log.create_snapshot(snapshot_id, records, last_contained_log_time_ms, self.scheduler.now_int_ms())
        if size is None:
            return False
        self.cleaner.taken(snapshot_id, last_contained_log_time_ms)
        self.journal.emit(MetadataSnapshotTaken, node_id=self.node_id, voter=self.is_voter,
                          end_offset=snapshot_id.offset, epoch=snapshot_id.epoch, size_bytes=size, records=len(records))
        return True

    @property
    def next_append_offset(self) -> int | None:
        """The offset the next appended record will get, while this replica leads (None otherwise)."""
        if not self.running or not isinstance(self.quorum.state, LeaderState) or self._accumulator is None:
            return None
        return self._accumulator.next_offset

    @property
    def role(self) -> Role:
        """The replica's state in its epoch."""
        return self.quorum.role

    @property
    def epoch(self) -> int:
        """The replica's current epoch."""
        return self.quorum.epoch

    @property
    def leader_and_epoch(self) -> LeaderAndEpoch:
        """The leader this replica knows for its epoch."""
        return LeaderAndEpoch(self.quorum.leader_id, self.quorum.epoch)

    @property
    def voted_id(self) -> int | None:
        """The candidate this replica voted for in its epoch, if any."""
        return self.quorum.state.voted_id

    @property
    def high_watermark(self) -> int | None:
        """The committed end of the log as this replica knows it (None until known in this incarnation)."""
        return self.quorum.state.high_watermark

    def describe(self) -> RaftReplicaView:
        """A frozen view of this replica now."""
        state = self.quorum.state
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
            resign_deadline_ms=(None if not isinstance(state, LeaderState) or math.isinf(state.check_quorum_deadline())
                                else state.check_quorum_deadline()),
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

    def apply(self, transition: Transition, now: float, vote_only: bool = False) -> None:
        """Make a move take effect: persist it first if durable, then forget what the old state was waiting for.

        ``vote_only`` marks a vote added within the same state, which changes nothing else.
        """
        if transition.durable:
            self._store.write(transition.current.election(), self.voter_nodes)
        previous = transition.previous
        if previous is None or vote_only:
            return
        self.outbound.requests.reset_all()
        self.log.abort_fetching_snapshot()
        if isinstance(previous, LeaderState):
            self._accumulator = None
            self.inbound.complete_parked_fetches()
        self.request_poll()

    def _become_prospective(self, reason: str, now: float) -> None:
        self.apply(self.quorum.transition_to_prospective(now), now)
        state = self.quorum.state
        self.journal.emit(QuorumElectionStarted, node_id=self.node_id, epoch=state.epoch, pre_vote=True, reason=reason)
        if isinstance(state, ProspectiveState) and state.votes.is_vote_granted:
            self.become_candidate("it is the only voter", now)

    def become_candidate(self, reason: str, now: float) -> None:
        """A majority granted the pre-vote: bump the epoch, vote for ourselves, ask for votes."""
        self.apply(self.quorum.transition_to_candidate(now), now)
        state = self.quorum.state
        self.journal.emit(QuorumElectionStarted, node_id=self.node_id, epoch=state.epoch, pre_vote=False, reason=reason)
        if isinstance(state, CandidateState):
            self.maybe_become_leader(state, now)

    def maybe_become_leader(self, state: CandidateState, now: float) -> None:
        """Lead once a majority voted: LeaderChange record first, then appends (``onBecomeLeader``)."""
        if not state.votes.is_vote_granted:
            return
        self.apply(self.quorum.transition_to_leader(self.log.end_offset, now), now)
        leader = self.quorum.state
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
        state = self.quorum.state
        assert isinstance(state, LeaderState)
        self.apply(self.quorum.transition_to_resigned(state.voters_by_descending_fetch_offset(), now), now)
        self.journal.emit(QuorumLeaderResigned, leader_id=self.node_id, epoch=state.epoch, reason=reason)

    def to_follower(self, epoch: int, leader_id: int, now: float) -> None:
        """Follow ``leader_id`` in ``epoch``."""
        self.apply(self.quorum.transition_to_follower(epoch, leader_id, now), now)

    def to_unattached(self, epoch: int, now: float) -> None:
        """Enter ``epoch`` without a known leader."""
        self.apply(self.quorum.transition_to_unattached(epoch, now), now)

    def maybe_transition(self, leader_id: int | None, epoch: int, now: float) -> None:
        """Follow what a message says of the leader and epoch, if it is news (``maybeTransition``)."""
        state = self.quorum.state
        if epoch == state.epoch and (leader_id is None or leader_id == state.leader_id != self.node_id):
            # No news, and consistent by construction: the answer every voter gives an observer that asks who leads.
            return
        if not self.quorum.has_consistent_leader(epoch, leader_id):
            raise IllegalTransition(f"Replica {self.node_id} received leader {leader_id} and epoch {epoch}, which is "
                                    f"inconsistent with its leader {self.quorum.leader_id} in epoch {self.epoch}")
        if epoch > self.quorum.epoch:
            if leader_id is not None:
                self.to_follower(epoch, leader_id, now)
            else:
                self.to_unattached(epoch, now)
        elif leader_id is not None and self.quorum.leader_id is None:
            self.to_follower(epoch, leader_id, now)

    # -- polling ------------------------------------------------------------------------

    def request_poll(self) -> None:
        """Poll soon (once, however often asked before it runs)."""
        if self.running and not self._poll_scheduled:
            self._poll_scheduled = True
            self.group.call_soon(self.guarded, self._poll)

    def _poll(self) -> None:
        """Do the current state's duties and sleep until the next deadline (``KafkaRaftClient.poll``)."""
        self._poll_scheduled = False
        now = self.scheduler.now_ms
        if self._shutdown is not None and self._maybe_complete_shutdown(self._shutdown, now):
            return
        timeout = min(self._poll_current_state(now), self.cleaner.maybe_clean(now))
        self.listeners.update()
        wakeup = self._wakeup
        if self.running and timeout < math.inf:
            # One wakeup, moved rather than replaced at every poll, as Kafka's poll waits on one timeout
            # (``messageQueue.poll(pollTimeoutMs)`` in ``KafkaRaftClient.poll``); Scheduler.move keeps
            # the order of events what a new timer would give.
            delay = max(0.0, timeout)
            if wakeup is None or not self.group.move_later(wakeup, delay):
                self._wakeup = self.group.call_later(delay, self.guarded, self._poll)
        elif wakeup is not None:
            wakeup.cancel()
            self._wakeup = None

    def _poll_current_state(self, now: float) -> float:
        state = self.quorum.state
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

    def _maybe_complete_shutdown(self, shutdown: _GracefulShutdown, now: float) -> bool:
        """A shutting-down replica stops once a successor leads (or it is an observer), or at its deadline."""
        leader = self.quorum.leader_id
        if (now >= shutdown.deadline_ms or not self.is_voter or self.quorum.is_only_voter
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
            for voter in self.quorum.remote_voters:
                self.outbound.send(voter, BeginQuorumEpochRequest(self.cluster_id, self.node_id, state.epoch, voter), now)
            state.begin_quorum_epoch_due_ms = now + self.config.begin_quorum_epoch_interval_ms
        return min(accumulator.time_until_drain(now), state.begin_quorum_epoch_due_ms - now,
                   state.check_quorum_deadline() - now)

    def _poll_candidate(self, state: CandidateState, now: float) -> float:
        if now >= state.election_deadline_ms:
            self._become_prospective(f"its election for epoch {state.epoch} timed out without a majority", now)
            return 0.0
        return min(self.outbound.send_vote_requests(state, False, now), state.election_deadline_ms - now)

    def _poll_prospective(self, state: ProspectiveState, now: float) -> float:
        if state.votes.is_vote_rejected or now >= state.election_deadline_ms:
            self.prospective_lost(state, now)
            return 0.0
        return min(self.outbound.send_vote_requests(state, True, now), state.election_deadline_ms - now)

    def prospective_lost(self, state: ProspectiveState, now: float) -> None:
        """Back to the leader it knew, if any, else Unattached in the same epoch (``prospectiveTransitionAfterElectionLoss``)."""
        if state.leader_id is not None:
            self.to_follower(state.epoch, state.leader_id, now)
        else:
            self.to_unattached(state.epoch, now)

    def _poll_follower(self, state: FollowerState, now: float) -> float:
        if now >= state.fetch_deadline_ms:
            if self.is_voter:
                self._become_prospective(f"no successful fetch from leader {state.leader} for "
                                         f"{self.config.fetch_timeout_ms} ms", now)
                return 0.0
            return self.outbound.fetch_from_any_voter(now)
        return min(self.outbound.fetch_from_best_node(state, now), state.fetch_deadline_ms - now)

    def _poll_unattached(self, state: UnattachedState, now: float) -> float:
        if not self.is_voter:
            return self.outbound.fetch_from_any_voter(now)
        if now >= state.election_deadline_ms:
            self._become_prospective(f"no leader was found within its election timeout in epoch {state.epoch}", now)
            return 0.0
        return state.election_deadline_ms - now

    def _poll_resigned(self, state: ResignedState, now: float) -> float:
        timeout = math.inf
        for voter in sorted(state.unacked_voters):
            timeout = min(timeout, self.outbound.send(voter, EndQuorumEpochRequest(
                self.cluster_id, self.node_id, state.epoch, state.preferred_successors), now))
        if self._shutdown is not None:
            return min(timeout, self._shutdown.deadline_ms - now)
        if now >= state.election_deadline_ms:
            self.to_unattached(state.epoch + 1, now)
            return 0.0
        return min(timeout, state.election_deadline_ms - now)

    # -- the leader's high watermark and the listeners ------------------------------------

    def _on_leader_log_end(self, state: LeaderState, now: float) -> None:
        """The leader's log end moved: maybe the high watermark too, and parked fetches have records now."""
        if state.update_local_state(self.log.end_offset) is not None:
            self.on_leader_high_watermark(state, now)
        self.inbound.complete_parked_fetches(below_offset=self.log.end_offset)

    def on_leader_high_watermark(self, state: LeaderState, now: float) -> None:
        """The leader's high watermark moved: records below it are committed (``onUpdateLeaderHighWatermark``)."""
        high_watermark = state.high_watermark
        assert high_watermark is not None
        self.log.high_watermark = max(self.log.high_watermark or 0, high_watermark)
        # KIP-1166 (Kafka 4.1): waiting fetches are answered at once, so replicas learn the new high watermark.
        self.inbound.complete_parked_fetches()
        epoch, announced, announced_ms = self._hw_announced
        if epoch != state.epoch or now - announced_ms >= HIGH_WATERMARK_EVENT_INTERVAL_MS:
            self.journal.emit(QuorumHighWatermarkAdvanced, leader_id=self.node_id, epoch=state.epoch,
                              old_high_watermark=announced, new_high_watermark=high_watermark)
            self._hw_announced = (state.epoch, high_watermark, now)
        self.request_poll()
