"""CooperativeStickyAssignor cases ported from Kafka's CooperativeStickyAssignorTest and AbstractStickyAssignorTest.

Kafka's cooperative test reruns the assignment while partitions are being revoked
(``verifyValidityAndBalance``); here each round is spelled out: first what the
assignor hands out while a partition still has its old owner, then the follow-up.
"""

from __future__ import annotations

import pytest
from assignor_support import assert_valid, owned_from, sub, tps

from kafkalab.clients.assignors import get_assignor

assign = get_assignor("cooperative-sticky").assign
sticky = get_assignor("sticky").assign

T12 = ("topic1", "topic2")
ALL3 = ("t1", "t2", "t3")


def follow_up(partitions, subscriptions, assignment):
    """The rebalance Kafka triggers after revocations: members report what they still own (generation 1, as Kafka's test)."""
    subscriptions = owned_from(assignment, subscriptions, 1)
    return subscriptions, assign(partitions, subscriptions)


# (Kafka test, partitions per topic, subscriptions, first round, round after the revocations)
ROUNDS = [
    ("testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithEqualPartitionsPerConsumer",
     {"topic": 3},
     {"consumer1": sub("topic", owned="topic-0, topic-1", generation=1),
      "consumer2": sub("topic", owned="topic-0, topic-2", generation=1), "consumer3": sub("topic", generation=1)},
     {"consumer1": "topic-1", "consumer2": "topic-2", "consumer3": ""},
     {"consumer1": "topic-1", "consumer2": "topic-2", "consumer3": "topic-0"}),
    ("testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithUnequalPartitionsPerConsumer",
     {"topic": 4},
     {"consumer1": sub("topic", owned="topic-0, topic-1", generation=1),
      "consumer2": sub("topic", owned="topic-0, topic-2", generation=1), "consumer3": sub("topic", generation=1)},
     {"consumer1": "topic-1, topic-3", "consumer2": "topic-2", "consumer3": ""},
     {"consumer1": "topic-1, topic-3", "consumer2": "topic-2", "consumer3": "topic-0"}),
    ("testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers", {"topic1": 2, "topic2": 2},
     {"consumer1": sub(*T12, owned="topic1-0, topic2-0", generation=1),
      "consumer2": sub(*T12, owned="topic1-1, topic2-1", generation=1), "consumer3": sub(*T12, generation=1)},
     {"consumer1": "topic1-0", "consumer2": "topic1-1, topic2-1", "consumer3": ""},
     {"consumer1": "topic1-0", "consumer2": "topic1-1, topic2-1", "consumer3": "topic2-0"}),
    ("testAddRemoveConsumerOneTopic (consumer2 joins)", {"topic": 3},
     {"consumer1": sub("topic", owned="topic-0, topic-1, topic-2", generation=1), "consumer2": sub("topic", generation=1)},
     {"consumer1": "topic-0, topic-1", "consumer2": ""},
     {"consumer1": "topic-0, topic-1", "consumer2": "topic-2"}),
    ("testAddRemoveTwoConsumersTwoTopics (two consumers join)", {"topic1": 3, "topic2": 4},
     {"consumer1": sub(*T12, owned="topic1-0, topic1-2, topic2-1, topic2-3", generation=1),
      "consumer2": sub(*T12, owned="topic1-1, topic2-0, topic2-2", generation=1),
      "consumer3": sub(*T12, generation=1), "consumer4": sub(*T12, generation=1)},
     {"consumer1": "topic1-0, topic2-1", "consumer2": "topic1-1, topic2-0", "consumer3": "", "consumer4": ""},
     {"consumer1": "topic1-0, topic2-1", "consumer2": "topic1-1, topic2-0", "consumer3": "topic1-2, topic2-3",
      "consumer4": "topic2-2"}),
    # General (different subscriptions) algorithm; all racks match so Kafka takes its non-rack-aware path.
    ("testRackAwareAssignmentWithNonEqualSubscription (racks all match)", {"t1": 6, "t2": 7, "t3": 2},
     {"consumer0": sub(*ALL3, owned="t1-0, t1-1, t1-2, t1-3, t1-4"),
      "consumer1": sub(*ALL3, owned="t1-5, t2-0, t2-1, t2-2, t2-3"),
      "consumer2": sub("t1", "t3", owned="t2-4, t2-5, t2-6, t3-0, t3-1")},
     {"consumer0": "t1-2, t1-3, t1-4", "consumer1": "t2-0, t2-1, t2-2, t2-3", "consumer2": "t3-0, t3-1"},
     {"consumer0": "t1-2, t1-3, t1-4, t2-4, t2-5", "consumer1": "t2-0, t2-1, t2-2, t2-3, t2-6",
      "consumer2": "t1-0, t1-1, t1-5, t3-0, t3-1"}),
    # Computed by Kafka's CooperativeStickyAssignor on a JVM: c3 dropped t1, so t1-2 and c1's t1-0 wait a round.
    ("general algorithm after a subscription change (JVM output)", {"t0": 1, "t1": 4},
     {"c1": sub("t1", owned="t1-0, t1-3", generation=1), "c2": sub("t0", "t1"), "c3": sub("t0", owned="t1-2", generation=1)},
     {"c1": "t1-3", "c2": "t1-1", "c3": "t0-0"},
     {"c1": "t1-0, t1-3", "c2": "t1-1, t1-2", "c3": "t0-0"}),
]


@pytest.mark.parametrize(("partitions", "subscriptions", "first", "after"), [r[1:] for r in ROUNDS], ids=[r[0] for r in ROUNDS])
def test_partitions_are_revoked_before_they_move(partitions, subscriptions, first, after):
    first_round = assign(partitions, subscriptions)
    assert first_round == {member: tps(spec) for member, spec in first.items()}
    next_subscriptions, second_round = follow_up(partitions, subscriptions, first_round)
    assert second_round == {member: tps(spec) for member, spec in after.items()}
    assert_valid(second_round, partitions, next_subscriptions)


SAME_AS_STICKY = [
    ("testAssignorWithOldVersionSubscriptions", {"topic1": 3},
     {"consumer1": sub("topic1", owned="topic1-0", generation=1), "consumer2": sub("topic1", owned="topic1-1", generation=1),
      "consumer3": sub("topic1", generation=1)},
     {"consumer1": "topic1-0", "consumer2": "topic1-1", "consumer3": "topic1-2"}),
    ("testConsumerOwningMinQuotaExpectedMaxQuota", {"topic1": 2, "topic2": 3},
     {"consumer1": sub(*T12, owned="topic1-0, topic2-1", generation=1),
      "consumer2": sub(*T12, owned="topic1-1, topic2-2", generation=1)},
     {"consumer1": "topic1-0, topic2-0, topic2-1", "consumer2": "topic1-1, topic2-2"}),
    ("testAllConsumersAreUnderMinQuota", {"topic1": 2, "topic2": 3},
     {"consumer1": sub(*T12, owned="topic1-0", generation=1), "consumer2": sub(*T12, owned="topic1-1", generation=1),
      "consumer3": sub(*T12, generation=1)},
     {"consumer1": "topic1-0, topic2-1", "consumer2": "topic1-1, topic2-2", "consumer3": "topic2-0"}),
    ("testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration", {"topic": 3, "topic2": 3},
     {"consumer1": sub("topic", "topic2", owned="topic-0, topic-2, topic2-1", generation=10),
      "consumer2": sub("topic", "topic2", owned="topic-0, topic-2, topic2-1", generation=9)},
     {"consumer1": "topic-0, topic-2, topic2-1", "consumer2": "topic-1, topic2-0, topic2-2"}),
    ("testEnsurePartitionsAssignedToHighestGeneration", {"topic": 3, "topic2": 3, "topic3": 3},
     {"consumer1": sub("topic", "topic2", "topic3", owned="topic-0, topic2-0, topic3-0", generation=10),
      "consumer2": sub("topic", "topic2", "topic3", owned="topic-1, topic2-1, topic3-1", generation=9),
      "consumer3": sub("topic", "topic2", "topic3", owned="topic2-1, topic3-0, topic3-2", generation=8)},
     {"consumer1": "topic-0, topic2-0, topic3-0", "consumer2": "topic-1, topic2-1, topic3-1",
      "consumer3": "topic-2, topic2-2, topic3-2"}),
    ("testMultipleConsumersMixedTopicSubscriptions", {"topic1": 3, "topic2": 2},
     {"consumer1": sub("topic1"), "consumer2": sub(*T12), "consumer3": sub("topic1")},
     {"consumer1": "topic1-0, topic1-2", "consumer2": "topic2-0, topic2-1", "consumer3": "topic1-1"}),
]


@pytest.mark.parametrize(("partitions", "subscriptions", "expected"), [c[1:] for c in SAME_AS_STICKY],
                         ids=[c[0] for c in SAME_AS_STICKY])
def test_nothing_to_revoke_gives_the_sticky_assignment(partitions, subscriptions, expected):
    assignment = assign(partitions, subscriptions)
    assert assignment == {member: tps(spec) for member, spec in expected.items()}
    assert assignment == sticky(partitions, subscriptions)


def test_members_leaving_needs_no_revocation():
    """testAddRemoveTwoConsumersTwoTopics, last step: partitions of leavers move at once."""
    partitions = {"topic1": 3, "topic2": 4}
    subscriptions = {"consumer3": sub(*T12, owned="topic1-2, topic2-3", generation=2),
                     "consumer4": sub(*T12, owned="topic2-2", generation=2)}
    assert assign(partitions, subscriptions) == {"consumer3": tps("topic1-0, topic1-2, topic2-1, topic2-3"),
                                                 "consumer4": tps("topic1-1, topic2-0, topic2-2")}
