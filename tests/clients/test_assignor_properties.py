"""Properties every assignor must keep, over generated groups (hypothesis)."""

from __future__ import annotations

import random

from assignor_support import assert_valid, owned_from
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.clients.assignors import ASSIGNORS, Subscription, TopicPartition
from kafkalab.clients.assignors.common import member_sort_key

TOPICS = ["a", "b", "orders", "payments"]
MEMBER_IDS = st.text(alphabet="cmAaBB-0123456789", min_size=1, max_size=8)

partition_counts = st.dictionaries(st.sampled_from(TOPICS), st.integers(0, 9), min_size=1, max_size=4)


@st.composite
def groups(draw, same_subscriptions: bool | None = None):
    """Partition counts and members, each subscribing to at least one topic (some may be missing from metadata)."""
    counts = draw(partition_counts)
    members = draw(st.lists(MEMBER_IDS, min_size=1, max_size=9, unique=True))
    same = draw(st.booleans()) if same_subscriptions is None else same_subscriptions
    topic_sets = st.lists(st.sampled_from(TOPICS), min_size=1, max_size=4, unique=True).map(tuple)
    shared = draw(topic_sets)
    static = st.one_of(st.none(), st.sampled_from(["i1", "i2", "i3", "i4"]))
    subscriptions: dict[str, Subscription] = {}
    used_instances: set[str] = set()
    for member in members:
        instance = draw(static)
        if instance in used_instances:
            instance = None
        used_instances.add(instance)
        subscriptions[member] = Subscription(shared if same else draw(topic_sets), group_instance_id=instance)
    return counts, subscriptions


def with_history(counts, subscriptions, rng: random.Random) -> dict[str, Subscription]:
    """A realistic next JoinGroup: members own a previous sticky assignment; some left, one may be new."""
    previous = ASSIGNORS["sticky"].assign(counts, subscriptions)
    members = [m for m in subscriptions if rng.random() < 0.8] or list(subscriptions)[:1]
    survivors = owned_from(previous, {m: subscriptions[m] for m in members}, 3)
    if rng.random() < 0.5:
        survivors["newcomer"] = Subscription(next(iter(subscriptions.values())).topics)
    return survivors


def sizes(assignment):
    return [len(p) for p in assignment.values()]


@settings(max_examples=150, deadline=None)
@given(groups(), st.sampled_from(["range", "roundrobin", "sticky"]))
def test_every_subscribed_partition_goes_to_exactly_one_subscriber(group, name):
    counts, subscriptions = group
    assert_valid(ASSIGNORS[name].assign(counts, subscriptions), counts, subscriptions)


@settings(max_examples=100, deadline=None)
@given(groups(), st.randoms(use_true_random=False))
def test_sticky_is_valid_with_owned_partitions_and_generations(group, rng):
    counts, subscriptions = group
    next_group = with_history(counts, subscriptions, rng)
    assert_valid(ASSIGNORS["sticky"].assign(counts, next_group), counts, next_group)


@settings(max_examples=100, deadline=None)
@given(groups(), st.sampled_from(list(ASSIGNORS)))
def test_assignment_is_deterministic(group, name):
    counts, subscriptions = group
    assert ASSIGNORS[name].assign(counts, subscriptions) == ASSIGNORS[name].assign(dict(counts), dict(subscriptions))


@settings(max_examples=100, deadline=None)
@given(groups(), st.sampled_from(["range", "roundrobin"]), st.randoms(use_true_random=False))
def test_range_and_roundrobin_ignore_join_order(group, name, rng):
    counts, subscriptions = group
    shuffled = list(subscriptions.items())
    rng.shuffle(shuffled)
    assert ASSIGNORS[name].assign(counts, subscriptions) == ASSIGNORS[name].assign(counts, dict(shuffled))


@settings(max_examples=150, deadline=None)
@given(groups(same_subscriptions=True), st.sampled_from(["roundrobin", "sticky", "cooperative-sticky"]))
def test_same_subscriptions_balance_within_one(group, name):
    counts, subscriptions = group
    assignment = ASSIGNORS[name].assign(counts, subscriptions)
    assert max(sizes(assignment)) - min(sizes(assignment)) <= 1


@settings(max_examples=150, deadline=None)
@given(groups())
def test_range_splits_each_topic_evenly_extra_partitions_first(group):
    counts, subscriptions = group
    assignment = ASSIGNORS["range"].assign(counts, subscriptions)
    for topic in counts:
        members = sorted((m for m, s in subscriptions.items() if topic in s.topics),
                         key=lambda m: member_sort_key(m, subscriptions[m]))
        got = [sum(p.topic == topic for p in assignment[m]) for m in members]
        assert got == sorted(got, reverse=True)
        assert not got or max(got) - min(got) <= 1


@settings(max_examples=150, deadline=None)
@given(groups(same_subscriptions=True), st.randoms(use_true_random=False))
def test_sticky_keeps_owned_partitions_up_to_the_fair_share(group, rng):
    counts, subscriptions = group
    next_group = with_history(counts, subscriptions, rng)
    assignment = ASSIGNORS["sticky"].assign(counts, next_group)
    subscribed = next(iter(next_group.values())).topics
    fair_share = sum(n for t, n in counts.items() if t in subscribed) // len(next_group)
    for member, subscription in next_group.items():
        kept = set(subscription.owned_partitions) & set(assignment[member])
        assert len(kept) >= min(len(subscription.owned_partitions), fair_share)
    assert max(sizes(assignment)) - min(sizes(assignment)) <= 1


def moves_while_owned(subscriptions, assignment) -> set[TopicPartition]:
    added = {p for m, ps in assignment.items() for p in ps if p not in subscriptions[m].owned_partitions}
    revoked = {p for m, s in subscriptions.items() for p in s.owned_partitions if p not in assignment[m]}
    return added & revoked


@settings(max_examples=150, deadline=None)
@given(groups(), st.randoms(use_true_random=False))
def test_cooperative_never_moves_a_partition_its_owner_still_has_and_converges(group, rng):
    """KIP-429: a partition goes to a new owner only after a rebalance in which its old owner gave it up."""
    counts, subscriptions = group
    current = with_history(counts, subscriptions, rng)
    for generation in range(4, 9):
        assignment = ASSIGNORS["cooperative-sticky"].assign(counts, current)
        assert not moves_while_owned(current, assignment)
        revoking = any(set(s.owned_partitions) - set(assignment[m]) for m, s in current.items())
        current = owned_from(assignment, current, generation)
        if not revoking:
            break
    assert not revoking, "still revoking after four follow-up rebalances"
    assert_valid(assignment, counts, current)
