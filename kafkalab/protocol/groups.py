"""Coordinator APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
OffsetFetch, DescribeGroups, ListGroups and DeleteGroups (Kafka's classic group protocol), plus InitProducerId.

Field names follow Kafka's JSON message definitions; ``client_id`` and ``client_host``
stand for what Kafka reads from the request header and the connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.errors import Errors
from kafkalab.protocol.types import Request, TopicPartition

#: JoinGroup's member id of a member that has none yet (``JoinGroupRequest.UNKNOWN_MEMBER_ID``).
UNKNOWN_MEMBER_ID = ""
#: Generation of a consumer outside group management (manual assignment commits).
NO_GENERATION = -1
#: FindCoordinator key type of a consumer group (transactions use 1).
GROUP_KEY_TYPE = 0


@dataclass(frozen=True)
class FindCoordinatorRequest(Request["FindCoordinatorResponse"]):
    key: str
    key_type: int = GROUP_KEY_TYPE


@dataclass(frozen=True)
class FindCoordinatorResponse:
    error: Errors
    node_id: int = -1
    host: str = ""
    port: int = -1
    message: str = ""


@dataclass(frozen=True)
class JoinGroupProtocol:
    """One assignment strategy a member supports, with its subscription bytes for it."""

    name: str
    metadata: bytes


@dataclass(frozen=True)
class JoinGroupRequest(Request["JoinGroupResponse"]):
    group_id: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    member_id: str
    group_instance_id: str | None
    protocol_type: str
    protocols: tuple[JoinGroupProtocol, ...]
    reason: str = ""
    client_id: str = ""
    client_host: str = "/127.0.0.1"
    #: KIP-394 (JoinGroup v4+): a new dynamic member first gets MEMBER_ID_REQUIRED and its id.
    require_known_member_id: bool = True


@dataclass(frozen=True)
class JoinGroupMember:
    member_id: str
    group_instance_id: str | None
    metadata: bytes


@dataclass(frozen=True)
class JoinGroupResponse:
    """Only the leader gets ``members``; everyone gets the generation, protocol and leader id."""

    error: Errors
    generation_id: int = NO_GENERATION
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader: str = ""
    member_id: str = UNKNOWN_MEMBER_ID
    members: tuple[JoinGroupMember, ...] = ()
    skip_assignment: bool = False


@dataclass(frozen=True)
class SyncGroupRequest(Request["SyncGroupResponse"]):
    """The leader sends every member's assignment; followers send none."""

    group_id: str
    generation_id: int
    member_id: str
    group_instance_id: str | None
    protocol_type: str | None
    protocol_name: str | None
    assignments: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class SyncGroupResponse:
    error: Errors
    protocol_type: str | None = None
    protocol_name: str | None = None
    assignment: bytes = b""


@dataclass(frozen=True)
class HeartbeatRequest(Request["HeartbeatResponse"]):
    group_id: str
    generation_id: int
    member_id: str
    group_instance_id: str | None = None


@dataclass(frozen=True)
class HeartbeatResponse:
    error: Errors


@dataclass(frozen=True)
class MemberIdentity:
    """A member to remove: by member id, or (admin only) by group instance id with an unknown member id."""

    member_id: str
    group_instance_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class LeaveGroupRequest(Request["LeaveGroupResponse"]):
    group_id: str
    members: tuple[MemberIdentity, ...]


@dataclass(frozen=True)
class LeaveGroupResponse:
    error: Errors
    members: tuple[tuple[MemberIdentity, Errors], ...] = ()


@dataclass(frozen=True)
class OffsetCommitPartition:
    offset: int
    leader_epoch: int = -1
    metadata: str = ""


@dataclass(frozen=True)
class OffsetCommitRequest(Request["OffsetCommitResponse"]):
    """``generation_id=-1`` with an unknown member id: a commit from outside group management."""

    group_id: str
    generation_id: int
    member_id: str
    group_instance_id: str | None
    offsets: dict[TopicPartition, OffsetCommitPartition]
    client_id: str = ""


@dataclass(frozen=True)
class OffsetCommitResponse:
    errors: dict[TopicPartition, Errors]


@dataclass(frozen=True)
class OffsetFetchRequest(Request["OffsetFetchResponse"]):
    """``partitions=None`` asks for every partition the group has committed."""

    group_id: str
    partitions: tuple[TopicPartition, ...] | None
    require_stable: bool = False


@dataclass(frozen=True)
class OffsetFetchPartition:
    """A committed offset; -1 when the group has none for the partition."""

    offset: int
    leader_epoch: int = -1
    metadata: str = ""
    error: Errors = Errors.NONE


@dataclass(frozen=True)
class OffsetFetchResponse:
    error: Errors
    partitions: dict[TopicPartition, OffsetFetchPartition]


@dataclass(frozen=True)
class DescribeGroupsRequest(Request["DescribeGroupsResponse"]):
    groups: tuple[str, ...]


@dataclass(frozen=True)
class DescribedMember:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    metadata: bytes
    assignment: bytes


@dataclass(frozen=True)
class DescribedGroup:
    """``state`` is Kafka's name: Empty, PreparingRebalance, CompletingRebalance, Stable or Dead."""

    error: Errors
    group_id: str
    state: str
    protocol_type: str
    protocol: str
    members: tuple[DescribedMember, ...]


@dataclass(frozen=True)
class DescribeGroupsResponse:
    groups: tuple[DescribedGroup, ...]


@dataclass(frozen=True)
class ListGroupsRequest(Request["ListGroupsResponse"]):
    states_filter: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListedGroup:
    group_id: str
    protocol_type: str
    state: str


@dataclass(frozen=True)
class ListGroupsResponse:
    error: Errors
    groups: tuple[ListedGroup, ...]


@dataclass(frozen=True)
class DeleteGroupsRequest(Request["DeleteGroupsResponse"]):
    groups: tuple[str, ...]


@dataclass(frozen=True)
class DeleteGroupsResponse:
    """Each group's outcome: NONE, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, NOT_COORDINATOR ..."""

    results: tuple[tuple[str, Errors], ...]


@dataclass(frozen=True)
class InitProducerIdRequest(Request["InitProducerIdResponse"]):
    """An idempotent producer asks any broker for a producer id (``transactional_id=None``)."""

    transactional_id: str | None = None
    transaction_timeout_ms: int = -1
    producer_id: int = -1
    producer_epoch: int = -1


@dataclass(frozen=True)
class InitProducerIdResponse:
    error: Errors
    producer_id: int = -1
    producer_epoch: int = -1
