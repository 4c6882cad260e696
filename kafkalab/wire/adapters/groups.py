"""The group coordinator's APIs and InitProducerId, mapped onto the broker's own coordinator.

A network consumer's JoinGroup carries its ``client.id`` and address exactly as an
in-process consumer's does, so its group, members and commits appear in every view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kafkalab.errors import Errors
from kafkalab.protocol.groups import (
    DeleteGroupsRequest,
    DeleteGroupsResponse,
    DescribeGroupsRequest,
    DescribeGroupsResponse,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
    HeartbeatRequest,
    InitProducerIdRequest,
    InitProducerIdResponse,
    JoinGroupProtocol,
    JoinGroupRequest,
    JoinGroupResponse,
    LeaveGroupRequest,
    LeaveGroupResponse,
    ListGroupsRequest,
    ListGroupsResponse,
    MemberIdentity,
    OffsetCommitPartition,
    OffsetCommitRequest,
    OffsetCommitResponse,
    OffsetFetchRequest,
    OffsetFetchResponse,
    SyncGroupRequest,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.wire.adapters.base import Plan, RequestContext, Tree, adapts, answer, by_topic
from kafkalab.wire.apis import (
    DELETE_GROUPS,
    DESCRIBE_GROUPS,
    FIND_COORDINATOR,
    HEARTBEAT,
    INIT_PRODUCER_ID,
    JOIN_GROUP,
    LEAVE_GROUP,
    LIST_GROUPS,
    OFFSET_COMMIT,
    OFFSET_FETCH,
    SYNC_GROUP,
)
from kafkalab.wire.build import millis

#: FindCoordinator v4 (KIP-699) looks up several keys at once.
BATCHED_FIND_COORDINATOR_VERSION = 4
#: OffsetFetch v8 (KIP-709) fetches several groups at once.
BATCHED_OFFSET_FETCH_VERSION = 8
#: OffsetFetch v2 added a top-level error; before it the group's error is on every partition.
OFFSET_FETCH_TOP_LEVEL_ERROR_VERSION = 2
#: JoinGroup v4 (KIP-394): a new dynamic member must rejoin with the member id it was given.
JOIN_REQUIRES_MEMBER_ID_VERSION = 4
#: JoinGroup v1 added the rebalance timeout; v0 members rebalance within their session timeout.
JOIN_REBALANCE_TIMEOUT_VERSION = 1
#: LeaveGroup v3 (KIP-345) leaves several members at once.
BATCHED_LEAVE_VERSION = 3
#: What a classic group's type is called since KIP-848 (ListGroups v5).
CLASSIC_GROUP_TYPE = "classic"

def _single(request: Any, to_tree: Any) -> Plan:
    return Plan((request,), lambda results: to_tree(results[0]))


@adapts(FIND_COORDINATOR)
def find_coordinator(body: Any, ctx: RequestContext) -> Plan:
    """The coordinator of each key: one lookup before v4, a batch of them from v4."""
    batched = ctx.api_version >= BATCHED_FIND_COORDINATOR_VERSION
    keys = tuple(body.coordinator_keys) if batched else (body.key,)
    key_type = int(getattr(body, "key_type", 0))
    calls = tuple(FindCoordinatorRequest(key, key_type) for key in keys)

    def entry(response: FindCoordinatorResponse) -> dict[str, Any]:
        return {"error_code": response.error, "error_message": response.message or None,
                "node_id": response.node_id, "host": response.host, "port": response.port}

    def finish(results: Sequence[Any]) -> Tree:
        if batched:
            return {"coordinators": [{"key": key, **entry(r)} for key, r in zip(keys, results, strict=True)]}
        return entry(results[0])

    return Plan(calls, finish)


@adapts(JOIN_GROUP)
def join_group(body: Any, ctx: RequestContext) -> Plan:
    session_ms = millis(body.session_timeout)
    rebalance_ms = millis(body.rebalance_timeout) if ctx.api_version >= JOIN_REBALANCE_TIMEOUT_VERSION else session_ms
    request = JoinGroupRequest(body.group_id, session_ms, rebalance_ms, body.member_id,
                               getattr(body, "group_instance_id", None), body.protocol_type,
                               tuple(JoinGroupProtocol(p.name, bytes(p.metadata)) for p in body.protocols),
                               getattr(body, "reason", None) or "", ctx.client_id, ctx.client_host,
                               require_known_member_id=ctx.api_version >= JOIN_REQUIRES_MEMBER_ID_VERSION)

    def tree(response: JoinGroupResponse) -> Tree:
        return {"error_code": response.error, "generation_id": response.generation_id,
                "protocol_type": response.protocol_type, "protocol_name": response.protocol_name,
                "leader": response.leader, "skip_assignment": response.skip_assignment,
                "member_id": response.member_id,
                "members": [{"member_id": m.member_id, "group_instance_id": m.group_instance_id,
                             "metadata": m.metadata} for m in response.members]}

    return _single(request, tree)


@adapts(SYNC_GROUP)
def sync_group(body: Any, ctx: RequestContext) -> Plan:
    request = SyncGroupRequest(body.group_id, body.generation_id, body.member_id,
                               getattr(body, "group_instance_id", None), getattr(body, "protocol_type", None),
                               getattr(body, "protocol_name", None),
                               tuple((a.member_id, bytes(a.assignment)) for a in body.assignments))
    return _single(request, lambda r: {"error_code": r.error, "protocol_type": r.protocol_type,
                                       "protocol_name": r.protocol_name, "assignment": r.assignment})


@adapts(HEARTBEAT)
def heartbeat(body: Any, ctx: RequestContext) -> Plan:
    request = HeartbeatRequest(body.group_id, body.generation_id, body.member_id,
                               getattr(body, "group_instance_id", None))
    return _single(request, lambda r: {"error_code": r.error})


@adapts(LEAVE_GROUP)
def leave_group(body: Any, ctx: RequestContext) -> Plan:
    """One member leaving (before v3) or several (KIP-345 batch leave)."""
    batched = ctx.api_version >= BATCHED_LEAVE_VERSION
    members = tuple(MemberIdentity(m.member_id, m.group_instance_id, getattr(m, "reason", None) or "")
                    for m in body.members) if batched else (MemberIdentity(body.member_id),)

    def tree(response: LeaveGroupResponse) -> Tree:
        if not batched:
            member_error = response.members[0][1] if response.members else Errors.NONE
            return {"error_code": response.error if response.error != Errors.NONE else member_error}
        return {"error_code": response.error,
                "members": [{"member_id": m.member_id, "group_instance_id": m.group_instance_id, "error_code": e}
                            for m, e in response.members]}

    return _single(LeaveGroupRequest(body.group_id, members), tree)


@adapts(OFFSET_COMMIT)
def offset_commit(body: Any, ctx: RequestContext) -> Plan:
    offsets = {TopicPartition(topic.name, p.partition_index):
               OffsetCommitPartition(p.committed_offset, getattr(p, "committed_leader_epoch", -1),
                                     p.committed_metadata or "")
               for topic in body.topics for p in topic.partitions}
    request = OffsetCommitRequest(body.group_id, body.generation_id_or_member_epoch, body.member_id,
                                  getattr(body, "group_instance_id", None), offsets, ctx.client_id)

    def tree(response: OffsetCommitResponse) -> Tree:
        return {"topics": by_topic(((tp, response.errors[tp]) for tp in offsets),
                                   lambda partition, error: {"partition_index": partition, "error_code": error},
                                   lambda topic: {"name": topic})}

    return _single(request, tree)


def _offset_fetch_request(group_id: str, topics: Any, require_stable: bool) -> OffsetFetchRequest:
    partitions = None if topics is None else tuple(
        TopicPartition(topic.name, p) for topic in topics for p in topic.partition_indexes)
    return OffsetFetchRequest(group_id, partitions, require_stable)


def _offset_topics(response: OffsetFetchResponse, partition_error: Errors) -> list[dict[str, Any]]:
    return by_topic(response.partitions.items(),
                    lambda partition, c: {"partition_index": partition, "committed_offset": c.offset,
                                          "committed_leader_epoch": c.leader_epoch, "metadata": c.metadata,
                                          "error_code": c.error if c.error != Errors.NONE else partition_error},
                    lambda topic: {"name": topic})


@adapts(OFFSET_FETCH)
def offset_fetch(body: Any, ctx: RequestContext) -> Plan:
    """A group's committed offsets (v1-v7), or several groups' (v8+)."""
    require_stable = bool(getattr(body, "require_stable", False))
    if ctx.api_version >= BATCHED_OFFSET_FETCH_VERSION:
        calls = tuple(_offset_fetch_request(g.group_id, g.topics, require_stable) for g in body.groups)
        return Plan(calls, lambda results: {"groups": [
            {"group_id": call.group_id, "error_code": r.error, "topics": _offset_topics(r, Errors.NONE)}
            for call, r in zip(calls, results, strict=True)]})
    request = _offset_fetch_request(body.group_id, body.topics, require_stable)

    def tree(response: OffsetFetchResponse) -> Tree:
        if ctx.api_version < OFFSET_FETCH_TOP_LEVEL_ERROR_VERSION:
            requested = request.partitions or ()
            partitions = {tp: response.partitions.get(tp) for tp in requested}
            return {"topics": by_topic(partitions.items(),
                                       lambda partition, c: {"partition_index": partition,
                                                             "committed_offset": c.offset if c else -1,
                                                             "metadata": c.metadata if c else "",
                                                             "error_code": response.error},
                                       lambda topic: {"name": topic})}
        return {"error_code": response.error, "topics": _offset_topics(response, Errors.NONE)}

    return _single(request, tree)


@adapts(DESCRIBE_GROUPS)
def describe_groups(body: Any, ctx: RequestContext) -> Plan:
    def tree(response: DescribeGroupsResponse) -> Tree:
        return {"groups": [{"error_code": g.error, "group_id": g.group_id, "group_state": g.state,
                            "protocol_type": g.protocol_type, "protocol_data": g.protocol,
                            "members": [{"member_id": m.member_id, "group_instance_id": m.group_instance_id,
                                         "client_id": m.client_id, "client_host": m.client_host,
                                         "member_metadata": m.metadata, "member_assignment": m.assignment}
                                        for m in g.members]}
                           for g in response.groups]}

    return _single(DescribeGroupsRequest(tuple(body.groups)), tree)


@adapts(LIST_GROUPS)
def list_groups(body: Any, ctx: RequestContext) -> Plan:
    """The groups this broker coordinates; every group here is a classic one (KIP-848's type filter)."""
    types = {t.lower() for t in getattr(body, "types_filter", ())}
    if types and CLASSIC_GROUP_TYPE not in types:
        return answer({"error_code": Errors.NONE, "groups": []})

    def tree(response: ListGroupsResponse) -> Tree:
        return {"error_code": response.error,
                "groups": [{"group_id": g.group_id, "protocol_type": g.protocol_type, "group_state": g.state,
                            "group_type": CLASSIC_GROUP_TYPE} for g in response.groups]}

    return _single(ListGroupsRequest(tuple(getattr(body, "states_filter", ()))), tree)


@adapts(DELETE_GROUPS)
def delete_groups(body: Any, ctx: RequestContext) -> Plan:
    def tree(response: DeleteGroupsResponse) -> Tree:
        return {"results": [{"group_id": group_id, "error_code": error} for group_id, error in response.results]}

    return _single(DeleteGroupsRequest(tuple(body.groups_names)), tree)


@adapts(INIT_PRODUCER_ID)
def init_producer_id(body: Any, ctx: RequestContext) -> Plan:
    """An idempotent producer's id, or a transactional producer's id and next epoch from its coordinator."""
    request = InitProducerIdRequest(body.transactional_id, millis(body.transaction_timeout),
                                    getattr(body, "producer_id", -1), getattr(body, "producer_epoch", -1))

    def tree(response: InitProducerIdResponse) -> Tree:
        return {"error_code": response.error, "producer_id": response.producer_id,
                "producer_epoch": response.producer_epoch}

    return _single(request, tree)
