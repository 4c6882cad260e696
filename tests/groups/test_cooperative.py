"""KIP-429 cooperative rebalancing: only partitions that move are revoked, over two rebalances."""

from __future__ import annotations

from group_helpers import consumers, events, group, open_cluster, owned, run_checked

from kafkalab.events.clients import PartitionsAssigned, PartitionsRevoked
from kafkalab.events.groups import GenerationStarted, RebalanceStarted

COOPERATIVE = {"partition_assignment_strategy": "cooperative-sticky"}


def test_a_joining_member_gets_partitions_in_a_second_round_while_the_rest_keep_theirs(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 6, 3))
    loops = consumers(cluster, 2, **COOPERATIVE)
    run_checked(cluster, 5000, loops)
    before = owned(loops)
    assert sorted(len(o) for o in before) == [3, 3]
    assert loops[0].consumer.rebalance_protocol == "cooperative"
    mark = cluster.journal.last_seq
    loops += consumers(cluster, 1, **COOPERATIVE)
    run_checked(cluster, 10_000, loops)
    after = owned(loops)
    assert sorted(len(o) for o in after) == [2, 2, 2]
    # Each old member kept two of its three partitions and revoked exactly one, never all.
    revoked = events(cluster, mark, PartitionsRevoked)
    assert sorted(len(e.partitions) for e in revoked) == [1, 1]
    assert all(e.protocol == "cooperative" for e in revoked)
    for old, new in zip(before, after, strict=False):  # the newcomer has no "before"
        assert set(new) <= set(old) and len(set(old) - set(new)) == 1
    # Two generations: the first assigns the moved partitions to nobody, the second to the newcomer.
    generations = events(cluster, mark, GenerationStarted)
    assert [e.generation for e in generations] == [2, 3]
    newcomer = loops[2].consumer.client_id
    assigned = [e for e in events(cluster, mark, PartitionsAssigned) if e.client_id == newcomer]
    assert [(e.generation, len(e.added)) for e in assigned] == [(2, 0), (3, 2)]
    assert sorted(e.partitions[0] for e in revoked) == sorted(after[2])
    assert len(events(cluster, mark, RebalanceStarted)) == 2
    assert group(cluster).protocol == "cooperative-sticky"


def test_members_that_keep_their_partitions_keep_consuming_during_the_rebalance(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 4, 3))
    loops = consumers(cluster, 2, **COOPERATIVE)
    run_checked(cluster, 5000, loops)
    kept = {loop.consumer.client_id: set(loop.consumer.assignment()) for loop in loops}
    loops += consumers(cluster, 1, **COOPERATIVE)
    # Sample ownership through the rebalance: an old member never loses everything.
    for _ in range(40):
        run_checked(cluster, 250, loops)
        for loop in loops[:2]:
            assert loop.consumer.assignment() & kept[loop.consumer.client_id]
