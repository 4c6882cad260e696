"""The coordinator's answers to raw group requests, with Kafka's error codes."""

from __future__ import annotations

from group_helpers import open_cluster

from kafkalab.clients.assignors import Subscription
from kafkalab.errors import Errors
from kafkalab.groups.store import OFFSETS_TOPIC, partition_for_group
from kafkalab.protocol.consumer_protocol import Assignment, encode_assignment, encode_subscription
from kafkalab.protocol.groups import (
    DescribeGroupsRequest,
    FindCoordinatorRequest,
    HeartbeatRequest,
    JoinGroupProtocol,
    JoinGroupRequest,
    LeaveGroupRequest,
    ListGroupsRequest,
    MemberIdentity,
    OffsetCommitPartition,
    OffsetCommitRequest,
    OffsetFetchRequest,
    SyncGroupRequest,
)
from kafkalab.protocol.transactions import TxnOffsetCommitRequest
from kafkalab.protocol.types import TopicPartition

TP = TopicPartition("orders", 0)
PROTOCOLS = (JoinGroupProtocol("range", encode_subscription(Subscription(("orders",)))),)


def _setup(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 2, 3))

    def send(broker_id, request):
        return cluster.wait(cluster.client.send(broker_id, request))

    while True:
        found = send(1, FindCoordinatorRequest("g"))
        if found.error == Errors.NONE:
            return cluster, send, found.node_id
        cluster.run_for(100)


def _join(group_id="g", member_id="", instance=None, session=45_000):
    return JoinGroupRequest(group_id, session, 300_000, member_id, instance, "consumer", PROTOCOLS, client_id="raw")


def test_find_coordinator_names_the_leader_of_the_groups_offsets_partition(clusters):
    cluster, send, coordinator = _setup(clusters)
    view = cluster.snapshot().partition(OFFSETS_TOPIC, partition_for_group("g", 50))
    assert coordinator == view.leader
    assert all(send(b, FindCoordinatorRequest("g")).node_id == coordinator for b in (1, 2, 3))


def test_join_sync_heartbeat_commit_and_leave(clusters):
    cluster, send, coordinator = _setup(clusters)
    first = send(coordinator, _join())
    assert first.error == Errors.MEMBER_ID_REQUIRED and first.member_id.startswith("raw-")
    joined = send(coordinator, _join(member_id=first.member_id))
    assert (joined.error, joined.generation_id, joined.leader, joined.protocol_name) == \
           (Errors.NONE, 1, first.member_id, "range")
    assert [m.member_id for m in joined.members] == [first.member_id]
    member = first.member_id
    assignment = encode_assignment(Assignment((TP,)))
    synced = send(coordinator, SyncGroupRequest("g", 1, member, None, "consumer", "range", ((member, assignment),)))
    assert (synced.error, synced.assignment) == (Errors.NONE, assignment)
    assert send(coordinator, HeartbeatRequest("g", 1, member)).error == Errors.NONE
    assert send(coordinator, HeartbeatRequest("g", 0, member)).error == Errors.ILLEGAL_GENERATION
    assert send(coordinator, HeartbeatRequest("g", 1, "stranger")).error == Errors.UNKNOWN_MEMBER_ID
    committed = send(coordinator, OffsetCommitRequest("g", 1, member, None, {TP: OffsetCommitPartition(7)}))
    assert committed.errors == {TP: Errors.NONE}
    stale = send(coordinator, OffsetCommitRequest("g", 0, member, None, {TP: OffsetCommitPartition(8)}))
    assert stale.errors == {TP: Errors.ILLEGAL_GENERATION}
    unknown = send(coordinator, OffsetCommitRequest("g", 1, member, None,
                                                    {TopicPartition("nope", 0): OffsetCommitPartition(1)}))
    assert unknown.errors == {TopicPartition("nope", 0): Errors.UNKNOWN_TOPIC_OR_PARTITION}
    fetched = send(coordinator, OffsetFetchRequest("g", (TP, TopicPartition("orders", 1))))
    assert {tp: p.offset for tp, p in fetched.partitions.items()} == {TP: 7, TopicPartition("orders", 1): -1}
    described = send(coordinator, DescribeGroupsRequest(("g", "unknown-group"))).groups
    assert (described[0].state, described[0].protocol, described[0].members[0].assignment) == \
           ("Stable", "range", assignment)
    assert described[1].state == "Dead"
    assert [(g.group_id, g.state) for g in send(coordinator, ListGroupsRequest()).groups] == [("g", "Stable")]
    left = send(coordinator, LeaveGroupRequest("g", (MemberIdentity(member),)))
    assert left.members[0][1] == Errors.NONE
    cluster.run_for(100)
    assert send(coordinator, DescribeGroupsRequest(("g",))).groups[0].state == "Empty"


def test_offsets_committed_in_a_transaction_for_a_member_must_come_from_its_current_generation(clusters):
    """KIP-447: a processor's producer sends its consumer's generation and member id, so a member fenced by a
    rebalance cannot commit; validation comes before anything is appended (3.9's ``doTxnCommitOffsets``)."""
    _cluster, send, coordinator = _setup(clusters)
    member = send(coordinator, _join()).member_id
    assert send(coordinator, _join(member_id=member)).generation_id == 1

    def txn_commit(generation: int, member_id: str) -> Errors:
        answer = send(coordinator, TxnOffsetCommitRequest("processor", "g", 4000, 0, {TP: 5}, generation, member_id))
        return answer.errors[TP]

    assert txn_commit(0, member) == Errors.ILLEGAL_GENERATION
    assert txn_commit(1, "stranger") == Errors.UNKNOWN_MEMBER_ID
    assert txn_commit(-1, "stranger") == Errors.UNKNOWN_MEMBER_ID
    # Naming no member is allowed in a transaction even while the group has members (an OffsetCommit is not).
    assert send(coordinator, OffsetCommitRequest("g", -1, "", None, {TP: OffsetCommitPartition(5)})).errors == \
           {TP: Errors.UNKNOWN_MEMBER_ID}
    assert txn_commit(-1, "") == Errors.NONE


def test_requests_to_the_wrong_broker_or_with_a_bad_group_id_are_refused(clusters):
    _cluster, send, coordinator = _setup(clusters)
    other = next(b for b in (1, 2, 3) if b != coordinator)
    assert send(other, _join()).error == Errors.NOT_COORDINATOR
    assert send(coordinator, _join(group_id="")).error == Errors.INVALID_GROUP_ID
    assert send(coordinator, _join(session=1000)).error == Errors.INVALID_SESSION_TIMEOUT  # below 6000
    assert send(coordinator, _join(member_id="made-up")).error == Errors.UNKNOWN_MEMBER_ID
    assert send(coordinator, OffsetCommitRequest("g", 3, "x", None, {TP: OffsetCommitPartition(1)})).errors == \
           {TP: Errors.ILLEGAL_GENERATION}


def test_a_freshly_elected_coordinator_answers_load_in_progress_until_it_has_replayed_the_log(clusters):
    cluster, send, coordinator = _setup(clusters)
    groups = cluster.broker(coordinator).groups
    partition = partition_for_group("g", 50)
    groups.on_partition_role(TopicPartition(OFFSETS_TOPIC, partition), False, -1)
    groups.on_partition_role(TopicPartition(OFFSETS_TOPIC, partition), True, 5)
    answers = []
    groups.join_group(_join(), answers.append)
    groups.heartbeat(HeartbeatRequest("g", 1, "m"), answers.append)
    assert [a.error for a in answers] == [Errors.COORDINATOR_LOAD_IN_PROGRESS, Errors.NONE]
    cluster.run_for(10)
    assert send(coordinator, _join()).error == Errors.MEMBER_ID_REQUIRED


def test_static_members_skip_the_member_id_round_trip(clusters):
    _cluster, send, coordinator = _setup(clusters)
    joined = send(coordinator, _join(instance="app-1"))
    assert joined.error == Errors.NONE and joined.member_id.startswith("app-1-")
