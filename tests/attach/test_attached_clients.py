"""Consumers and steady producers started on a real cluster through confluent-kafka: the lab's steps, the lab's
results, and the attached views' groups and LAG agree with the lab's own views of the same cluster."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytest.importorskip("confluent_kafka")

from kafkalab.actions.client_actions import (
    Commit,
    Consume,
    PauseConsumer,
    Produce,
    ResumeConsumer,
    StartConsumer,
    StartProducer,
    StopConsumer,
    StopProducer,
)
from kafkalab.actions.results import CommitResult, ConsumeResult, StopProducerResult
from kafkalab.attach.actions import RealClientActions, refusal
from kafkalab.attach.client import client_config
from kafkalab.attach.observe import Observer
from kafkalab.attach.source import AttachSource
from tests.attach.lab_server import LabServer
from tests.attach.projection import agreeing


def _lag(projected: dict[str, Any], group: str) -> int | None:
    return next((g[8] for g in projected["groups"] if g[0] == group), None)


def test_a_steady_producer_and_a_group_that_reads_commits_and_pauses(lab: LabServer) -> None:
    source = AttachSource(Observer(client_config(lab.bootstrap), timeout_s=5.0), 1.0)
    actions = RealClientActions(client_config(lab.bootstrap), lambda: source.poll_once().view, allow_writes=True)
    try:
        lab.act("create_topic: {name: clicks, partitions: 2, replication_factor: 2}")
        started = actions.run(StartConsumer("web", "w1", ("clicks",), auto_offset_reset="earliest",
                                            enable_auto_commit=False))
        assert started.error is None
        assert actions.run(StartProducer("steady", "clicks", rate=200, key="user-{i}")).error is None
        taken = actions.run(StartProducer("steady", "clicks"))
        assert taken.error is not None and taken.error.name == "ILLEGAL_STATE"
        time.sleep(1.0)  # a steady producer sends on the wall clock: let it send some
        stopped = actions.run(StopProducer("steady"))
        assert isinstance(stopped.result, StopProducerResult)
        sent = stopped.result.sent
        assert sent >= 50 and stopped.result.acknowledged == sent and stopped.result.failed == 0
        own = lab.view().topic("clicks")
        assert own is not None and sum(p.high_watermark for p in own.partitions) == sent

        consumed = actions.run(Consume("web", "w1", max_records=sent, timeout_ms=20_000))
        assert isinstance(consumed.result, ConsumeResult) and len(consumed.result.records) == sent
        by_partition = {p.partition: p.high_watermark for p in own.partitions}
        assert {(r.partition, r.offset) for r in consumed.result.records} == {
            (p, o) for p, hw in by_partition.items() for o in range(hw)}
        committed = actions.run(Commit("web", "w1"))
        assert isinstance(committed.result, CommitResult)
        assert committed.result.committed == {f"clicks-{p}": hw for p, hw in sorted(by_partition.items())}
        # The attached group view: the member, its assignment, commits and LAG, as the lab's own.
        agreeing(lab, source, until=lambda p: _lag(p, "web") == 0)

        assert actions.run(PauseConsumer("web", "w1")).error is None
        assert actions.run(Produce("clicks", key="late-{i}", count=5)).error is None
        paused = actions.run(Consume("web", "w1", max_records=5, timeout_ms=1500))
        assert paused.result == ConsumeResult(())  # a paused consumer does not poll
        agreeing(lab, source, until=lambda p: _lag(p, "web") == 5)  # the commit stays; the log grew by five
        assert actions.run(ResumeConsumer("web", "w1")).error is None
        resumed = actions.run(Consume("web", "w1", max_records=5, timeout_ms=20_000))
        assert isinstance(resumed.result, ConsumeResult) and len(resumed.result.records) == 5
        assert actions.run(StopConsumer("web", "w1")).error is None
        gone = actions.run(Commit("web", "w1"))
        assert gone.error is not None and gone.error.name == "INVALID_ARGUMENT"
        agreeing(lab, source, until=lambda p: any(g[0] == "web" and g[6] == [] for g in p["groups"]))
    finally:
        actions.close()


@pytest.mark.parametrize(("step", "allow_writes", "error"), [
    ("start_consumer", False, "CLUSTER_READ_ONLY"),  # joining a group rebalances it: a change to someone's cluster
    ("consume", False, "CLUSTER_READ_ONLY"),
    ("commit", False, "CLUSTER_READ_ONLY"),
    ("start_producer", False, "CLUSTER_READ_ONLY"),
    ("seek", False, None), ("stop_consumer", False, None), ("start_consumer", True, None),
    ("kill_consumer", True, "LAB_ONLY"),  # librdkafka cannot leave without LeaveGroup: not available yet
])
def test_which_client_steps_need_writes(step: str, allow_writes: bool, error: str | None) -> None:
    refused = refusal(step, allow_writes)
    assert (refused.name if refused is not None else None) == error
