"""A describe round of a large, quiet cluster leaves nothing new for the garbage collector's full passes, and no
automatic collection runs while a round does (no Kafka needed: the rounds are scripted)."""

from __future__ import annotations

import gc

import pytest

from kafkalab.attach.build import AttachedViewBuilder
from kafkalab.attach.observe import Observation, SeenOffsets, SeenPartition, SeenTopic
from kafkalab.attach.source import AttachSource
from kafkalab.protocol.types import TopicPartition

PARTITIONS = 2000


def _round(time_ms: float) -> Observation:
    """Every object new, as a round's answers are, with the same values as the round before."""
    partitions = tuple(SeenPartition(p, 1 + p % 3, (1, 2, 3), (1, 2, 3)) for p in range(PARTITIONS))
    return Observation(time_ms, "cluster-1", 1, (1, 2, 3), (SeenTopic("wide", "id-wide", False, partitions, ()),),
                       {TopicPartition("wide", p): SeenOffsets(0, 10, 10, 0) for p in range(PARTITIONS)}, ())


def _promoted(work: object) -> int:
    """How many objects ``work()`` leaves in the collector's oldest generation."""
    gc.collect()
    before = {id(o) for o in gc.get_objects(2)}
    kept = work()  # type: ignore[operator]
    gc.collect(1)
    promoted = sum(1 for o in gc.get_objects(2) if id(o) not in before)
    del kept
    return promoted


def test_a_quiet_round_leaves_its_partitions_as_they_were() -> None:
    builder = AttachedViewBuilder()
    first = builder.build(_round(1000))
    promoted = _promoted(lambda: builder.build(_round(2000)))
    # The view's few new objects (the topic, its tuple of partitions, brokers ...), not one per partition.
    assert promoted < PARTITIONS / 10
    second = builder.build(_round(3000))
    assert second.topics[0].partitions[5] is first.topics[0].partitions[5]


class _Rounds:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.collector_enabled: list[bool] = []

    def observe(self, now_ms: float) -> Observation:
        self.collector_enabled.append(gc.isenabled())
        if self.fail:
            raise TimeoutError
        return _round(now_ms)


@pytest.mark.parametrize("fail", [False, True])
def test_no_collection_runs_during_a_round_and_the_collector_is_back_after(fail: bool) -> None:
    rounds = _Rounds(fail)
    source = AttachSource(rounds, 3600, clock=lambda: 1.0)
    assert gc.isenabled()
    source.poll_once()
    assert rounds.collector_enabled == [False] and gc.isenabled()
