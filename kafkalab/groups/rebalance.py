"""The coordinator's rebalance machinery: generations, join and sync deadlines, member removal.

Kafka's ``GroupCoordinator`` keeps these in its rebalance and heartbeat purgatories;
here each is a timer of the broker's incarnation. A rebalance (PreparingRebalance)
completes when every member rejoined or the rebalance timeout (the largest
max.poll.interval.ms) passed; the first one of an empty group waits
group.initial.rebalance.delay.ms longer, extended while members keep arriving.
The leader's assignment is stored in ``__consumer_offsets`` before it is handed out.
"""

from __future__ import annotations

from kafkalab.broker.context import BrokerContext
from kafkalab.errors import Errors
from kafkalab.events.groups import GenerationStarted, GroupEmptied, GroupStabilized, MemberRemoved, RebalanceStarted
from kafkalab.groups.group import GroupMetadata
from kafkalab.groups.member import MemberMetadata
from kafkalab.groups.state import GroupState
from kafkalab.groups.store import GroupStore
from kafkalab.protocol.consumer_protocol import CONSUMER_PROTOCOL_TYPE, decode_assignment
from kafkalab.protocol.groups import UNKNOWN_MEMBER_ID, JoinGroupResponse, SyncGroupResponse

#: ``GroupCoordinator.NewMemberJoinTimeoutMs``: a new member's parked JoinGroup expires after 5 minutes.
NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000

S = GroupState


def join_error(error: Errors, member_id: str = UNKNOWN_MEMBER_ID) -> JoinGroupResponse:
    """A JoinGroup answer carrying only an error."""
    return JoinGroupResponse(error, member_id=member_id)


class Rebalancer:
    """Rebalances, deadlines and removals of the groups one broker coordinates."""

    def __init__(self, ctx: BrokerContext, store: GroupStore) -> None:
        self.ctx = ctx
        self.store = store
        self.initial_delay_ms: int = ctx.config["group.initial.rebalance.delay.ms"]

    def maybe_prepare(self, group: GroupMetadata, reason: str) -> None:
        """Start a rebalance unless one is already preparing (``maybePrepareRebalance``)."""
        if group.can_rebalance():
            self.prepare(group, reason)

    def prepare(self, group: GroupMetadata, reason: str) -> None:
        """Enter PreparingRebalance: parked SyncGroups are told to rejoin, the join deadline starts."""
        if group.state == S.COMPLETING_REBALANCE:
            self._propagate_assignment_error(group, Errors.REBALANCE_IN_PROGRESS)
        self._cancel_sync_expiration(group)
        previous = group.state
        if previous == S.EMPTY:
            # InitialDelayedJoin: wait for more members, extended while new ones keep arriving.
            delay = self.initial_delay_ms
            self._watch_join(group, delay, max(group.rebalance_timeout_ms - delay, 0))
        else:
            self._watch_join(group, group.rebalance_timeout_ms, None)
        group.transition_to(S.PREPARING_REBALANCE, self.ctx.now_ms)
        self.ctx.journal.emit(RebalanceStarted, group_id=group.group_id, generation=group.generation_id,
                              previous_state=previous.value, reason=reason)
        self.try_complete_join(group)

    def _watch_join(self, group: GroupMetadata, delay_ms: int, initial_remaining_ms: int | None) -> None:
        if group.join_timer is not None:
            group.join_timer.cancel()
        group.initial_join_remaining_ms = initial_remaining_ms
        group.join_delay_ms = delay_ms
        group.join_timer = self.ctx.group.call_later(delay_ms, self._on_join_timer, group)

    def _on_join_timer(self, group: GroupMetadata) -> None:
        if group.state != S.PREPARING_REBALANCE:
            return
        remaining = group.initial_join_remaining_ms
        if remaining is not None and group.new_member_added and remaining != 0:
            group.new_member_added = False
            self._watch_join(group, min(self.initial_delay_ms, remaining), max(remaining - group.join_delay_ms, 0))
            return
        self._complete_join(group)

    def try_complete_join(self, group: GroupMetadata) -> None:
        """DelayedJoin.tryComplete: finish as soon as everyone rejoined (never during the initial delay)."""
        if group.state == S.PREPARING_REBALANCE and group.initial_join_remaining_ms is None \
                and group.has_all_members_joined():
            self._complete_join(group)

    def _complete_join(self, group: GroupMetadata) -> None:
        """``onCompleteJoin``: drop who did not rejoin, start the next generation, answer every JoinGroup."""
        if group.join_timer is not None:
            group.join_timer.cancel()
            group.join_timer = None
        for member in [m for m in group.not_yet_rejoined() if not m.is_static]:
            self.forget(group, member, f"did not rejoin within the rebalance timeout "
                                       f"(max.poll.interval.ms={member.rebalance_timeout_ms})")
        if group.state == S.DEAD:
            return
        if group.members and not group.maybe_elect_new_joined_leader():
            # Only static members that have not come back: keep waiting until their sessions expire.
            self._watch_join(group, group.rebalance_timeout_ms, None)
            return
        previous_generation = group.generation_id
        group.init_next_generation(self.ctx.now_ms)
        if group.state == S.EMPTY:
            self.ctx.journal.emit(GroupEmptied, group_id=group.group_id, generation=group.generation_id)
            self.store.store_group(group, {}, lambda error: None)
            return
        leader = group.get(group.leader_id or "")
        self.ctx.journal.emit(GenerationStarted, group_id=group.group_id, previous_generation=previous_generation,
                              generation=group.generation_id, protocol=group.protocol_name or "",
                              leader_client_id=leader.client_id,
                              members=tuple(m.client_id for m in group.members.values()))
        for member in list(group.members.values()):
            member.invoke_join(self.join_result(group, member))
            self.schedule_heartbeat(group, member)
            member.is_new = False
            group.pending_sync_members.add(member.member_id)
        # DelayedSync: members that never send SyncGroup are removed after the rebalance timeout.
        group.sync_timer = self.ctx.group.call_later(group.rebalance_timeout_ms, self._on_sync_expired, group,
                                                     group.generation_id)

    def store_assignment(self, group: GroupMetadata, assignment: dict[str, bytes]) -> None:
        """Persist the leader's assignment, then answer every parked SyncGroup and become Stable."""
        full = {member_id: assignment.get(member_id, b"") for member_id in group.members}
        generation = group.generation_id

        def stored(error: Errors) -> None:
            # Another member may have joined meanwhile: only act if nothing moved on.
            if group.state != S.COMPLETING_REBALANCE or group.generation_id != generation:
                return
            if error != Errors.NONE:
                self._propagate_assignment_error(group, error)
                self.maybe_prepare(group, f"storing the assignment failed with {error.name}")
                return
            for member in group.members.values():
                member.assignment = full[member.member_id]
            self._propagate(group, Errors.NONE)
            group.transition_to(S.STABLE, self.ctx.now_ms)
            self._emit_stabilized(group)

        self.store.store_group(group, full, stored)

    def _emit_stabilized(self, group: GroupMetadata) -> None:
        owned = []
        for member in group.members.values():
            partitions: tuple[str, ...] = ()
            if group.protocol_type == CONSUMER_PROTOCOL_TYPE:
                partitions = tuple(str(tp) for tp in decode_assignment(member.assignment).partitions)
            owned.append((member.client_id, partitions))
        self.ctx.journal.emit(GroupStabilized, group_id=group.group_id, generation=group.generation_id,
                              assignment=tuple(owned))

    def _propagate_assignment_error(self, group: GroupMetadata, error: Errors) -> None:
        for member in group.members.values():
            member.assignment = b""
        self._propagate(group, error)

    def _propagate(self, group: GroupMetadata, error: Errors) -> None:
        for member in list(group.members.values()):
            response = (SyncGroupResponse(error, group.protocol_type, group.protocol_name, member.assignment)
                        if error == Errors.NONE else SyncGroupResponse(error))
            if member.invoke_sync(response):
                # Expirations were ignored while it waited; expect heartbeats from now on.
                self.schedule_heartbeat(group, member)

    def synced(self, group: GroupMetadata, member_id: str) -> None:
        """The member sent its SyncGroup; once all did, the DelayedSync deadline is off."""
        group.pending_sync_members.discard(member_id)
        if not group.pending_sync_members:
            self._cancel_sync_expiration(group)

    def _cancel_sync_expiration(self, group: GroupMetadata) -> None:
        group.pending_sync_members.clear()
        if group.sync_timer is not None:
            group.sync_timer.cancel()
            group.sync_timer = None

    def _on_sync_expired(self, group: GroupMetadata, generation: int) -> None:
        group.sync_timer = None
        if generation != group.generation_id or group.state not in (S.COMPLETING_REBALANCE, S.STABLE):
            return
        missing = [group.get(member_id) for member_id in group.pending_sync_members if group.has(member_id)]
        if not missing:
            return
        for member in missing:
            self.forget(group, member, "did not send SyncGroup within the rebalance timeout")
        self.prepare(group, f"{', '.join(m.client_id for m in missing)} never sent SyncGroup")

    def schedule_heartbeat(self, group: GroupMetadata, member: MemberMetadata, timeout_ms: int | None = None) -> None:
        """``completeAndScheduleNextHeartbeatExpiration``: a fresh session deadline for the member."""
        if member.heartbeat_timer is not None:
            member.heartbeat_timer.cancel()
        delay = member.session_timeout_ms if timeout_ms is None else timeout_ms
        member.heartbeat_timer = self.ctx.group.call_later(delay, self._on_heartbeat_expired, group, member)

    def _on_heartbeat_expired(self, group: GroupMetadata, member: MemberMetadata) -> None:
        member.heartbeat_timer = None
        if group.state == S.DEAD or group.members.get(member.member_id) is not member:
            return
        if member.is_new:
            self.remove(group, member, f"its first JoinGroup waited {NEW_MEMBER_JOIN_TIMEOUT_MS} ms without "
                                        f"the rebalance completing")
        elif not (member.is_awaiting_join or member.is_awaiting_sync):
            # Members parked in a rebalance count as alive; the rebalance timeout bounds them instead.
            self.remove(group, member, f"no heartbeat within session.timeout.ms={member.session_timeout_ms}")

    def remove(self, group: GroupMetadata, member: MemberMetadata, reason: str) -> None:
        """``removeMemberAndUpdateGroup``: drop the member and rebalance the rest."""
        self.forget(group, member, reason)
        if group.state in (S.STABLE, S.COMPLETING_REBALANCE):
            self.maybe_prepare(group, f"{member.client_id} {reason}")
        elif group.state == S.PREPARING_REBALANCE:
            self.try_complete_join(group)

    def forget(self, group: GroupMetadata, member: MemberMetadata, reason: str) -> None:
        """Remove the member and its deadline, without starting a rebalance."""
        member.invoke_join(join_error(Errors.UNKNOWN_MEMBER_ID))
        group.remove(member.member_id)
        if member.heartbeat_timer is not None:
            member.heartbeat_timer.cancel()
            member.heartbeat_timer = None
        self.ctx.journal.emit(MemberRemoved, group_id=group.group_id, member_id=member.member_id,
                              client_id=member.client_id, group_instance_id=member.group_instance_id, reason=reason)

    def on_group_loaded(self, group: GroupMetadata) -> None:
        """A group read back from ``__consumer_offsets``: expect its members' heartbeats."""
        for member in group.members.values():
            self.schedule_heartbeat(group, member)

    def on_group_unloaded(self, group: GroupMetadata) -> None:
        """This broker stopped coordinating the group: parked requests get NOT_COORDINATOR."""
        previous = group.state
        group.transition_to(S.DEAD, self.ctx.now_ms)
        for member in group.members.values():
            if previous == S.PREPARING_REBALANCE:
                member.invoke_join(join_error(Errors.NOT_COORDINATOR, member.member_id))
            member.invoke_sync(SyncGroupResponse(Errors.NOT_COORDINATOR))
            if member.heartbeat_timer is not None:
                member.heartbeat_timer.cancel()
        for timer in (group.join_timer, group.sync_timer):
            if timer is not None:
                timer.cancel()

    def join_result(self, group: GroupMetadata, member: MemberMetadata) -> JoinGroupResponse:
        """The current generation's JoinGroup answer; only the leader gets the members' subscriptions."""
        leader = group.is_leader(member.member_id)
        return JoinGroupResponse(Errors.NONE, group.generation_id, group.protocol_type, group.protocol_name,
                                 group.leader_id or "", member.member_id,
                                 group.member_subscriptions() if leader else ())
