"""JoinGroup, SyncGroup, Heartbeat and LeaveGroup as the group coordinator answers them.

The logic follows Kafka's ``GroupCoordinator`` (classic protocol) step by step: new
dynamic members first get a member id (MEMBER_ID_REQUIRED, KIP-394), known members
rejoin or just resume, static members (KIP-345) replace their previous incarnation
without a rebalance, and a SyncGroup from the leader carries the assignment that
``rebalance.py`` stores and hands out.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

from kafkalab.broker.context import BrokerContext
from kafkalab.errors import Errors
from kafkalab.events.groups import StaticMemberRejoined
from kafkalab.groups.group import GroupMetadata
from kafkalab.groups.member import JoinCallback, MemberMetadata, SyncCallback
from kafkalab.groups.rebalance import NEW_MEMBER_JOIN_TIMEOUT_MS, Rebalancer, join_error
from kafkalab.groups.state import GroupState
from kafkalab.groups.store import GroupStore
from kafkalab.protocol.groups import (
    UNKNOWN_MEMBER_ID,
    HeartbeatRequest,
    HeartbeatResponse,
    JoinGroupRequest,
    JoinGroupResponse,
    LeaveGroupRequest,
    LeaveGroupResponse,
    MemberIdentity,
    SyncGroupRequest,
    SyncGroupResponse,
)

S = GroupState


class Membership:
    """The membership requests of the groups a broker coordinates."""

    def __init__(self, ctx: BrokerContext, store: GroupStore, rng: random.Random) -> None:
        self.ctx = ctx
        self.store = store
        self.rng = rng
        self.rebalance = Rebalancer(ctx, store)

    # -- JoinGroup -----------------------------------------------------------------

    def join(self, request: JoinGroupRequest, respond: Callable[[JoinGroupResponse], None]) -> None:
        """Handle a JoinGroup whose group this broker coordinates."""
        config = self.ctx.config
        if not config["group.min.session.timeout.ms"] <= request.session_timeout_ms <= \
                config["group.max.session.timeout.ms"]:
            respond(join_error(Errors.INVALID_SESSION_TIMEOUT, request.member_id))
            return
        unknown = request.member_id == UNKNOWN_MEMBER_ID
        group = self.store.get_or_create(request.group_id, create=unknown)
        if group is None:
            respond(join_error(Errors.UNKNOWN_MEMBER_ID, request.member_id))
            return
        if group.state == S.DEAD:
            # The group moved to another coordinator meanwhile: find it again and rejoin.
            respond(join_error(Errors.COORDINATOR_NOT_AVAILABLE, request.member_id))
        elif not group.supports_protocols(request.protocol_type, tuple(p.name for p in request.protocols)):
            respond(join_error(Errors.INCONSISTENT_GROUP_PROTOCOL, request.member_id))
        elif unknown:
            self._join_new_member(group, request, respond)
        else:
            self._join_current_member(group, request, respond)
        if group.state == S.PREPARING_REBALANCE:
            self.rebalance.try_complete_join(group)

    def _new_member_id(self, prefix: str) -> str:
        return f"{prefix}-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def _join_new_member(self, group: GroupMetadata, request: JoinGroupRequest, respond: JoinCallback) -> None:
        instance_id = request.group_instance_id
        member_id = self._new_member_id(instance_id if instance_id is not None else request.client_id)
        if instance_id is not None:
            old_member_id = group.static_member_id(instance_id)
            if old_member_id is not None:
                self._replace_static_member(group, request, old_member_id, member_id, respond)
            else:
                self._add_member_and_rebalance(group, request, member_id, respond)
            return
        if not request.require_known_member_id:
            self._add_member_and_rebalance(group, request, member_id, respond)
            return
        # KIP-394 (JoinGroup v4+): a dynamic member first gets its id and must rejoin with it, so a
        # client retrying a JoinGroup whose response was lost leaves no ghost member behind.
        group.pending_members.add(member_id)
        self.ctx.group.call_later(request.session_timeout_ms, self._expire_pending_member, group, member_id)
        respond(join_error(Errors.MEMBER_ID_REQUIRED, member_id))

    def _join_current_member(self, group: GroupMetadata, request: JoinGroupRequest, respond: JoinCallback) -> None:
        member_id = request.member_id
        if member_id in group.pending_members:
            self._add_member_and_rebalance(group, request, member_id, respond)
            return
        error = self._validate_member(group, member_id, request.group_instance_id)
        if error is not None:
            respond(join_error(error, member_id))
            return
        member = group.get(member_id)
        label = member.client_id
        why = f" ({request.reason})" if request.reason else ""
        if group.state == S.PREPARING_REBALANCE:
            self._update_member_and_rebalance(group, member, request, respond, f"{label} rejoined{why}")
        elif group.state == S.COMPLETING_REBALANCE:
            if member.matches(request.protocols):
                # It missed the JoinGroup response: repeat the current generation's answer.
                respond(self.rebalance.join_result(group, member))
            else:
                self._update_member_and_rebalance(group, member, request, respond,
                                                  f"{label} rejoined with new subscription metadata{why}")
        elif group.state == S.STABLE:
            if group.is_leader(member_id):
                # The leader rejoins to make the group reassign (it noticed e.g. new partitions).
                self._update_member_and_rebalance(group, member, request, respond, f"leader {label} rejoined{why}")
            elif not member.matches(request.protocols):
                self._update_member_and_rebalance(group, member, request, respond,
                                                  f"{label} rejoined with new subscription metadata{why}")
            else:
                respond(JoinGroupResponse(Errors.NONE, group.generation_id, group.protocol_type, group.protocol_name,
                                          group.leader_id or "", member_id))
        else:
            respond(join_error(Errors.UNKNOWN_MEMBER_ID, member_id))

    def _validate_member(self, group: GroupMetadata, member_id: str, instance_id: str | None) -> Errors | None:
        """FENCED_INSTANCE_ID for a superseded static member, UNKNOWN_MEMBER_ID for a stranger (``validateCurrentMember``)."""
        if instance_id is not None:
            current = group.static_member_id(instance_id)
            if current is None:
                return Errors.UNKNOWN_MEMBER_ID
            if current != member_id:
                return Errors.FENCED_INSTANCE_ID
        return None if group.has(member_id) else Errors.UNKNOWN_MEMBER_ID

    def _add_member_and_rebalance(self, group: GroupMetadata, request: JoinGroupRequest, member_id: str,
                                  respond: JoinCallback) -> None:
        member = MemberMetadata(member_id, request.group_instance_id, request.client_id, request.client_host,
                                request.rebalance_timeout_ms, request.session_timeout_ms, request.protocol_type,
                                request.protocols, is_new=True)
        if group.state == S.PREPARING_REBALANCE and group.generation_id == 0:
            group.new_member_added = True
        group.add(member, respond)
        self.rebalance.schedule_heartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS)
        self.rebalance.maybe_prepare(group, f"{request.client_id} joined")

    def _update_member_and_rebalance(self, group: GroupMetadata, member: MemberMetadata, request: JoinGroupRequest,
                                     respond: JoinCallback, reason: str) -> None:
        group.update_member(member, request.protocols, request.rebalance_timeout_ms, request.session_timeout_ms, respond)
        self.rebalance.maybe_prepare(group, reason)

    def _replace_static_member(self, group: GroupMetadata, request: JoinGroupRequest, old_member_id: str,
                               new_member_id: str, respond: JoinCallback) -> None:
        """A known group.instance.id joined with a new process: fence the old one and take its place."""
        old = group.get(old_member_id)
        old.invoke_join(join_error(Errors.FENCED_INSTANCE_ID, old_member_id))
        old.invoke_sync(SyncGroupResponse(Errors.FENCED_INSTANCE_ID))
        current_leader = group.leader_id or ""
        old_protocols = old.protocols
        member = group.replace_static_member(request.group_instance_id or "", old_member_id, new_member_id)
        self.rebalance.schedule_heartbeat(group, member)
        group.update_member(member, request.protocols, request.rebalance_timeout_ms, request.session_timeout_ms, respond)
        if group.state == S.STABLE:
            if group.select_protocol() != group.protocol_name:
                self.rebalance.maybe_prepare(group, f"static member {request.group_instance_id} changed its strategies")
                return
            generation = group.generation_id

            def stored(error: Errors) -> None:
                if error != Errors.NONE:
                    group.update_member(member, old_protocols, member.rebalance_timeout_ms,
                                        member.session_timeout_ms, None)
                    group.replace_static_member(request.group_instance_id or "", new_member_id, old_member_id)
                    respond(join_error(error))
                    return
                # The old leader id is returned so a restarted leader does not re-assign a Stable group.
                member.invoke_join(JoinGroupResponse(Errors.NONE, group.generation_id, group.protocol_type,
                                                     group.protocol_name, current_leader, new_member_id))
                self.ctx.journal.emit(StaticMemberRejoined, group_id=group.group_id,
                                      group_instance_id=request.group_instance_id or "", old_member_id=old_member_id,
                                      new_member_id=new_member_id, generation=generation)

            self.store.store_group(group, {m.member_id: m.assignment for m in group.members.values()}, stored)
        elif group.state == S.COMPLETING_REBALANCE:
            # The leader may already hold the old member id in its assignment: start over.
            self.rebalance.prepare(group, f"static member {request.group_instance_id} restarted during a rebalance")

    def _expire_pending_member(self, group: GroupMetadata, member_id: str) -> None:
        if member_id in group.pending_members:
            group.pending_members.discard(member_id)
            if group.state == S.PREPARING_REBALANCE:
                self.rebalance.try_complete_join(group)

    # -- rebalance -----------------------------------------------------------------

    # -- SyncGroup -----------------------------------------------------------------

    def sync(self, request: SyncGroupRequest, respond: SyncCallback) -> None:
        """Handle a SyncGroup whose group this broker coordinates."""
        group = self.store.groups.get(request.group_id)
        if group is None:
            respond(SyncGroupResponse(Errors.UNKNOWN_MEMBER_ID))
            return
        error = self._validate_generation(group, request.member_id, request.group_instance_id, request.generation_id)
        if error is None and ((request.protocol_type is not None and request.protocol_type != group.protocol_type)
                              or (request.protocol_name is not None and request.protocol_name != group.protocol_name)):
            error = Errors.INCONSISTENT_GROUP_PROTOCOL
        if error is not None:
            respond(SyncGroupResponse(error))
        elif group.state == S.EMPTY:
            respond(SyncGroupResponse(Errors.UNKNOWN_MEMBER_ID))
        elif group.state == S.PREPARING_REBALANCE:
            respond(SyncGroupResponse(Errors.REBALANCE_IN_PROGRESS))
        elif group.state == S.COMPLETING_REBALANCE:
            member = group.get(request.member_id)
            member.awaiting_sync = respond
            self.rebalance.synced(group, request.member_id)
            if group.is_leader(request.member_id):
                self.rebalance.store_assignment(group, dict(request.assignments))
        else:
            self.rebalance.synced(group, request.member_id)
            member = group.get(request.member_id)
            respond(SyncGroupResponse(Errors.NONE, group.protocol_type, group.protocol_name, member.assignment))
            self.rebalance.schedule_heartbeat(group, member)

    def _validate_generation(self, group: GroupMetadata, member_id: str, instance_id: str | None,
                             generation: int) -> Errors | None:
        if group.state == S.DEAD:
            return Errors.COORDINATOR_NOT_AVAILABLE
        error = self._validate_member(group, member_id, instance_id)
        if error is None and generation != group.generation_id:
            error = Errors.ILLEGAL_GENERATION
        return error

    # -- Heartbeat and LeaveGroup --------------------------------------------------------

    def heartbeat(self, request: HeartbeatRequest, respond: Callable[[HeartbeatResponse], None]) -> None:
        """Handle a Heartbeat: reset the member's session deadline and tell it if a rebalance is on."""
        group = self.store.groups.get(request.group_id)
        if group is None:
            respond(HeartbeatResponse(Errors.UNKNOWN_MEMBER_ID))
            return
        error = self._validate_generation(group, request.member_id, request.group_instance_id, request.generation_id)
        if error is not None:
            respond(HeartbeatResponse(error))
        elif group.state == S.EMPTY:
            respond(HeartbeatResponse(Errors.UNKNOWN_MEMBER_ID))
        else:
            self.rebalance.schedule_heartbeat(group, group.get(request.member_id))
            rebalancing = group.state == S.PREPARING_REBALANCE
            respond(HeartbeatResponse(Errors.REBALANCE_IN_PROGRESS if rebalancing else Errors.NONE))

    def leave(self, request: LeaveGroupRequest, respond: Callable[[LeaveGroupResponse], None]) -> None:
        """Handle a LeaveGroup: remove each named member (by instance id when the member id is unknown)."""
        group = self.store.groups.get(request.group_id)
        if group is None:
            respond(LeaveGroupResponse(Errors.NONE, tuple((m, Errors.UNKNOWN_MEMBER_ID) for m in request.members)))
            return
        if group.state == S.DEAD:
            respond(LeaveGroupResponse(Errors.COORDINATOR_NOT_AVAILABLE))
            return
        results = []
        for identity in request.members:
            results.append((identity, self._leave_one(group, identity)))
        respond(LeaveGroupResponse(Errors.NONE, tuple(results)))

    def _leave_one(self, group: GroupMetadata, identity: MemberIdentity) -> Errors:
        member_id = identity.member_id
        if member_id == UNKNOWN_MEMBER_ID:
            current = group.static_member_id(identity.group_instance_id) if identity.group_instance_id else None
            if current is None:
                return Errors.UNKNOWN_MEMBER_ID
            member_id = current
        elif member_id in group.pending_members:
            self._expire_pending_member(group, member_id)
            return Errors.NONE
        else:
            error = self._validate_member(group, member_id, identity.group_instance_id)
            if error is not None:
                return error
        reason = "left the group (LeaveGroup" + (f": {identity.reason})" if identity.reason else ")")
        self.rebalance.remove(group, group.get(member_id), reason)
        return Errors.NONE

    # -- loading and unloading -------------------------------------------------------
