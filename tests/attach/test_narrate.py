"""Two describe rounds of an attached cluster, told in the lab's words as observed events (no Kafka needed)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from kafkalab.attach.build import AttachedViewBuilder
from kafkalab.attach.narrate import narrate
from kafkalab.attach.observe import Observation, SeenGroup, SeenOffsets, SeenPartition, SeenTopic
from kafkalab.events.observed import (
    ObservedBrokerLeft,
    ObservedGroupStateChanged,
    ObservedIsrShrank,
    ObservedLeaderMoved,
    ObservedMemberJoined,
    ObservedMemberLeft,
    ObservedRebalance,
    ObservedTopicCreated,
    ObservedTopicDeleted,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.views import GroupMemberView

TP0 = TopicPartition("orders", 0)


def _round(time_ms: float, *, brokers: tuple[int, ...] = (1, 2, 3), leader: int | None = 1,
           isr: tuple[int, ...] = (1, 2, 3), hw: int = 10, members: tuple[GroupMemberView, ...] = (),
           state: str = "Empty", committed: int = 10, topics: tuple[str, ...] = ("orders",)) -> Observation:
    seen_topics = tuple(SeenTopic(name, f"id-{name}", False, (SeenPartition(0, leader, (1, 2, 3), isr),), ())
                        for name in topics)
    return Observation(time_ms, "cluster-1", 1, brokers, seen_topics,
                       {TopicPartition(name, 0): SeenOffsets(0, hw, hw) for name in topics},
                       (SeenGroup("billing", state, "consumer", "range", 1, members, {TP0: committed}),))


def _member(client: str, *partitions: str) -> GroupMemberView:
    return GroupMemberView(f"{client}-id", client, "/127.0.0.1", None, partitions)


def test_a_leader_that_moves_and_an_isr_that_shrinks_when_a_broker_leaves() -> None:
    builder = AttachedViewBuilder()
    before = builder.build(_round(1000))
    after = builder.build(_round(2000, brokers=(2, 3), leader=2, isr=(2, 3)))
    events = narrate(before, after)
    assert [type(e) for e in events] == [ObservedBrokerLeft, ObservedLeaderMoved, ObservedIsrShrank]
    assert events[1].describe() == "Observed: leader of orders-0 moved from broker 1 to broker 2."
    assert events[2].describe() == "Observed: ISR of orders-0 shrank to [2, 3]: removed [1]."
    assert all(e.time_ms == 2000 for e in events)
    # A broker that left stays on the screen, not running, with nothing to follow.
    gone = after.broker(1)
    assert gone is not None and (gone.state, gone.registered, gone.leader_count) == ("not running", False, 0)


def test_members_a_rebalance_and_lag_that_starts_growing() -> None:
    builder = AttachedViewBuilder()
    empty = builder.build(_round(1000))
    joined = builder.build(_round(2000, members=(_member("c1", "orders-0"),), state="Stable"))
    events = narrate(empty, joined)
    assert [type(e) for e in events] == [ObservedMemberJoined, ObservedGroupStateChanged, ObservedRebalance]
    assert events[2].describe() == "Observed: group billing rebalanced: c1 owns orders-0."
    group = joined.group("billing")
    assert group is not None and group.partitions[0].member_id == "c1-id" and group.total_lag == 0

    growing = builder.build(_round(3000, members=(_member("c1", "orders-0"),), state="Stable", hw=15))
    still = builder.build(_round(4000, members=(_member("c1", "orders-0"),), state="Stable", hw=20))
    assert [e.describe() for e in narrate(joined, growing)] == ["Observed: lag of group billing is growing: 0 -> 5."]
    assert narrate(growing, still) == []  # a steady climb is told once, when it starts
    group = still.group("billing")
    assert group is not None and group.total_lag == 10 and [lag for _, lag in group.lag_history] == [0, 0, 5, 10]

    left = builder.build(_round(5000, hw=20))
    assert [type(e) for e in narrate(still, left)] == [ObservedMemberLeft, ObservedGroupStateChanged]


def test_topics_that_appear_and_go() -> None:
    builder = AttachedViewBuilder()
    before = builder.build(_round(1000))
    after = builder.build(_round(2000, topics=("audit",)))
    events = narrate(before, after)
    assert [type(e) for e in events] == [ObservedTopicCreated, ObservedTopicDeleted]
    assert events[0].describe() == "Observed: topic audit appeared with 1 partition(s), replication factor 3."


@given(st.sampled_from([(1, 2, 3), (2, 3), (1,)]), st.sampled_from([None, 1, 2]), st.integers(0, 1000))
def test_two_rounds_that_saw_the_same_cluster_tell_nothing(isr: tuple[int, ...], leader: int | None, hw: int) -> None:
    seen = _round(1000, isr=isr, leader=leader, hw=hw)
    builder = AttachedViewBuilder()
    assert narrate(builder.build(seen), builder.build(replace(seen, time_ms=2000))) == []
