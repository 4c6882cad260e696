"""The group coordinator's request handlers on a broker (Kafka's ``GroupCoordinator`` + ``KafkaApis``).

Any broker answers FindCoordinator: the leader of the group's ``__consumer_offsets``
partition, creating that topic through the controller on first use. The other requests
must reach that leader; it checks the group id and that it owns and has loaded the
group (INVALID_GROUP_ID, NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) before
membership (``membership.py``) or offsets storage (``store.py``) take over.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.replica_manager import ReplicaManager
from kafkalab.errors import Errors
from kafkalab.events.groups import GroupDeleted, OffsetsCommitted, OffsetsTopicCreationRequested
from kafkalab.groups.group import CommittedOffset, GroupMetadata
from kafkalab.groups.membership import Membership
from kafkalab.groups.state import GroupState
from kafkalab.groups.store import OFFSETS_TOPIC, OFFSETS_TOPIC_CONFIGS, GroupStore
from kafkalab.protocol.admin import CreatableTopic, CreateTopicsRequest
from kafkalab.protocol.consumer_protocol import CONSUMER_PROTOCOL_TYPE, decode_assignment
from kafkalab.protocol.groups import (
    UNKNOWN_MEMBER_ID,
    DeleteGroupsRequest,
    DeleteGroupsResponse,
    DescribedGroup,
    DescribedMember,
    DescribeGroupsRequest,
    DescribeGroupsResponse,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    JoinGroupRequest,
    JoinGroupResponse,
    LeaveGroupRequest,
    LeaveGroupResponse,
    ListedGroup,
    ListGroupsRequest,
    ListGroupsResponse,
    OffsetCommitRequest,
    OffsetCommitResponse,
    OffsetFetchPartition,
    OffsetFetchRequest,
    OffsetFetchResponse,
    SyncGroupRequest,
    SyncGroupResponse,
)
from kafkalab.protocol.transactions import TxnOffsetCommitRequest, TxnOffsetCommitResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.views import GroupMemberView, HostedGroup, MemberDeadline

Responder = Callable[[Any], None]
#: Kafka's ``offset.metadata.max.bytes``.
OFFSET_METADATA_MAX_BYTES = 4096

S = GroupState


class GroupCoordinator:
    """One broker's group coordinator; it owns the groups of the offsets partitions it leads."""

    def __init__(self, ctx: BrokerContext, replicas: ReplicaManager, rng: random.Random) -> None:
        self.ctx = ctx
        self.store = GroupStore(ctx, replicas, self._on_loaded, self._on_unloaded)
        self.membership = Membership(ctx, self.store, rng)
        self._creating_offsets_topic = False
        # Kafka's "delete-expired-group-metadata" task, first run at once.
        ctx.group.every(ctx.config["offsets.retention.check.interval.ms"], self.store.remove_expired_offsets,
                        first_delay_ms=0)

    def handlers(self) -> dict[type, Callable[[Any, Responder], None]]:
        """The broker's dispatch entries for the coordinator APIs."""
        return {
            FindCoordinatorRequest: self.find_coordinator,
            JoinGroupRequest: self.join_group,
            SyncGroupRequest: self.sync_group,
            HeartbeatRequest: self.heartbeat,
            LeaveGroupRequest: self.leave_group,
            OffsetCommitRequest: self.commit_offsets,
            OffsetFetchRequest: self.fetch_offsets,
            DescribeGroupsRequest: self.describe_groups,
            ListGroupsRequest: self.list_groups,
            DeleteGroupsRequest: self.delete_groups,
            TxnOffsetCommitRequest: self.commit_txn_offsets,
        }

    def on_partition_role(self, tp: TopicPartition, is_leader: bool, leader_epoch: int) -> None:
        """Leadership of a replica changed (Kafka's ``onLeadershipChange``): load or unload its groups."""
        if tp.topic == OFFSETS_TOPIC:
            self.store.on_role(tp.partition, is_leader, leader_epoch)

    def _on_loaded(self, group: GroupMetadata) -> None:
        self.membership.rebalance.on_group_loaded(group)

    def _on_unloaded(self, group: GroupMetadata) -> None:
        self.membership.rebalance.on_group_unloaded(group)

    def _status(self, group_id: str, allow_empty: bool = False) -> Errors | None:
        """``validateGroupStatus``: commits, fetches and describes accept the empty group id; the rest do not."""
        if not isinstance(group_id, str) or (not allow_empty and not group_id):
            return Errors.INVALID_GROUP_ID
        if self.store.is_loading(group_id):
            return Errors.COORDINATOR_LOAD_IN_PROGRESS
        if not self.store.is_local(group_id):
            return Errors.NOT_COORDINATOR
        return None

    # -- FindCoordinator -------------------------------------------------------------

    def find_coordinator(self, request: FindCoordinatorRequest, respond: Responder) -> None:
        """Name the leader of the group's offsets partition, creating ``__consumer_offsets`` if needed."""
        metadata = self.ctx.metadata
        if request.key_type != 0:
            respond(FindCoordinatorResponse(Errors.INVALID_REQUEST, message="Only group coordinators exist here."))
            return
        if OFFSETS_TOPIC not in metadata.partition_counts:
            self._create_offsets_topic(request.key)
            respond(FindCoordinatorResponse(Errors.COORDINATOR_NOT_AVAILABLE,
                                            message="__consumer_offsets is being created."))
            return
        leader = metadata.leader_of(TopicPartition(OFFSETS_TOPIC, self.store.partition_for(request.key)))
        endpoint = metadata.brokers.get(leader)
        if endpoint is None:
            respond(FindCoordinatorResponse(Errors.COORDINATOR_NOT_AVAILABLE,
                                            message="The group's __consumer_offsets partition has no leader."))
            return
        respond(FindCoordinatorResponse(Errors.NONE, leader, endpoint.host, endpoint.port))

    def _create_offsets_topic(self, group_id: str) -> None:
        controller = self.ctx.metadata.controller_node()
        if self._creating_offsets_topic or controller is None:
            return
        config = self.ctx.config
        partitions, replication = config["offsets.topic.num.partitions"], config["offsets.topic.replication.factor"]
        self._creating_offsets_topic = True
        topic = CreatableTopic(OFFSETS_TOPIC, partitions, replication, dict(OFFSETS_TOPIC_CONFIGS))

        def done(response: Any, error: Errors | None) -> None:
            self._creating_offsets_topic = False
            # Narrate only the request that worked: clients retry FindCoordinator every
            # retry.backoff.ms, and while the controller is unreachable each try fails.
            if error is None and response.results[OFFSETS_TOPIC].error == Errors.NONE:
                self.ctx.journal.emit(OffsetsTopicCreationRequested, broker_id=self.ctx.broker_id,
                                      group_id=group_id, partitions=partitions, replication_factor=replication)

        request = CreateTopicsRequest((topic,), internal_topics_allowed=True)
        self.ctx.network.request(self.ctx.node, controller, request, done, config["request.timeout.ms"])

    # -- membership ----------------------------------------------------------------

    def join_group(self, request: JoinGroupRequest, respond: Responder) -> None:
        error = self._status(request.group_id)
        if error is not None:
            respond(JoinGroupResponse(error, member_id=request.member_id))
        else:
            self.membership.join(request, respond)

    def sync_group(self, request: SyncGroupRequest, respond: Responder) -> None:
        error = self._status(request.group_id)
        if error == Errors.COORDINATOR_LOAD_IN_PROGRESS:
            # The rebalance's state was lost with the old coordinator: rejoin without rediscovering it.
            error = Errors.REBALANCE_IN_PROGRESS
        if error is not None:
            respond(SyncGroupResponse(error))
        else:
            self.membership.sync(request, respond)

    def heartbeat(self, request: HeartbeatRequest, respond: Responder) -> None:
        error = self._status(request.group_id)
        if error == Errors.COORDINATOR_LOAD_IN_PROGRESS:
            respond(HeartbeatResponse(Errors.NONE))  # still loading: answer blindly, as Kafka does
        elif error is not None:
            respond(HeartbeatResponse(error))
        else:
            self.membership.heartbeat(request, respond)

    def leave_group(self, request: LeaveGroupRequest, respond: Responder) -> None:
        error = self._status(request.group_id)
        if error is not None:
            respond(LeaveGroupResponse(error))
        else:
            self.membership.leave(request, respond)

    # -- offsets -------------------------------------------------------------------

    def commit_offsets(self, request: OffsetCommitRequest, respond: Responder) -> None:
        """Validate the committer, then append the offsets to ``__consumer_offsets`` with acks=all."""
        error = self._status(request.group_id, allow_empty=True)
        if error is not None:
            respond(OffsetCommitResponse({tp: error for tp in request.offsets}))
            return
        errors: dict[TopicPartition, Errors] = {}
        valid: dict[TopicPartition, CommittedOffset] = {}
        now = int(self.ctx.now_ms)
        counts = self.ctx.metadata.partition_counts
        for tp, commit in request.offsets.items():
            if not 0 <= tp.partition < counts.get(tp.topic, 0):
                errors[tp] = Errors.UNKNOWN_TOPIC_OR_PARTITION
            elif len(commit.metadata.encode("utf-8")) > OFFSET_METADATA_MAX_BYTES:
                errors[tp] = Errors.OFFSET_METADATA_TOO_LARGE
            else:
                valid[tp] = CommittedOffset(commit.offset, commit.leader_epoch, commit.metadata, now)
        group = self.store.groups.get(request.group_id)
        if group is None and request.generation_id < 0:
            # A consumer outside group management uses Kafka only to store offsets.
            group = self.store.get_or_create(request.group_id, create=True)
        error = Errors.ILLEGAL_GENERATION if group is None else self._validate_commit(
            group, request.generation_id, request.member_id, request.group_instance_id, transactional=False)
        if error is None and group is not None and group.state == S.COMPLETING_REBALANCE:
            error = Errors.REBALANCE_IN_PROGRESS  # doCommitOffsets' own state check
        if error is not None or not valid:
            respond(OffsetCommitResponse({**errors, **{tp: error or Errors.NONE for tp in valid}}))
            return
        assert group is not None
        client_id = request.client_id
        if group.has(request.member_id):
            member = group.get(request.member_id)
            client_id = member.client_id
            self.membership.rebalance.schedule_heartbeat(group, member)  # a commit proves the member alive

        # Auto-commit re-commits unchanged positions every interval; only moves are news for the timeline.
        moved = {tp: o for tp, o in valid.items() if tp not in group.offsets or group.offsets[tp].offset != o.offset}

        def stored(result: Errors) -> None:
            if result == Errors.NONE and moved:
                self.ctx.journal.emit(OffsetsCommitted, group_id=group.group_id, client_id=client_id,
                                      generation=request.generation_id,
                                      offsets=tuple((str(tp), o.offset) for tp, o in sorted(moved.items())))
            respond(OffsetCommitResponse({**errors, **{tp: result for tp in valid}}))

        self.store.store_offsets(group, valid, stored)

    def commit_txn_offsets(self, request: TxnOffsetCommitRequest, respond: Responder) -> None:
        """``handleTxnCommitOffsets`` and ``doTxnCommitOffsets``: append the offsets as part of the producer's
        transaction, if the member may commit; they count only once its COMMIT marker reaches the group's partition
        (``on_transaction_completed``)."""
        error = self._status(request.group_id)
        if error is None:
            counts = self.ctx.metadata.partition_counts
            error = next((Errors.UNKNOWN_TOPIC_OR_PARTITION for tp in request.offsets
                          if not 0 <= tp.partition < counts.get(tp.topic, 0)), None)
        if error is not None:
            respond(TxnOffsetCommitResponse({tp: error for tp in request.offsets}))
            return
        group = self.store.get_or_create(request.group_id, create=True)
        assert group is not None
        error = self._validate_commit(group, request.generation_id, request.member_id, request.group_instance_id,
                                      transactional=True)
        if error is not None:
            respond(TxnOffsetCommitResponse({tp: error for tp in request.offsets}))
            return
        now = int(self.ctx.now_ms)
        offsets = {tp: CommittedOffset(offset, -1, "", now) for tp, offset in request.offsets.items()}
        self.store.store_txn_offsets(group, request.producer_id, request.producer_epoch, offsets,
                                     lambda result: respond(TxnOffsetCommitResponse({tp: result for tp in offsets})))

    def on_transaction_completed(self, producer_id: int, committed: bool, partitions: tuple[TopicPartition, ...]) -> None:
        """A transaction's marker is in our offsets partitions: its offsets count now, or never."""
        for group_id, applied in self.store.complete_txn_offsets(producer_id, committed, partitions).items():
            self.ctx.journal.emit(OffsetsCommitted, group_id=group_id, client_id=f"producer {producer_id}",
                                  generation=self.store.groups[group_id].generation_id,
                                  offsets=tuple((str(tp), o.offset) for tp, o in sorted(applied.items())))

    @staticmethod
    def _validate_commit(group: GroupMetadata, generation_id: int, member_id: str, instance_id: str | None, *,
                         transactional: bool) -> Errors | None:
        """``validateOffsetCommit`` (3.9's ``GroupCoordinator``): a commit that names a member must come from the
        current generation's member (so a member fenced by a rebalance cannot commit, in a transaction too: KIP-447);
        one that names none may commit for a group with members only inside a transaction, since older
        TxnOffsetCommit versions (and producers given only a group id) name none."""
        if group.state == S.DEAD:
            return Errors.COORDINATOR_NOT_AVAILABLE
        if generation_id < 0 and group.state == S.EMPTY:
            return None
        if generation_id >= 0 or member_id != UNKNOWN_MEMBER_ID or instance_id:
            if group.is_static_member_fenced(member_id, instance_id):
                return Errors.FENCED_INSTANCE_ID
            if not group.has(member_id):
                return Errors.UNKNOWN_MEMBER_ID
            if generation_id != group.generation_id:
                return Errors.ILLEGAL_GENERATION
        elif not transactional and group.state != S.EMPTY:
            return Errors.UNKNOWN_MEMBER_ID  # only members may commit for a group with members
        return None

    def fetch_offsets(self, request: OffsetFetchRequest, respond: Responder) -> None:
        """The group's committed offsets (-1 where it has none), whatever the group's state."""
        error = self._status(request.group_id, allow_empty=True)
        if error is not None:
            respond(OffsetFetchResponse(error, {}))
            return
        group = self.store.groups.get(request.group_id)
        offsets = group.offsets if group is not None else {}
        wanted = request.partitions if request.partitions is not None else tuple(sorted(offsets))
        # KIP-447's requireStable: an offset still being committed (in a transaction, or not yet replicated).
        unstable = set() if group is None or not request.require_stable else (
            set(group.pending_offset_commits).union(*group.pending_txn_offsets.values()))
        result = {}
        for tp in wanted:
            committed = offsets.get(tp)
            if tp in unstable:
                result[tp] = OffsetFetchPartition(-1, error=Errors.UNSTABLE_OFFSET_COMMIT)
            else:
                result[tp] = (OffsetFetchPartition(committed.offset, committed.leader_epoch, committed.metadata)
                              if committed is not None else OffsetFetchPartition(-1))
        respond(OffsetFetchResponse(Errors.NONE, result))

    # -- describe and list -------------------------------------------------------------

    def describe_groups(self, request: DescribeGroupsRequest, respond: Responder) -> None:
        respond(DescribeGroupsResponse(tuple(self._describe(group_id) for group_id in request.groups)))

    def _describe(self, group_id: str) -> DescribedGroup:
        error = self._status(group_id, allow_empty=True)
        if error is not None:
            return DescribedGroup(error, group_id, "", "", "", ())
        group = self.store.groups.get(group_id)
        if group is None:
            return DescribedGroup(Errors.NONE, group_id, S.DEAD.value, "", "", ())
        stable = group.state == S.STABLE
        members = tuple(DescribedMember(m.member_id, m.group_instance_id, m.client_id, m.client_host,
                                        m.metadata(group.protocol_name or "") if stable else b"",
                                        m.assignment if stable else b"")
                        for m in group.members.values())
        return DescribedGroup(Errors.NONE, group_id, group.state.value, group.protocol_type or "",
                              group.protocol_name if stable and group.protocol_name else "", members)

    def list_groups(self, request: ListGroupsRequest, respond: Responder) -> None:
        wanted = {state.lower() for state in request.states_filter}
        groups = tuple(ListedGroup(g.group_id, g.protocol_type or "", g.state.value)
                       for g in sorted(self.store.groups.values(), key=lambda g: g.group_id)
                       if not wanted or g.state.value.lower() in wanted)
        error = Errors.COORDINATOR_LOAD_IN_PROGRESS if self.store.loading else Errors.NONE
        respond(ListGroupsResponse(error, groups))

    # -- views -------------------------------------------------------------------------

    def describe(self) -> tuple[HostedGroup, ...]:
        """The live groups of the offsets partitions this broker leads and has loaded, by group id."""
        described = []
        for group_id, group in sorted(self.store.groups.items()):
            partition = self.store.partition_for(group_id)
            if group.state == S.DEAD or partition not in self.store.owned:
                continue
            assignments: dict[str, tuple[TopicPartition, ...]] = {}
            if group.protocol_type == CONSUMER_PROTOCOL_TYPE and group.state == S.STABLE:
                assignments = {m.member_id: decode_assignment(m.assignment).partitions for m in group.members.values()}
            members = tuple(GroupMemberView(m.member_id, m.client_id, m.client_host, m.group_instance_id,
                                            tuple(str(tp) for tp in assignments.get(m.member_id, ())))
                            for m in group.members.values())
            join_timer = group.join_timer if group.state == S.PREPARING_REBALANCE else None
            described.append(HostedGroup(
                group_id, group.state.value, group.generation_id, group.protocol_type or "", group.protocol_name or "",
                self.ctx.broker_id, partition, group.leader_id, members,
                {tp: member_id for member_id, tps in assignments.items() for tp in tps},
                {tp: committed.offset for tp, committed in group.offsets.items()},
                _member_deadlines(group), join_timer.due_ms if join_timer is not None else None,
                join_timer is not None and group.initial_join_remaining_ms is not None))
        return tuple(described)

    # -- delete --------------------------------------------------------------------

    def delete_groups(self, request: DeleteGroupsRequest, respond: Responder) -> None:
        """Delete empty groups with their offsets (Kafka's ``handleDeleteGroups``); each group has its own outcome."""
        results: dict[str, Errors] = {}
        deletable: list[GroupMetadata] = []
        for group_id in request.groups:
            error = self._status(group_id)
            group = self.store.groups.get(group_id) if error is None else None
            if error is not None:
                results[group_id] = error
            elif group is None or group.state == S.DEAD:
                results[group_id] = Errors.GROUP_ID_NOT_FOUND
            elif group.state != S.EMPTY:
                results[group_id] = Errors.NON_EMPTY_GROUP
            else:
                deletable.append(group)

        def answer() -> None:
            if len(results) == len(request.groups):
                respond(DeleteGroupsResponse(tuple((g, results[g]) for g in request.groups)))

        def on_deleted(group: GroupMetadata) -> Callable[[Errors], None]:
            offsets = len(group.offsets)

            def deleted(error: Errors) -> None:
                results[group.group_id] = error
                if error == Errors.NONE:
                    self.ctx.journal.emit(GroupDeleted, group_id=group.group_id, offsets=offsets)
                answer()

            return deleted

        answer()
        for group in deletable:
            # Dead at once, as Kafka's deleteGroup does: joins and commits meanwhile see a removed group.
            group.transition_to(S.DEAD, self.ctx.now_ms)
            self.store.delete_group(group, on_deleted(group))


def _member_deadlines(group: GroupMetadata) -> tuple[MemberDeadline, ...]:
    """The members whose heartbeats keep them in ``group`` (Kafka's heartbeat purgatory), with their deadlines."""
    return tuple(MemberDeadline(member.client_id, member.session_timeout_ms, member.heartbeat_timer.due_ms)
                 for member in group.members.values()
                 if member.heartbeat_timer is not None and not member.is_new
                 and not (member.is_awaiting_join or member.is_awaiting_sync))
