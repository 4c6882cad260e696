"""Kafka 4.1's PartitionChangeBuilder: elections, ISR changes without epoch bumps, eligible leader replicas."""

from __future__ import annotations

from kafkalab.kraft.partition_change import Election, PartitionChangeBuilder
from kafkalab.metadata.image import PartitionRegistration
from kafkalab.metadata.records import NO_LEADER, NO_LEADER_CHANGE, PartitionChangeRecord

TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ"


def build(partition: PartitionRegistration, isr: tuple[int, ...], alive: set[int], min_isr: int = 1,
          elr: bool = True, election: Election = Election.ONLINE,
          unclean_shutdown: tuple[int, ...] = ()) -> PartitionChangeRecord | None:
    return PartitionChangeBuilder(partition, TOPIC_ID, 0, alive.__contains__, min_isr, elr_enabled=elr,
                                  election=election, target_isr=isr, unclean_shutdown_replicas=unclean_shutdown).build()


def test_a_follower_leaving_the_isr_does_not_change_the_leader() -> None:
    partition = PartitionRegistration((1, 2, 3), (1, 2, 3), 1, 4, 7)
    record = build(partition, (1, 3), {1, 3})
    assert record == PartitionChangeRecord(0, TOPIC_ID, isr=(1, 3))
    assert record.leader == NO_LEADER_CHANGE  # so the leader epoch stays 4 (Kafka 3.6+)


def test_a_leader_leaving_the_isr_is_replaced_by_the_first_isr_replica_in_assignment_order() -> None:
    partition = PartitionRegistration((1, 2, 3), (3, 2, 1), 1, 4, 7)
    record = build(partition, (3, 2), {2, 3})
    assert record is not None
    assert (record.leader, record.isr) == (2, (3, 2))


def test_nothing_to_change_builds_nothing() -> None:
    partition = PartitionRegistration((1, 2), (1, 2), 1, 0, 0)
    assert build(partition, (1, 2), {1, 2}) is None


def test_below_min_isr_the_lost_replicas_become_eligible_leaders() -> None:
    partition = PartitionRegistration((1, 2, 3), (1, 2, 3), 1, 0, 0)
    record = build(partition, (1,), {1}, min_isr=2)
    assert record is not None
    assert (record.isr, record.eligible_leader_replicas) == ((1,), (2, 3))


def test_without_elr_the_last_isr_member_stays_in_the_isr_of_a_leaderless_partition() -> None:
    partition = PartitionRegistration((1, 2), (1,), 1, 3, 5)
    record = build(partition, (), set(), min_isr=1, elr=False)
    assert record == PartitionChangeRecord(0, TOPIC_ID, leader=NO_LEADER)


def test_with_elr_the_isr_empties_and_the_last_leader_is_remembered() -> None:
    partition = PartitionRegistration((1, 2), (1,), 1, 3, 5)
    record = build(partition, (), set(), min_isr=1)
    assert record is not None
    assert (record.leader, record.isr, record.eligible_leader_replicas, record.last_known_elr) == (
        NO_LEADER, (), (1,), (1,))


def test_an_eligible_leader_replica_leads_an_empty_isr_cleanly() -> None:
    partition = PartitionRegistration((1, 2), (), NO_LEADER, 4, 6, elr=(2,), last_known_elr=(1,))
    record = build(partition, (), {2}, min_isr=2)
    assert record is not None
    assert (record.leader, record.isr, record.leader_recovery_state) == (2, (2,), -1)


def test_an_unclean_shutdown_replica_never_becomes_eligible() -> None:
    partition = PartitionRegistration((1, 2, 3), (1, 2, 3), 1, 0, 0)
    record = build(partition, (1,), {1}, min_isr=2, unclean_shutdown=(3,))
    assert record is not None
    assert record.eligible_leader_replicas == (2,)


def test_an_unclean_election_takes_any_live_replica_and_marks_it_recovering() -> None:
    partition = PartitionRegistration((1, 2), (1,), NO_LEADER, 4, 6)
    record = build(partition, (1,), {2}, elr=False, election=Election.UNCLEAN)
    assert record is not None
    assert (record.leader, record.isr, record.leader_recovery_state) == (2, (2,), 1)


def test_a_preferred_election_moves_leadership_to_the_first_replica_in_the_isr() -> None:
    partition = PartitionRegistration((1, 2), (1, 2), 2, 4, 6)
    record = build(partition, (1, 2), {1, 2}, election=Election.PREFERRED)
    assert record is not None
    assert record.leader == 1


def test_with_isr_and_elr_empty_the_last_known_leader_leads_again_once_back() -> None:
    # Every replica crashed (an unclean shutdown takes a replica out of the ELR too).
    partition = PartitionRegistration((1, 2, 3), (), NO_LEADER, 5, 9, elr=(), last_known_elr=(2,))
    assert build(partition, (), {1}, min_isr=2) is None  # 2 is not back: nobody may lead
    record = build(partition, (), {1, 2}, min_isr=2)
    assert record is not None
    assert (record.leader, record.isr, record.leader_recovery_state, record.last_known_elr) == (2, (2,), 1, ())
