"""StickyAssignor cases ported from Kafka's AbstractStickyAssignorTest and StickyAssignorTest (non-rack-aware).

``owned``/``generation`` play the role of the StickyAssignor user data
(``buildSubscriptionV2Above(topics, partitions, generation)`` in Kafka's tests).
Members are listed in the order Kafka's tests ``put`` them into their HashMap.
"""

from __future__ import annotations

import pytest
from assignor_support import assert_valid, owned_from, sub, tp, tps

from kafkalab.clients.assignors import get_assignor

assign = get_assignor("sticky").assign

T12 = ("topic1", "topic2")
T123 = ("topic", "topic2", "topic3")
ALL3 = ("t1", "t2", "t3")

CASES = [
    ("testOneConsumerNoTopic", {}, {"consumer": sub()}, {"consumer": ""}),
    ("testOneConsumerNonexistentTopic", {"topic": 0}, {"consumer": sub("topic")}, {"consumer": ""}),
    ("testOneConsumerOneTopic", {"topic": 3}, {"consumer": sub("topic")}, {"consumer": "topic-0, topic-1, topic-2"}),
    ("testOnlyAssignsPartitionsFromSubscribedTopics", {"topic": 2},
     {"consumer": sub("topic", owned="topic-0, topic-1, other-0, other-1", generation=1)},
     {"consumer": "topic-0, topic-1"}),
    ("testOneConsumerMultipleTopics", {"topic1": 1, "topic2": 2}, {"consumer": sub(*T12)},
     {"consumer": "topic1-0, topic2-0, topic2-1"}),
    ("testTwoConsumersOneTopicTwoPartitions", {"topic": 2},
     {"consumer1": sub("topic"), "consumer2": sub("topic")}, {"consumer1": "topic-0", "consumer2": "topic-1"}),
    ("testMultipleConsumersMixedTopicSubscriptions", {"topic1": 3, "topic2": 2},
     {"consumer1": sub("topic1"), "consumer2": sub(*T12), "consumer3": sub("topic1")},
     {"consumer1": "topic1-0, topic1-2", "consumer2": "topic2-0, topic2-1", "consumer3": "topic1-1"}),
    ("testTwoConsumersTwoTopicsSixPartitions", {"topic1": 3, "topic2": 3},
     {"consumer1": sub(*T12), "consumer2": sub(*T12)},
     {"consumer1": "topic1-0, topic1-2, topic2-1", "consumer2": "topic1-1, topic2-0, topic2-2"}),
    ("testConsumerOwningMinQuotaExpectedMaxQuota", {"topic1": 2, "topic2": 3},
     {"consumer1": sub(*T12, owned="topic1-0, topic2-1", generation=1),
      "consumer2": sub(*T12, owned="topic1-1, topic2-2", generation=1)},
     {"consumer1": "topic1-0, topic2-1, topic2-0", "consumer2": "topic1-1, topic2-2"}),
    ("testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers", {"topic1": 2, "topic2": 2},
     {"consumer1": sub(*T12, owned="topic1-0, topic2-0", generation=1),
      "consumer2": sub(*T12, owned="topic1-1, topic2-1", generation=1),
      "consumer3": sub(*T12, generation=1)},
     {"consumer1": "topic1-0", "consumer2": "topic1-1, topic2-1", "consumer3": "topic2-0"}),
    ("testAllConsumersAreUnderMinQuota", {"topic1": 2, "topic2": 3},
     {"consumer1": sub(*T12, owned="topic1-0", generation=1), "consumer2": sub(*T12, owned="topic1-1", generation=1),
      "consumer3": sub(*T12, generation=1)},
     {"consumer1": "topic1-0, topic2-1", "consumer2": "topic1-1, topic2-2", "consumer3": "topic2-0"}),
    ("testAllConsumersReachExpectedQuotaAndAreConsideredFilled", {"topic": 4},
     {"consumer1": sub("topic", owned="topic-0, topic-1", generation=1),
      "consumer2": sub("topic", owned="topic-2", generation=1), "consumer3": sub("topic", generation=1)},
     {"consumer1": "topic-0, topic-1", "consumer2": "topic-2", "consumer3": "topic-3"}),
    ("testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration", {"topic": 3, "topic2": 3},
     {"consumer1": sub("topic", "topic2", owned="topic-0, topic-2, topic2-1", generation=10),
      "consumer2": sub("topic", "topic2", owned="topic-0, topic-2, topic2-1", generation=9)},
     {"consumer1": "topic-0, topic-2, topic2-1", "consumer2": "topic-1, topic2-0, topic2-2"}),
    ("testOwnedPartitionsAreInvalidatedForConsumerWithNoGeneration", {"topic": 3, "topic2": 3},
     {"consumer1": sub("topic", "topic2", owned="topic-0, topic-2, topic2-1", generation=10),
      "consumer2": sub("topic", "topic2", owned="topic-0, topic-2, topic2-1", generation=-1)},
     {"consumer1": "topic-0, topic-2, topic2-1", "consumer2": "topic-1, topic2-0, topic2-2"}),
    ("testOwnedPartitionsAreInvalidatedForConsumerWithMultipleGeneration", {"topic": 3, "topic2": 3},
     {"consumer1": sub("topic", "topic2", owned="topic-0, topic2-1, topic-1", generation=10),
      "consumer2": sub("topic", "topic2", owned="topic-0, topic2-1, topic2-2", generation=8)},
     {"consumer1": "topic-0, topic2-1, topic-1", "consumer2": "topic-2, topic2-2, topic2-0"}),
    ("testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithEqualPartitionsPerConsumer",
     {"topic": 3},
     {"consumer1": sub("topic", owned="topic-0, topic-1", generation=1),
      "consumer2": sub("topic", owned="topic-0, topic-2", generation=1), "consumer3": sub("topic", generation=1)},
     {"consumer1": "topic-1", "consumer2": "topic-2", "consumer3": "topic-0"}),
    ("testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithUnequalPartitionsPerConsumer",
     {"topic": 4},
     {"consumer1": sub("topic", owned="topic-0, topic-1", generation=1),
      "consumer2": sub("topic", owned="topic-0, topic-2", generation=1), "consumer3": sub("topic", generation=1)},
     {"consumer1": "topic-1, topic-3", "consumer2": "topic-2", "consumer3": "topic-0"}),
    ("testEnsurePartitionsAssignedToHighestGeneration", {"topic": 3, "topic2": 3, "topic3": 3},
     {"consumer1": sub(*T123, owned="topic-0, topic2-0, topic3-0", generation=10),
      "consumer2": sub(*T123, owned="topic-1, topic2-1, topic3-1", generation=9),
      "consumer3": sub(*T123, owned="topic2-1, topic3-0, topic3-2", generation=8)},
     {"consumer1": "topic-0, topic2-0, topic3-0", "consumer2": "topic-1, topic2-1, topic3-1",
      "consumer3": "topic-2, topic2-2, topic3-2"}),
    ("testAssignorWithOldVersionSubscriptions", {"topic1": 3},
     {"consumer1": sub("topic1", owned="topic1-0", generation=1), "consumer2": sub("topic1", owned="topic1-1", generation=1),
      "consumer3": sub("topic1", generation=1)},
     {"consumer1": "topic1-0", "consumer2": "topic1-1", "consumer3": "topic1-2"}),
    ("testRackAwareAssignmentWithUniformSubscription (non-rack-aware)", {"t1": 6, "t2": 7, "t3": 2},
     {"consumer0": sub(*ALL3), "consumer1": sub(*ALL3), "consumer2": sub(*ALL3)},
     {"consumer0": "t1-0, t1-3, t2-0, t2-3, t2-6", "consumer1": "t1-1, t1-4, t2-1, t2-4, t3-0",
      "consumer2": "t1-2, t1-5, t2-2, t2-5, t3-1"}),
    ("testRackAwareAssignmentWithUniformSubscription (non-rack-aware, owning that assignment)", {"t1": 6, "t2": 7, "t3": 2},
     {"consumer0": sub(*ALL3, owned="t1-0, t1-3, t2-0, t2-3, t2-6"),
      "consumer1": sub(*ALL3, owned="t1-1, t1-4, t2-1, t2-4, t3-0"),
      "consumer2": sub(*ALL3, owned="t1-2, t1-5, t2-2, t2-5, t3-1")},
     {"consumer0": "t1-0, t1-3, t2-0, t2-3, t2-6", "consumer1": "t1-1, t1-4, t2-1, t2-4, t3-0",
      "consumer2": "t1-2, t1-5, t2-2, t2-5, t3-1"}),
    ("testRackAwareAssignmentWithNonEqualSubscription (non-rack-aware)", {"t1": 6, "t2": 7, "t3": 2},
     {"consumer0": sub(*ALL3), "consumer1": sub(*ALL3), "consumer2": sub("t1", "t3")},
     {"consumer0": "t1-5, t2-0, t2-2, t2-4, t2-6", "consumer1": "t1-3, t2-1, t2-3, t2-5, t3-0",
      "consumer2": "t1-0, t1-1, t1-2, t1-4, t3-1"}),
]


@pytest.mark.parametrize(("partitions", "subscriptions", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_kafka_sticky_cases(partitions, subscriptions, expected):
    assignment = assign(partitions, subscriptions)
    assert assignment == {member: tps(spec) for member, spec in expected.items()}
    assert_valid(assignment, partitions, subscriptions)


def test_add_remove_consumer_one_topic():
    """testAddRemoveConsumerOneTopic: a joining member takes one partition; when the first leaves it takes all."""
    partitions = {"topic": 3}
    subscriptions = {"consumer1": sub("topic")}
    first = assign(partitions, subscriptions)
    assert first == {"consumer1": tps("topic-0, topic-1, topic-2")}
    subscriptions = {"consumer1": sub("topic", owned=first["consumer1"], generation=1),
                     "consumer2": sub("topic", generation=1)}
    second = assign(partitions, subscriptions)
    assert second == {"consumer1": tps("topic-0, topic-1"), "consumer2": tps("topic-2")}
    third = assign(partitions, {"consumer2": sub("topic", owned=second["consumer2"], generation=1)})
    assert third == {"consumer2": tps("topic-0, topic-1, topic-2")}


def test_add_remove_two_consumers_two_topics():
    """testAddRemoveTwoConsumersTwoTopics."""
    partitions = {"topic1": 3, "topic2": 4}
    subscriptions = {"consumer1": sub(*T12), "consumer2": sub(*T12)}
    first = assign(partitions, subscriptions)
    assert first == {"consumer1": tps("topic1-0, topic1-2, topic2-1, topic2-3"),
                     "consumer2": tps("topic1-1, topic2-0, topic2-2")}
    subscriptions = {**owned_from(first, subscriptions, 1), "consumer3": sub(*T12, generation=1),
                     "consumer4": sub(*T12, generation=1)}
    second = assign(partitions, subscriptions)
    assert second == {"consumer1": tps("topic1-0, topic2-1"), "consumer2": tps("topic2-0, topic1-1"),
                      "consumer3": tps("topic1-2, topic2-3"), "consumer4": tps("topic2-2")}
    subscriptions = owned_from(second, {m: subscriptions[m] for m in ("consumer3", "consumer4")}, 1)
    third = assign(partitions, subscriptions)
    assert third == {"consumer3": tps("topic1-2, topic2-3, topic1-0, topic2-1"),
                     "consumer4": tps("topic2-2, topic1-1, topic2-0")}


def test_topic_balance_after_reassignment():
    """testTopicBalanceAfterReassignment: each member keeps an even share of every topic as the group grows and shrinks."""
    partitions = {"topic1": 12, "topic2": 12}
    subscriptions = {"consumer1": sub(*T12)}
    for members, per_topic in ((("consumer1",), 12), (("consumer1", "consumer2"), 6),
                               (("consumer1", "consumer2", "consumer3", "consumer4"), 3), (("consumer3", "consumer4"), 6)):
        subscriptions = {m: subscriptions.get(m, sub(*T12, generation=1)) for m in members}
        assignment = assign(partitions, subscriptions)
        assert_valid(assignment, partitions, subscriptions)
        for partitions_of_member in assignment.values():
            assert sum(p.topic == "topic1" for p in partitions_of_member) == per_topic
            assert sum(p.topic == "topic2" for p in partitions_of_member) == per_topic
        subscriptions = owned_from(assignment, subscriptions, 1)


def test_stickiness_when_the_leader_leaves():
    """testStickiness: after consumer1 leaves, every remaining member keeps the partition it had."""
    partitions = {"topic1": 3}
    subscriptions = {f"consumer{i}": sub("topic1") for i in (1, 2, 3, 4)}
    first = assign(partitions, subscriptions)
    assert all(len(p) <= 1 for p in first.values())
    rest = owned_from(first, {m: s for m, s in subscriptions.items() if m != "consumer1"}, 1)
    second = assign(partitions, rest)
    for member, partitions_of_member in second.items():
        assert len(partitions_of_member) == 1
        assert set(first[member]) <= set(partitions_of_member)


def test_no_reassignment_on_current_members():
    """testNoReassignmentOnCurrentMembers: older generations keep theirs; the new member gets the leftovers."""
    partitions = {"topic": 3, "topic1": 3, "topic2": 3, "topic3": 3}
    topics = ("topic", "topic2", "topic3", "topic1")
    subscriptions = {"consumer1": sub(*topics),
                     "consumer2": sub(*topics, owned="topic-0, topic2-0, topic1-0", generation=9),
                     "consumer3": sub(*topics, owned="topic3-2, topic2-2, topic1-1", generation=8),
                     "consumer4": sub(*topics, owned="topic3-1, topic-1, topic-2", generation=7)}
    assignment = assign(partitions, subscriptions)
    assert assignment["consumer1"] == tps("topic1-2, topic2-1, topic3-0")
    assert_valid(assignment, partitions, subscriptions)


@pytest.mark.parametrize("all_equal", [True, False], ids=["same subscriptions", "different subscriptions"])
def test_assignment_with_multiple_generations_1(all_equal):
    """StickyAssignorTest.testAssignmentWithMultipleGenerations1."""
    partitions = {"topic": 6, "topic2": 6}
    both = ("topic", "topic2")
    c2_topics = both if all_equal else ("topic",)
    r1 = assign(partitions, {"consumer1": sub(*both), "consumer2": sub(*c2_topics), "consumer3": sub(*both)})
    assert [len(r1[m]) for m in ("consumer1", "consumer2", "consumer3")] == [4, 4, 4]
    r2 = assign(partitions, {"consumer1": sub(*both, owned=r1["consumer1"], generation=1),
                             "consumer2": sub(*c2_topics, owned=r1["consumer2"], generation=1)})
    assert len(r2["consumer1"]) == len(r2["consumer2"]) == 6
    if all_equal:
        assert set(r1["consumer1"]) <= set(r2["consumer1"])
    assert set(r1["consumer2"]) <= set(r2["consumer2"])
    assert set(r2["consumer2"]) & set(r1["consumer3"])
    subscriptions = {"consumer2": sub(*c2_topics, owned=r2["consumer2"], generation=2),
                     "consumer3": sub(*both, owned=r1["consumer3"], generation=1)}
    r3 = assign(partitions, subscriptions)
    assert len(r3["consumer2"]) == len(r3["consumer3"]) == 6
    assert_valid(r3, partitions, subscriptions)


@pytest.mark.parametrize("all_equal", [True, False], ids=["same subscriptions", "different subscriptions"])
def test_assignment_with_conflicting_previous_generations(all_equal):
    """StickyAssignorTest.testAssignmentWithConflictingPreviousGenerations: generation 2 claims beat generation 1."""
    partitions = {"topic": 4, "topic2": 4, "topic3": 4}
    c1_topics = T123 if all_equal else ("topic",)
    c2_topics = T123 if all_equal else ("topic", "topic2")
    c1_owned = "topic-0, topic-1, topic-2, topic2-2, topic2-3, topic3-0" if all_equal else "topic-0, topic-1, topic-2, topic-3"
    c2_owned = tps("topic-0, topic-1, topic2-0, topic2-1, topic2-2, topic2-3")
    c3_owned = tps("topic-2, topic-3, topic3-0, topic3-1, topic3-2, topic3-3")
    subscriptions = {"consumer1": sub(*c1_topics, owned=c1_owned, generation=1),
                     "consumer2": sub(*c2_topics, owned=c2_owned, generation=2),
                     "consumer3": sub(*T123, owned=c3_owned, generation=2)}
    assignment = assign(partitions, subscriptions)
    assert [len(assignment[m]) for m in subscriptions] == [4, 4, 4]
    assert set(assignment["consumer2"]) <= set(c2_owned)
    assert set(assignment["consumer3"]) <= set(c3_owned)
    assert_valid(assignment, partitions, subscriptions)


def test_assignment_updated_for_deleted_topic():
    """testAssignmentUpdatedForDeletedTopic: a subscribed topic missing from metadata is skipped."""
    assignment = assign({"topic1": 1, "topic3": 100}, {"consumer": sub("topic1", "topic2", "topic3")})
    assert len(assignment["consumer"]) == 101


def test_no_exception_when_only_subscribed_topic_deleted():
    """testNoExceptionThrownWhenOnlySubscribedTopicDeleted."""
    owned = assign({"topic": 3}, {"consumer": sub("topic")})["consumer"]
    assert assign({}, {"consumer": sub("topic", owned=owned, generation=1)}) == {"consumer": []}


@pytest.mark.parametrize("generations", [(1, 2, 3), (1, 3, 2), (2, 1, 3), (2, 3, 1), (3, 1, 2), (3, 2, 1)])
def test_subscription_not_equal_and_same_partition_claimed_in_three_generations(generations):
    """testSubscriptionNotEqualAndAssignSamePartitionWith3Generation: no partition is handed out twice."""
    partitions = {"topic": 6, "topic1": 1}
    subscriptions = {"consumer1": sub("topic", owned="topic-0, topic-2", generation=generations[0]),
                     "consumer2": sub("topic", owned="topic-1, topic-2, topic-3", generation=generations[1]),
                     "consumer3": sub("topic", owned="topic-2, topic-4, topic-5", generation=generations[2]),
                     "consumer4": sub("topic1", owned="topic1-0", generation=2)}
    assignment = assign(partitions, subscriptions)
    assert_valid(assignment, partitions, subscriptions)
    assert all(1 <= len(p) <= 2 for p in assignment.values())


def test_poor_round_robin_scenario_is_balanced():
    """testPoorRoundRobinAssignmentScenario: where round robin leaves consumer3 empty, sticky gives everyone two."""
    partitions = {f"topic{i}": (i % 2) + 1 for i in range(1, 6)}
    all5 = tuple(partitions)
    subscriptions = {"consumer1": sub(*all5), "consumer2": sub("topic1", "topic3", "topic5"),
                     "consumer3": sub("topic1", "topic3", "topic5"), "consumer4": sub(*all5)}
    assignment = assign(partitions, subscriptions)
    assert_valid(assignment, partitions, subscriptions)
    assert [len(p) for p in assignment.values()] == [2, 2, 2, 2]
    assert get_assignor("roundrobin").assign(partitions, subscriptions)["consumer3"] == []


def test_move_existing_assignments():
    """testMoveExistingAssignments: the general algorithm rebalances six single-partition topics."""
    partitions = {f"topic{i}": 1 for i in range(1, 7)}
    subscriptions = {"consumer1": sub("topic1", "topic2", owned=[tp("topic1", 0)], generation=1),
                     "consumer2": sub("topic1", "topic2", "topic3", "topic4", owned="topic2-0, topic3-0", generation=1),
                     "consumer3": sub("topic2", "topic3", "topic4", "topic5", "topic6",
                                      owned="topic4-0, topic5-0, topic6-0", generation=1)}
    assignment = assign(partitions, subscriptions)
    assert_valid(assignment, partitions, subscriptions)
    assert sorted(len(p) for p in assignment.values()) == [1, 2, 3]
    assert assignment["consumer3"] == tps("topic4-0, topic5-0, topic6-0")


def test_reassignment_after_one_consumer_leaves():
    """testReassignmentAfterOneConsumerLeaves: members keep everything they had; only the leaver's partitions move."""
    partitions = {f"t{i:02d}": i for i in range(1, 20)}
    subscriptions = {f"c{i:02d}": sub(*[f"t{j:02d}" for j in range(1, i + 1)]) for i in range(1, 20)}
    first = assign(partitions, subscriptions)
    assert_valid(first, partitions, subscriptions)
    rest = owned_from(first, {m: s for m, s in subscriptions.items() if m != "c10"}, 1)
    second = assign(partitions, rest)
    assert_valid(second, partitions, rest)
    for member in rest:
        assert set(first[member]) <= set(second[member])


def test_reassignment_after_one_consumer_added():
    """testReassignmentAfterOneConsumerAdded: 20 partitions over 9 then 10 members stay balanced."""
    partitions = {"topic": 20}
    subscriptions = {f"c{i:02d}": sub("topic") for i in range(1, 10)}
    first = assign(partitions, subscriptions)
    subscriptions = {**owned_from(first, subscriptions, 1), "c10": sub("topic")}
    second = assign(partitions, subscriptions)
    assert_valid(second, partitions, subscriptions)
    assert [len(p) for p in second.values()] == [2] * 10


# Outputs of Kafka's StickyAssignor run on a JVM for cases where Java specifics decide the result.
def test_java_hashmap_order_decides_who_keeps_the_extra_partition():
    """7 partitions over 3 members: Kafka visits members in HashMap order, and consumer967 comes before consumer372."""
    subscriptions = {"consumer825": sub("topic-0"),
                     "consumer372": sub("topic-0", owned="topic-0-0, topic-0-2, topic-0-4, topic-0-6", generation=1),
                     "consumer967": sub("topic-0", owned="topic-0-1, topic-0-3, topic-0-5", generation=1)}
    assert assign({"topic-0": 7}, subscriptions) == {"consumer825": tps("topic-0-4, topic-0-6"),
                                                     "consumer372": tps("topic-0-0, topic-0-2"),
                                                     "consumer967": tps("topic-0-1, topic-0-3, topic-0-5")}


def test_general_algorithm_undoes_opposite_moves_to_keep_owned_partitions():
    """``PartitionMovements``: c1 keeps every t1 partition it owned instead of trading t1-1 for t1-0."""
    subscriptions = {"c1": sub("t0", "t1", owned="t0-0, t0-1, t1-1, t1-2, t1-4", generation=1),
                     "c2": sub("t0"),
                     "c3": sub("t0", "t1", owned="t1-3", generation=1)}
    assert assign({"t0": 2, "t1": 6}, subscriptions) == {"c1": tps("t1-1, t1-2, t1-4"), "c2": tps("t0-0, t0-1"),
                                                         "c3": tps("t1-0, t1-3, t1-5")}


def test_general_algorithm_after_a_subscription_change_moves_all_partitions():
    """c3 left t1, so Kafka skips its pass that moves only unassigned partitions; c1 ends up trading t1-0 for t1-2."""
    subscriptions = {"c1": sub("t1", owned="t1-0, t1-3", generation=1), "c2": sub("t0", "t1"),
                     "c3": sub("t0", owned="t1-2", generation=1)}
    assert assign({"t0": 1, "t1": 4}, subscriptions) == {"c1": tps("t1-2, t1-3"), "c2": tps("t1-0, t1-1"),
                                                         "c3": tps("t0-0")}


def test_stale_generation_member_gets_back_a_partition_of_a_topic_it_left():
    """Kafka quirk, reproduced: the general algorithm returns t0-0 to its generation-1 owner c1 although c1 now
    subscribes only to t1 (``performReassignments`` moves partitions to their previous owner unchecked)."""
    subscriptions = {"c1": sub("t1", owned="t0-0, t0-2, t0-3", generation=1),
                     "c2": sub("t0", "t1", owned="t0-1, t1-0", generation=2),
                     "c3": sub("t0")}
    assert assign({"t0": 4, "t1": 1}, subscriptions) == {"c1": tps("t0-0"), "c2": tps("t0-3, t1-0"),
                                                         "c3": tps("t0-1, t0-2")}
