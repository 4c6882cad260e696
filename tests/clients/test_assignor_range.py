"""RangeAssignor cases ported from Kafka's RangeAssignorTest (non-rack-aware variants)."""

from __future__ import annotations

import pytest
from assignor_support import assert_valid, sub, tps

from kafkalab.clients.assignors import get_assignor

assign = get_assignor("range").assign

ALL3 = ("t1", "t2", "t3")

CASES = [
    # (Kafka test, partitions per topic, subscriptions in JoinGroup order, expected)
    ("testOneConsumerNoTopic", {}, {"consumer1": sub()}, {"consumer1": ""}),
    ("testOneConsumerNonexistentTopic", {}, {"consumer1": sub("topic1")}, {"consumer1": ""}),
    ("testOneConsumerOneTopic", {"topic1": 3}, {"consumer1": sub("topic1")}, {"consumer1": "topic1-0, topic1-1, topic1-2"}),
    ("testOnlyAssignsPartitionsFromSubscribedTopics", {"topic1": 3, "other": 3}, {"consumer1": sub("topic1")},
     {"consumer1": "topic1-0, topic1-1, topic1-2"}),
    ("testOneConsumerMultipleTopics", {"topic1": 1, "topic2": 2}, {"consumer1": sub("topic1", "topic2")},
     {"consumer1": "topic1-0, topic2-0, topic2-1"}),
    ("testTwoConsumersOneTopicOnePartition", {"topic1": 1},
     {"consumer1": sub("topic1"), "consumer2": sub("topic1")}, {"consumer1": "topic1-0", "consumer2": ""}),
    ("testTwoConsumersOneTopicTwoPartitions", {"topic1": 2},
     {"consumer1": sub("topic1"), "consumer2": sub("topic1")}, {"consumer1": "topic1-0", "consumer2": "topic1-1"}),
    ("testMultipleConsumersMixedTopics", {"topic1": 3, "topic2": 2},
     {"consumer1": sub("topic1"), "consumer2": sub("topic1", "topic2"), "consumer3": sub("topic1")},
     {"consumer1": "topic1-0", "consumer2": "topic1-1, topic2-0, topic2-1", "consumer3": "topic1-2"}),
    ("testTwoConsumersTwoTopicsSixPartitions", {"topic1": 3, "topic2": 3},
     {"consumer1": sub("topic1", "topic2"), "consumer2": sub("topic1", "topic2")},
     {"consumer1": "topic1-0, topic1-1, topic2-0, topic2-1", "consumer2": "topic1-2, topic2-2"}),
    # KIP-345: static members order by group.instance.id, not member id ...
    ("testTwoStaticConsumersTwoTopicsSixPartitions", {"topic1": 3, "topic2": 3},
     {"consumer-b": sub("topic1", "topic2", instance="instance1"),
      "consumer-a": sub("topic1", "topic2", instance="instance2")},
     {"consumer-b": "topic1-0, topic1-1, topic2-0, topic2-1", "consumer-a": "topic1-2, topic2-2"}),
    # ... and come before dynamic members.
    ("testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions", {"topic1": 3, "topic2": 3},
     {"consumer-b": sub("topic1", "topic2", instance="instance1"), "consumer-a": sub("topic1", "topic2")},
     {"consumer-b": "topic1-0, topic1-1, topic2-0, topic2-1", "consumer-a": "topic1-2, topic2-2"}),
    ("testStaticMemberRangeAssignmentPersistent", {"topic1": 5, "topic2": 4},
     {"consumer1": sub("topic1", "topic2", instance="instance1"),
      "consumer2": sub("topic1", "topic2", instance="instance2"),
      "consumer3": sub("topic1", "topic2", instance="instance3"),
      "consumer4": sub("topic1", "topic2")},
     {"consumer1": "topic1-0, topic1-1, topic2-0", "consumer2": "topic1-2, topic2-1",
      "consumer3": "topic1-3, topic2-2", "consumer4": "topic1-4, topic2-3"}),
    ("testStaticMemberRangeAssignmentPersistent (dynamic member 4 replaced by 5)", {"topic1": 5, "topic2": 4},
     {"consumer1": sub("topic1", "topic2", instance="instance1"),
      "consumer2": sub("topic1", "topic2", instance="instance2"),
      "consumer3": sub("topic1", "topic2", instance="instance3"),
      "consumer5": sub("topic1", "topic2")},
     {"consumer1": "topic1-0, topic1-1, topic2-0", "consumer2": "topic1-2, topic2-1",
      "consumer3": "topic1-3, topic2-2", "consumer5": "topic1-4, topic2-3"}),
    ("testRackAwareAssignmentWithUniformSubscription (non-rack-aware)", {"t1": 6, "t2": 7, "t3": 2},
     {"consumer0": sub(*ALL3), "consumer1": sub(*ALL3), "consumer2": sub(*ALL3)},
     {"consumer0": "t1-0, t1-1, t2-0, t2-1, t2-2, t3-0", "consumer1": "t1-2, t1-3, t2-3, t2-4, t3-1",
      "consumer2": "t1-4, t1-5, t2-5, t2-6"}),
    ("testRackAwareAssignmentWithNonEqualSubscription (non-rack-aware)", {"t1": 6, "t2": 7, "t3": 2},
     {"consumer0": sub(*ALL3), "consumer1": sub(*ALL3), "consumer2": sub("t1", "t3")},
     {"consumer0": "t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0", "consumer1": "t1-2, t1-3, t2-4, t2-5, t2-6, t3-1",
      "consumer2": "t1-4, t1-5"}),
    ("testRackAwareAssignmentWithUniformPartitions (non-rack-aware)", {"t1": 5, "t2": 5, "t3": 5},
     {"consumer0": sub(*ALL3), "consumer1": sub(*ALL3), "consumer2": sub(*ALL3)},
     {"consumer0": "t1-0, t1-1, t2-0, t2-1, t3-0, t3-1", "consumer1": "t1-2, t1-3, t2-2, t2-3, t3-2, t3-3",
      "consumer2": "t1-4, t2-4, t3-4"}),
    ("testRackAwareAssignmentWithUniformPartitionsNonEqualSubscription (non-rack-aware)", {"t1": 5, "t2": 5, "t3": 5},
     {"consumer0": sub(*ALL3), "consumer1": sub(*ALL3), "consumer2": sub("t1", "t3")},
     {"consumer0": "t1-0, t1-1, t2-0, t2-1, t2-2, t3-0, t3-1", "consumer1": "t1-2, t1-3, t2-3, t2-4, t3-2, t3-3",
      "consumer2": "t1-4, t3-4"}),
    ("testRackAwareAssignmentWithCoPartitioning (non-rack-aware)", {"t1": 6, "t2": 6, "t3": 2, "t4": 2},
     {"consumer0": sub("t1", "t2"), "consumer1": sub("t1", "t2"), "consumer2": sub("t3", "t4"),
      "consumer3": sub("t3", "t4")},
     {"consumer0": "t1-0, t1-1, t1-2, t2-0, t2-1, t2-2", "consumer1": "t1-3, t1-4, t1-5, t2-3, t2-4, t2-5",
      "consumer2": "t3-0, t4-0", "consumer3": "t3-1, t4-1"}),
    ("testCoPartitionedAssignmentWithSameSubscription (non-rack-aware)",
     {"t1": 6, "t2": 6, "t3": 2, "t4": 2, "t5": 4, "t6": 4},
     {f"consumer{i}": sub("t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9") for i in range(3)},
     {"consumer0": "t1-0, t1-1, t2-0, t2-1, t3-0, t4-0, t5-0, t5-1, t6-0, t6-1",
      "consumer1": "t1-2, t1-3, t2-2, t2-3, t3-1, t4-1, t5-2, t6-2",
      "consumer2": "t1-4, t1-5, t2-4, t2-5, t5-3, t6-3"}),
]


@pytest.mark.parametrize(("partitions", "subscriptions", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_kafka_range_cases(partitions, subscriptions, expected):
    assignment = assign(partitions, subscriptions)
    assert assignment == {member: tps(spec) for member, spec in expected.items()}
    assert_valid(assignment, partitions, subscriptions)


def by_instance(partitions, subscriptions):
    assignment = assign(partitions, subscriptions)
    return {s.group_instance_id: assignment[m] for m, s in subscriptions.items() if s.group_instance_id}


def test_static_member_assignment_survives_member_id_changes():
    """testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges: KIP-345 keeps assignments across new member ids."""
    partitions = {"topic1": 5, "topic2": 5}
    before = {f"consumer{i}": sub("topic1", "topic2", instance=f"instance{i}") for i in (1, 2, 3)}
    expected = {"instance1": tps("topic1-0, topic1-1, topic2-0, topic2-1"),
                "instance2": tps("topic1-2, topic1-3, topic2-2, topic2-3"),
                "instance3": tps("topic1-4, topic2-4")}
    assert by_instance(partitions, before) == expected
    after = {"consumer1": before["consumer1"], "consumer4": before["consumer3"], "consumer5": before["consumer2"]}
    assert by_instance(partitions, after) == expected


def test_dynamic_members_order_by_member_id_as_java_compares_strings():
    """Java compares UTF-16 code units: U+FF5E sorts after U+1F600's surrogates, unlike Python's code points."""
    subscriptions = {"\U0001F600": sub("t"), "\uFF5E": sub("t")}
    assert assign({"t": 2}, subscriptions) == {"\U0001F600": tps("t-0"), "\uFF5E": tps("t-1")}
