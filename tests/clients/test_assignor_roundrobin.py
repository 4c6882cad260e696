"""RoundRobinAssignor cases ported from Kafka's RoundRobinAssignorTest and the class's javadoc examples."""

from __future__ import annotations

import pytest
from assignor_support import assert_valid, sub, tps

from kafkalab.clients.assignors import get_assignor

assign = get_assignor("roundrobin").assign

T12 = ("topic1", "topic2")

CASES = [
    ("testOneConsumerNoTopic", {}, {"consumer": sub()}, {"consumer": ""}),
    ("testOneConsumerNonexistentTopic", {}, {"consumer": sub("topic")}, {"consumer": ""}),
    ("testOneConsumerOneTopic", {"topic": 3}, {"consumer": sub("topic")}, {"consumer": "topic-0, topic-1, topic-2"}),
    ("testOnlyAssignsPartitionsFromSubscribedTopics", {"topic": 3, "other": 3}, {"consumer": sub("topic")},
     {"consumer": "topic-0, topic-1, topic-2"}),
    ("testOneConsumerMultipleTopics", {"topic1": 1, "topic2": 2}, {"consumer": sub(*T12)},
     {"consumer": "topic1-0, topic2-0, topic2-1"}),
    ("testTwoConsumersOneTopicOnePartition", {"topic": 1}, {"consumer1": sub("topic"), "consumer2": sub("topic")},
     {"consumer1": "topic-0", "consumer2": ""}),
    ("testTwoConsumersOneTopicTwoPartitions", {"topic": 2}, {"consumer1": sub("topic"), "consumer2": sub("topic")},
     {"consumer1": "topic-0", "consumer2": "topic-1"}),
    ("testMultipleConsumersMixedTopics", {"topic1": 3, "topic2": 2},
     {"consumer1": sub("topic1"), "consumer2": sub(*T12), "consumer3": sub("topic1")},
     {"consumer1": "topic1-0", "consumer2": "topic1-1, topic2-0, topic2-1", "consumer3": "topic1-2"}),
    ("testTwoDynamicConsumersTwoTopicsSixPartitions", {"topic1": 3, "topic2": 3},
     {"consumer1": sub(*T12), "consumer2": sub(*T12)},
     {"consumer1": "topic1-0, topic1-2, topic2-1", "consumer2": "topic1-1, topic2-0, topic2-2"}),
    ("testTwoStaticConsumersTwoTopicsSixPartitions", {"topic1": 3, "topic2": 3},
     {"consumer-b": sub(*T12, instance="instance1"), "consumer-a": sub(*T12, instance="instance2")},
     {"consumer-b": "topic1-0, topic1-2, topic2-1", "consumer-a": "topic1-1, topic2-0, topic2-2"}),
    ("testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions", {"topic1": 3, "topic2": 3},
     {"consumer-b": sub(*T12, instance="instance1"), "consumer-a": sub(*T12)},
     {"consumer-b": "topic1-0, topic1-2, topic2-1", "consumer-a": "topic1-1, topic2-0, topic2-2"}),
    ("testStaticMemberRoundRobinAssignmentPersistent", {"topic1": 3, "topic2": 3},
     {"consumer1": sub(*T12, instance="instance1"), "consumer2": sub(*T12, instance="instance2"),
      "consumer3": sub(*T12, instance="instance3"), "consumer4": sub(*T12)},
     {"consumer1": "topic1-0, topic2-1", "consumer2": "topic1-1, topic2-2", "consumer3": "topic1-2",
      "consumer4": "topic2-0"}),
    ("testStaticMemberRoundRobinAssignmentPersistent (dynamic member 4 replaced by 5)", {"topic1": 3, "topic2": 3},
     {"consumer1": sub(*T12, instance="instance1"), "consumer2": sub(*T12, instance="instance2"),
      "consumer3": sub(*T12, instance="instance3"), "consumer5": sub(*T12)},
     {"consumer1": "topic1-0, topic2-1", "consumer2": "topic1-1, topic2-2", "consumer3": "topic1-2",
      "consumer5": "topic2-0"}),
    ("RoundRobinAssignor javadoc: identical subscriptions", {"t0": 3, "t1": 3},
     {"C0": sub("t0", "t1"), "C1": sub("t0", "t1")}, {"C0": "t0-0, t0-2, t1-1", "C1": "t0-1, t1-0, t1-2"}),
    ("RoundRobinAssignor javadoc: differing subscriptions", {"t0": 1, "t1": 2, "t2": 3},
     {"C0": sub("t0"), "C1": sub("t0", "t1"), "C2": sub("t0", "t1", "t2")},
     {"C0": "t0-0", "C1": "t1-0", "C2": "t1-1, t2-0, t2-1, t2-2"}),
]


@pytest.mark.parametrize(("partitions", "subscriptions", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_kafka_roundrobin_cases(partitions, subscriptions, expected):
    assignment = assign(partitions, subscriptions)
    assert assignment == {member: tps(spec) for member, spec in expected.items()}
    assert_valid(assignment, partitions, subscriptions)


def test_static_member_assignment_survives_member_id_changes():
    """testStaticMemberRoundRobinAssignmentPersistentAfterMemberIdChanges."""
    partitions = {"topic1": 5, "topic2": 5}
    before = {f"consumer{i}": sub(*T12, instance=f"instance{i}") for i in (1, 2, 3)}
    after = {"consumer1": before["consumer1"], "consumer4": before["consumer3"], "consumer5": before["consumer2"]}
    expected = {"instance1": tps("topic1-0, topic1-3, topic2-1, topic2-4"),
                "instance2": tps("topic1-1, topic1-4, topic2-2"),
                "instance3": tps("topic1-2, topic2-0, topic2-3")}
    for subscriptions in (before, after):
        assignment = assign(partitions, subscriptions)
        assert {s.group_instance_id: assignment[m] for m, s in subscriptions.items()} == expected
