"""The consumer's side of group membership (Kafka's ``AbstractCoordinator`` + ``ConsumerCoordinator``).

It finds the group's coordinator, joins (JoinGroup, then SyncGroup), runs the
assignor when it is the leader, heartbeats on a timer like Kafka's heartbeat thread,
and gives partitions up before a rebalance: all of them with the eager protocol,
only those that move with the cooperative one (KIP-429, which then rejoins once more
to receive them elsewhere). Rejoining happens inside poll(), as in Kafka: a consumer
that stops polling stops taking part in rebalances and is eventually removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, TypeVar

from kafkalab.clients.assignors import Assignor, RebalanceProtocol, Subscription, get_assignor
from kafkalab.clients.client_config import ClientConfig
from kafkalab.clients.consumer_commits import CommitManager
from kafkalab.clients.consumer_state import SubscriptionState
from kafkalab.clients.network_client import ClientNode
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import (
    CoordinatorDiscovered,
    CoordinatorLost,
    PartitionsAssigned,
    PartitionsLost,
    PartitionsRevoked,
    PollIntervalExceeded,
)
from kafkalab.events.journal import EventJournal
from kafkalab.protocol import consumer_protocol as cp
from kafkalab.protocol.groups import (
    UNKNOWN_MEMBER_ID,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    JoinGroupProtocol,
    JoinGroupRequest,
    JoinGroupResponse,
    LeaveGroupRequest,
    MemberIdentity,
    SyncGroupRequest,
    SyncGroupResponse,
)
from kafkalab.protocol.types import Request, TopicPartition
from kafkalab.sim.process import Future, Process, Sleep, spawn

R = TypeVar("R")

#: ``AbstractCoordinator.JOIN_GROUP_TIMEOUT_LAPSE``: JoinGroup may wait the rebalance timeout plus this.
JOIN_GROUP_TIMEOUT_LAPSE_MS = 5000
#: JoinGroup errors that end the consumer's membership for good (raised from poll()).
_FATAL_JOIN_ERRORS = frozenset({Errors.INVALID_GROUP_ID, Errors.INCONSISTENT_GROUP_PROTOCOL,
                                Errors.INVALID_SESSION_TIMEOUT, Errors.GROUP_MAX_SIZE_REACHED})
_COORDINATOR_ERRORS = frozenset({Errors.COORDINATOR_NOT_AVAILABLE, Errors.NOT_COORDINATOR,
                                 Errors.NETWORK_EXCEPTION, Errors.REQUEST_TIMED_OUT})


class MemberState(Enum):
    """``AbstractCoordinator.MemberState``."""

    UNJOINED = "unjoined"
    PREPARING_REBALANCE = "preparing rebalance"
    COMPLETING_REBALANCE = "completing rebalance"
    STABLE = "stable"


@dataclass(frozen=True)
class Generation:
    """The generation this member joined, its member id and the group's chosen assignor."""

    generation_id: int = -1
    member_id: str = UNKNOWN_MEMBER_ID
    protocol: str | None = None


NO_GENERATION = Generation()


def _names(partitions: Iterable[TopicPartition]) -> tuple[str, ...]:
    return tuple(str(tp) for tp in sorted(partitions))


class ConsumerCoordinator:
    """Membership of one consumer in its group."""

    def __init__(self, client: ClientNode, subscriptions: SubscriptionState, config: ClientConfig,
                 assignors: tuple[Assignor, ...], protocol: RebalanceProtocol, journal: EventJournal, group_id: str,
                 refresh_metadata: Callable[[tuple[str, ...]], Process[Any]], wake: Callable[[], None]) -> None:
        self.client = client
        self.subscriptions = subscriptions
        self.config = config
        self.assignors = assignors
        self.protocol = protocol
        self.journal = journal
        self.group_id = group_id
        self.instance_id: str | None = config["group.instance.id"] or None
        self.coordinator_id: int | None = None
        self.state = MemberState.UNJOINED
        self.generation = NO_GENERATION
        self.rejoin_needed = True
        self.is_leader = False
        self.listener: Any = None
        #: A fatal error (fenced static member) every later poll() raises, as Kafka's consumer does.
        self.fatal: KafkaError | None = None
        self.last_poll_ms = client.now_ms
        self.commits = CommitManager(self)
        self._refresh_metadata = refresh_metadata
        self._wake = wake
        self._joining: Future[None] | None = None
        self._finding: Future[None] | None = None
        self._announced: int | None = None
        self._loss_announced = False
        self._join_prepared = False
        self._rejoin_reason = "the consumer subscribed"
        self._heartbeat_epoch = 0
        self._last_heartbeat_sent = 0.0
        self._last_heartbeat_received = 0.0
        self._sticky_memory: tuple[tuple[TopicPartition, ...], int] = ((), -1)

    @property
    def client_id(self) -> str:
        return self.client.node

    @property
    def stable(self) -> bool:
        """True once the member holds its assignment for the current generation."""
        return self.state == MemberState.STABLE

    @property
    def rebalancing(self) -> bool:
        """True between sending JoinGroup and receiving the SyncGroup assignment (``rebalanceInProgress``)."""
        return self.state in (MemberState.PREPARING_REBALANCE, MemberState.COMPLETING_REBALANCE)

    # -- the coordinator -----------------------------------------------------------

    def ensure_coordinator(self, deadline_ms: float | None = None) -> Process[None]:
        """Wait until the coordinator is known (one FindCoordinator lookup at a time); REQUEST_TIMED_OUT after the deadline."""
        while self.coordinator_id is None:
            if deadline_ms is not None and self.client.now_ms >= deadline_ms:
                raise KafkaError(Errors.REQUEST_TIMED_OUT,
                                 f"No coordinator for group '{self.group_id}' was found in time; is any broker up?")
            if self._finding is None or self._finding.done:
                self._finding = spawn(self.client.group, self._find_coordinator(), name="FindCoordinator")
            yield self._finding

    def _find_coordinator(self) -> Process[None]:
        response = yield from self.client.send_to_any(FindCoordinatorRequest(self.group_id))
        if isinstance(response, FindCoordinatorResponse) and response.error == Errors.NONE:
            self.coordinator_id = response.node_id
            self._last_heartbeat_received = self.client.now_ms
            if response.node_id != self._announced:
                # Only changes are news: while brokers still name a dead coordinator, lookups repeat quietly.
                self._announced, self._loss_announced = response.node_id, False
                self.journal.emit(CoordinatorDiscovered, client_id=self.client_id, group_id=self.group_id,
                                  broker_id=response.node_id)
        else:
            yield Sleep(self.config["retry.backoff.ms"])

    def mark_coordinator_unknown(self, reason: str) -> None:
        """Forget the coordinator (``markCoordinatorUnknown``); the next request looks it up again."""
        if self.coordinator_id is not None:
            if not self._loss_announced:
                self._loss_announced = True
                self.journal.emit(CoordinatorLost, client_id=self.client_id, group_id=self.group_id,
                                  broker_id=self.coordinator_id, reason=reason)
            self.coordinator_id = None

    def send(self, request: Request[R], timeout_ms: float | None = None) -> Future[R | Errors]:
        """Send to the coordinator; the future holds its response or a transport Errors value."""
        assert self.coordinator_id is not None
        return self.client.send(self.coordinator_id, request, timeout_ms)

    # -- poll --------------------------------------------------------------------------

    def poll(self) -> Future[None] | None:
        """Called by every poll(): start (or continue) a rejoin if one is needed; returns it to wait on.

        A join that failed since the last call raises its error here, as Kafka's ``poll()`` throws it.
        """
        self.last_poll_ms = self.client.now_ms
        if self.fatal is not None:
            raise self.fatal
        if self._joining is not None and self._joining.done:
            finished, self._joining = self._joining, None
            if finished.error is not None:
                raise finished.error
        self.commits.maybe_auto_commit()
        if not self.subscriptions.subscribed:
            return None
        if self.rejoin_needed or self.state != MemberState.STABLE:
            if self._joining is None:
                self._joining = spawn(self.client.group, self._join_group(), name="JoinGroup").claim()
            return self._joining
        return None

    def request_rejoin(self, reason: str) -> None:
        """Rejoin at the next poll() (``requestRejoin``); the reason goes to the coordinator (KIP-800)."""
        self.rejoin_needed = True
        self._rejoin_reason = reason
        self._wake()

    def fence(self) -> KafkaError:
        """Another process took our group.instance.id: stop for good (Kafka's FencedInstanceIdException)."""
        self.fatal = KafkaError(Errors.FENCED_INSTANCE_ID, f"Static member {self.instance_id} of group "
                                                           f"'{self.group_id}' was fenced: a newer consumer joined "
                                                           f"with the same group.instance.id.")
        self.reset_generation(reset_member_id=True, rejoin=False)
        self._wake()
        return self.fatal

    def reset_generation(self, reset_member_id: bool, rejoin: bool = True) -> None:
        """Forget the generation after an error: what is owned now counts as lost at the next rejoin."""
        member_id = UNKNOWN_MEMBER_ID if reset_member_id else self.generation.member_id
        self.generation = Generation(-1, member_id, None)
        self.state = MemberState.UNJOINED
        self._heartbeat_epoch += 1
        if rejoin:
            self.request_rejoin("the generation was reset")

    # -- joining -----------------------------------------------------------------------

    def _join_group(self) -> Process[None]:
        """``joinGroupIfNeeded``: prepare, JoinGroup, SyncGroup, repeated while a rejoin is needed."""
        while self.rejoin_needed:
            yield from self.ensure_coordinator()
            if not self._join_prepared:
                yield from self._on_join_prepare()
                self._join_prepared = True
            self.state = MemberState.PREPARING_REBALANCE
            self.rejoin_needed = False
            joined = yield from self._send_join()
            if joined is None:
                self.rejoin_needed = True
                continue
            assignments = (yield from self._assign(joined)) if self.is_leader else ()
            sync = yield self.send(SyncGroupRequest(self.group_id, self.generation.generation_id,
                                                    self.generation.member_id, self.instance_id,
                                                    cp.CONSUMER_PROTOCOL_TYPE, self.generation.protocol, assignments))
            if not self._sync_ok(sync):
                self.rejoin_needed = True
                continue
            self._join_prepared = False
            self.state = MemberState.STABLE
            yield from self._on_join_complete(sync.assignment)
        self._wake()

    def _send_join(self) -> Process[JoinGroupResponse | None]:
        timeout = max(self.config["request.timeout.ms"], self.config["max.poll.interval.ms"] + JOIN_GROUP_TIMEOUT_LAPSE_MS)
        request = JoinGroupRequest(self.group_id, self.config["session.timeout.ms"], self.config["max.poll.interval.ms"],
                                   self.generation.member_id, self.instance_id, cp.CONSUMER_PROTOCOL_TYPE,
                                   self._protocols(), self._rejoin_reason, client_id=self.client_id)
        response = yield self.send(request, timeout)
        if not isinstance(response, JoinGroupResponse):
            self.mark_coordinator_unknown(f"JoinGroup failed with {response.name}")
            yield Sleep(self.config["retry.backoff.ms"])
            return None
        error = response.error
        if error == Errors.NONE:
            self.generation = Generation(response.generation_id, response.member_id, response.protocol_name)
            self.is_leader = response.leader == response.member_id
            self.state = MemberState.COMPLETING_REBALANCE
            self._start_heartbeats()
            return response
        if error == Errors.MEMBER_ID_REQUIRED:
            self.generation = Generation(-1, response.member_id, None)  # rejoin at once with the given id
        elif error == Errors.UNKNOWN_MEMBER_ID:
            self.generation = NO_GENERATION
        elif error == Errors.ILLEGAL_GENERATION:
            self.generation = Generation(-1, self.generation.member_id, None)
        elif error in _COORDINATOR_ERRORS:
            self.mark_coordinator_unknown(f"JoinGroup answered {error.name}")
            yield Sleep(self.config["retry.backoff.ms"])
        elif error == Errors.FENCED_INSTANCE_ID:
            raise self.fence()
        elif error in _FATAL_JOIN_ERRORS:
            self.state = MemberState.UNJOINED
            raise KafkaError(error, f"Joining group '{self.group_id}' failed: {error.description}")
        else:
            yield Sleep(self.config["retry.backoff.ms"])  # COORDINATOR_LOAD_IN_PROGRESS, REBALANCE_IN_PROGRESS
        return None

    def _sync_ok(self, sync: Any) -> bool:
        if isinstance(sync, SyncGroupResponse) and sync.error == Errors.NONE:
            return True
        error = sync.error if isinstance(sync, SyncGroupResponse) else sync
        if error in (Errors.UNKNOWN_MEMBER_ID, Errors.ILLEGAL_GENERATION):
            self.generation = Generation(-1, self.generation.member_id if error == Errors.ILLEGAL_GENERATION
                                         else UNKNOWN_MEMBER_ID, None)
        elif error in _COORDINATOR_ERRORS:
            self.mark_coordinator_unknown(f"SyncGroup answered {error.name}")
        elif error == Errors.FENCED_INSTANCE_ID:
            raise self.fence()
        self.state = MemberState.PREPARING_REBALANCE
        return False

    def _protocols(self) -> tuple[JoinGroupProtocol, ...]:
        """One subscription per configured assignor, in preference order (``ConsumerCoordinator.metadata``)."""
        owned = tuple(sorted(self.subscriptions.assigned))
        protocols = []
        for assignor in self.assignors:
            user_data = None
            if assignor.name == "sticky" and self._sticky_memory[0]:
                user_data = cp.encode_sticky_user_data(*self._sticky_memory)
            subscription = Subscription(self.subscriptions.topics, owned, self.generation.generation_id,
                                        self.instance_id)
            protocols.append(JoinGroupProtocol(assignor.name, cp.encode_subscription(subscription, user_data)))
        return tuple(protocols)

    def _assign(self, joined: JoinGroupResponse) -> Process[tuple[tuple[str, bytes], ...]]:
        """As leader: run the group's assignor over every member's subscription (``onLeaderElected``)."""
        protocol = joined.protocol_name or ""
        subscriptions: dict[str, Subscription] = {}
        for member in joined.members:
            subscription, user_data = cp.decode_subscription(member.metadata, member.group_instance_id)
            if protocol == "sticky" and user_data:
                # The eager sticky assignor keeps what it owned in user data (it revoked everything before joining).
                owned, generation = cp.decode_sticky_user_data(user_data)
                subscription = replace(subscription, owned_partitions=owned, generation=generation)
            subscriptions[member.member_id] = subscription
        topics = tuple(sorted({t for s in subscriptions.values() for t in s.topics}))
        yield from self._refresh_metadata(topics)
        counts = {}
        for topic in topics:
            metadata = self.client.topic(topic)
            if metadata is not None:
                counts[topic] = len(metadata.partitions)
        assignment = get_assignor(protocol).assign(counts, subscriptions)
        return tuple((member_id, cp.encode_assignment(cp.Assignment(tuple(partitions))))
                     for member_id, partitions in assignment.items())

    def _on_join_prepare(self) -> Process[None]:
        """Commit what was consumed, then give partitions up as the protocol says (``onJoinPrepare``)."""
        if self.config["enable.auto.commit"]:
            try:
                yield from self.commits.commit(self.subscriptions.consumed(), retry=True,
                                               timeout_ms=self.config["max.poll.interval.ms"])
            except KafkaError:
                pass  # Kafka logs and carries on: the rebalance must not wait forever
        owned = set(self.subscriptions.assigned)
        if self.generation.generation_id < 0 or self.generation.member_id == UNKNOWN_MEMBER_ID:
            if owned:
                self.journal.emit(PartitionsLost, client_id=self.client_id, group_id=self.group_id,
                                  partitions=_names(owned), reason="its membership ended (session or generation expired)")
                yield from self._invoke("on_partitions_lost", owned)
                self.subscriptions.set_assignment(())
        elif self.protocol == RebalanceProtocol.EAGER:
            if owned:
                yield from self._revoke(owned)
                self.subscriptions.set_assignment(())
        else:
            gone = {tp for tp in owned if tp.topic not in self.subscriptions.topics}
            if gone:
                yield from self._revoke(gone)
                self.subscriptions.set_assignment(owned - gone)
        self.is_leader = False

    def _on_join_complete(self, assignment_bytes: bytes) -> Process[None]:
        """Take the new assignment; cooperative members revoke what moved and rejoin (``onJoinComplete``)."""
        assigned = set(cp.decode_assignment(assignment_bytes).partitions)
        owned = set(self.subscriptions.assigned)
        if any(tp.topic not in self.subscriptions.topics for tp in assigned):
            self.request_rejoin("the assignment does not match the current subscription")
            return
        if self.protocol == RebalanceProtocol.COOPERATIVE:
            revoked = owned - assigned
            if revoked:
                yield from self._revoke(revoked)
                self.request_rejoin("need to revoke partitions and re-join")
        self.subscriptions.set_assignment(sorted(assigned))
        self._sticky_memory = (tuple(sorted(assigned)), self.generation.generation_id)
        added = assigned - owned
        self.commits.reset_auto_commit_deadline()
        self.journal.emit(PartitionsAssigned, client_id=self.client_id, group_id=self.group_id,
                          generation=self.generation.generation_id, added=_names(added), owned=_names(assigned))
        yield from self._invoke("on_partitions_assigned", added)

    def _revoke(self, partitions: set[TopicPartition]) -> Process[None]:
        self.journal.emit(PartitionsRevoked, client_id=self.client_id, group_id=self.group_id,
                          generation=self.generation.generation_id, protocol=self.protocol.value,
                          partitions=_names(partitions))
        yield from self._invoke("on_partitions_revoked", partitions)

    def _invoke(self, method: str, partitions: set[TopicPartition]) -> Process[None]:
        """Call the rebalance listener; a callback may return a Future (e.g. a commit) to wait for."""
        callback = getattr(self.listener, method, None)
        if callback is None and method == "on_partitions_lost":
            callback = getattr(self.listener, "on_partitions_revoked", None)  # Kafka's default for lost
        if callback is None or (not partitions and method != "on_partitions_assigned"):
            return
        result = callback(sorted(partitions))
        if isinstance(result, Future):
            yield result

    # -- heartbeats ----------------------------------------------------------------------

    def _start_heartbeats(self) -> None:
        self._heartbeat_epoch += 1
        self._last_heartbeat_sent = self._last_heartbeat_received = self.client.now_ms
        spawn(self.client.group, self._heartbeat_loop(self._heartbeat_epoch), name="heartbeat thread")

    def _heartbeat_loop(self, epoch: int) -> Process[None]:
        """The heartbeat thread: beat every heartbeat.interval.ms, leave if poll() stopped being called."""
        interval = self.config["heartbeat.interval.ms"]
        active = (MemberState.COMPLETING_REBALANCE, MemberState.STABLE)
        while self._heartbeat_epoch == epoch and self.state in active:
            now = self.client.now_ms
            if self.coordinator_id is None:
                yield from self.ensure_coordinator()
                continue
            if now - self._last_heartbeat_received > self.config["session.timeout.ms"]:
                self.mark_coordinator_unknown("no heartbeat response within session.timeout.ms")
                continue
            poll_deadline = self.last_poll_ms + self.config["max.poll.interval.ms"]
            if now > poll_deadline:
                self.journal.emit(PollIntervalExceeded, client_id=self.client_id, group_id=self.group_id,
                                  max_poll_interval_ms=self.config["max.poll.interval.ms"])
                yield from self.leave_group("consumer poll timeout has expired")
                return
            due = self._last_heartbeat_sent + interval
            if now < due:
                yield Sleep(min(due, poll_deadline + 1) - now)
                continue
            self._last_heartbeat_sent = now
            generation = self.generation
            response = yield self.send(HeartbeatRequest(self.group_id, generation.generation_id, generation.member_id,
                                                        self.instance_id), self.config["request.timeout.ms"])
            if self._heartbeat_epoch == epoch:
                yield from self._on_heartbeat(response, generation)

    def _on_heartbeat(self, response: Any, generation: Generation) -> Process[None]:
        error = response.error if isinstance(response, HeartbeatResponse) else response
        if error in (Errors.NONE, Errors.REBALANCE_IN_PROGRESS):
            self._last_heartbeat_received = self.client.now_ms
            if error == Errors.REBALANCE_IN_PROGRESS and self.state == MemberState.STABLE:
                self.request_rejoin("the group is rebalancing")
        elif error == Errors.FENCED_INSTANCE_ID:
            self.fence()
        elif error in (Errors.ILLEGAL_GENERATION, Errors.UNKNOWN_MEMBER_ID):
            if self.generation == generation:
                self.reset_generation(reset_member_id=error == Errors.UNKNOWN_MEMBER_ID)
        elif error in _COORDINATOR_ERRORS:
            self.mark_coordinator_unknown(f"Heartbeat answered {error.name}")
            yield Sleep(self.config["retry.backoff.ms"])
        else:
            yield Sleep(self.config["retry.backoff.ms"])

    def leave_group(self, reason: str, rejoin: bool = True) -> Process[None]:
        """``maybeLeaveGroup``: a dynamic member says goodbye; a static one just stops (KIP-345)."""
        member_id = self.generation.member_id
        if self.instance_id is None and self.coordinator_id is not None and member_id \
                and self.state != MemberState.UNJOINED:
            yield self.send(LeaveGroupRequest(self.group_id, (MemberIdentity(member_id, None, reason),)),
                            self.config["request.timeout.ms"])
        self.reset_generation(reset_member_id=True, rejoin=rejoin)

    def on_leave_prepare(self) -> Process[None]:
        """Before leaving for good: hand the partitions back through the listener (``onLeavePrepare``)."""
        owned = set(self.subscriptions.assigned)
        if owned and self.stable:
            yield from self._revoke(owned)
        elif owned:
            self.journal.emit(PartitionsLost, client_id=self.client_id, group_id=self.group_id,
                              partitions=_names(owned), reason="it left in the middle of a rebalance")
            yield from self._invoke("on_partitions_lost", owned)
        self.subscriptions.set_assignment(())
