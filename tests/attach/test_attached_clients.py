"""Consumers and steady producers started on a real cluster through confluent-kafka: the lab's steps, the lab's
results, and the attached views' groups and LAG agree with the lab's own views of the same cluster."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("confluent_kafka")

from kafkalab.actions.client_actions import (
    Commit,
    Consume,
    KillConsumer,
    PauseConsumer,
    Produce,
    ResumeConsumer,
    StartConsumer,
    StartProcessor,
    StartProducer,
    StopConsumer,
    StopProducer,
)
from kafkalab.actions.results import (
    CommitResult,
    ConsumeResult,
    ConsumerResult,
    StartProcessorResult,
    StopProducerResult,
)
from kafkalab.attach.actions import RealClientActions, refusal
from kafkalab.attach.client import client_config
from kafkalab.attach.observe import Observer
from kafkalab.attach.source import AttachSource
from kafkalab.events.groups import MemberRemoved
from kafkalab.events.transactions import TransactionMarkersWritten
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
    ("start_processor", False, "CLUSTER_READ_ONLY"),  # it joins a group and writes its sink
    ("seek", False, None), ("stop_consumer", False, None), ("start_consumer", True, None),
    ("kill_consumer", False, None), ("start_processor", True, None),
])
def test_which_client_steps_need_writes(step: str, allow_writes: bool, error: str | None) -> None:
    refused = refusal(step, allow_writes)
    assert (refused.name if refused is not None else None) == error


def _members(lab: LabServer, group: str) -> list[str]:
    found = lab.view().group(group)
    return sorted(m.client_id for m in found.members) if found is not None else []


def _wait(condition: Callable[[], bool], timeout_s: float = 45.0) -> None:
    """Poll ``condition`` on the wall clock, on which a real client's session runs out."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.1)


def test_a_killed_consumer_sends_no_leave_group_and_is_removed_at_its_session_timeout(lab: LabServer) -> None:
    source = AttachSource(Observer(client_config(lab.bootstrap), timeout_s=5.0), 1.0)
    actions = RealClientActions(client_config(lab.bootstrap), lambda: source.poll_once().view, allow_writes=True)
    try:
        lab.act("create_topic: {name: crashes, partitions: 2, replication_factor: 1}")
        for client in ("k1", "k2"):
            started = actions.run(StartConsumer("fragile", client, ("crashes",), enable_auto_commit=False,
                                                config={"session.timeout.ms": 6000}))
            assert started.error is None
        agreeing(lab, source, until=lambda p: any(g[0] == "fragile" and g[1] == "Stable" and len(g[6]) == 2
                                                   for g in p["groups"]))
        killed = actions.run(KillConsumer("fragile", "k1"))
        assert killed.error is None and killed.result == ConsumerResult("fragile", "k1")
        # A crash: no LeaveGroup, so the coordinator still counts k1 until session.timeout.ms passes without a
        # heartbeat (a clean stop would have left at once).
        assert _members(lab, "fragile") == ["k1", "k2"]
        _wait(lambda: _members(lab, "fragile") == ["k2"])
        assert any(isinstance(e, MemberRemoved) and e.client_id == "k1" and "session.timeout.ms=6000" in e.reason
                   for e in lab.events())
        gone = actions.run(Commit("fragile", "k1"))
        assert gone.error is not None and gone.error.name == "INVALID_ARGUMENT"
        # Its client id is free again, as in the lab.
        assert actions.run(StartConsumer("fragile", "k1", ("crashes",))).error is None
    finally:
        actions.close()


def test_a_stream_processor_forwards_transformed_records_and_commits_after_its_output(lab: LabServer) -> None:
    source = AttachSource(Observer(client_config(lab.bootstrap), timeout_s=5.0), 1.0)
    actions = RealClientActions(client_config(lab.bootstrap), lambda: source.poll_once().view, allow_writes=True)
    try:
        for topic in ("words", "shouted", "echoed"):
            lab.act(f"create_topic: {{name: {topic}, partitions: 2, replication_factor: 1}}")
        assert actions.run(Produce("words", key="k{i}", value="word {i}", count=20)).error is None
        started = actions.run(StartProcessor("shout", "p1", source="words", sink="shouted", transform="uppercase",
                                             commit_interval_ms=200))
        assert started.result == StartProcessorResult("shout", "p1", "words", "shouted", "uppercase")

        def sink_records(topic: str) -> int:
            view = lab.view().topic(topic)
            return sum(p.high_watermark for p in view.partitions) if view is not None else -1

        # Every record went through, and the input offsets were committed after the output was acknowledged.
        agreeing(lab, source, until=lambda p: _lag(p, "shout") == 0 and sum(
            part[6] for t in p["topics"] if t[0] == "shouted" for part in t[5]) == 20)
        read = actions.run(Consume("reader", "r1", max_records=20, timeout_ms=20_000, topics=("shouted",)))
        assert isinstance(read.result, ConsumeResult)
        assert sorted((r.key, r.value) for r in read.result.records) == sorted(
            (f"k{i}", f"WORD {i}") for i in range(20))
        # A clean stop commits and leaves the group at once.
        assert actions.run(StopConsumer("shout", "p1")).error is None
        assert _members(lab, "shout") == []

        # A crash between two commits: its output is out, its input offsets are not committed, so the group's next
        # processor sends those outputs again (at least once), and the group waits for its session to time out.
        assert actions.run(StartProcessor("echo", "p2", source="words", sink="echoed",
                                          commit_interval_ms=600_000)).error is None
        _wait(lambda: sink_records("echoed") == 20)
        assert actions.run(KillConsumer("echo", "p2")).error is None
        echo = lab.view().group("echo")
        assert echo is not None and [m.client_id for m in echo.members] == ["p2"]
        assert all(p.current_offset is None for p in echo.partitions)
    finally:
        actions.close()


def test_a_processor_whose_output_is_lost_stops_without_committing(lab: LabServer) -> None:
    actions = RealClientActions(client_config(lab.bootstrap), lambda: None, allow_writes=True)
    try:
        lab.act("create_topic: {name: big, partitions: 1, replication_factor: 1}")
        # The sink takes no batch over 200 bytes: the broker refuses the output for good (MESSAGE_TOO_LARGE).
        lab.act("create_topic: {name: small, partitions: 1, replication_factor: 1, config: {max.message.bytes: 200}}")
        assert actions.run(Produce("big", value="x" * 500)).error is None
        assert actions.run(StartProcessor("lossy", "p3", source="big", sink="small",
                                          commit_interval_ms=100)).error is None
        # At its next commit the output's failure stops it: its consumer leaves the group.
        _wait(lambda: any(isinstance(e, MemberRemoved) and e.group_id == "lossy" for e in lab.events()))
        assert _members(lab, "lossy") == []
        stopped = actions.run(Commit("lossy", "p3"))
        assert stopped.error is not None and stopped.error.name == "INVALID_ARGUMENT"
        assert "1 output record(s) to small failed (MESSAGE_TOO_LARGE)" in stopped.error.message
        # As a Kafka Streams thread dies on a lost output: the group's offsets are not moved past it.
        lossy = lab.view().group("lossy")
        assert lossy is not None and all(p.current_offset is None for p in lossy.partitions)
        # Its client id is free again.
        assert actions.run(StartConsumer("lossy", "p3", ("big",))).error is None
    finally:
        actions.close()


@pytest.mark.parametrize(("step", "error", "says"), [
    (StartProcessor("g", "c", source="words", sink="words"), "INVALID_ARGUMENT", "read its own output"),
    (StartProcessor("g", "c", source="words", sink="nowhere"), "UNKNOWN_TOPIC_OR_PARTITION", "sink topic 'nowhere'"),
])
def test_a_processor_the_lab_would_refuse_is_refused(
        lab: LabServer, step: StartProcessor, error: str, says: str) -> None:
    if lab.view().topic("words") is None:
        lab.act("create_topic: {name: words, partitions: 1, replication_factor: 1}")
    actions = RealClientActions(client_config(lab.bootstrap), lambda: None, allow_writes=True)
    try:
        refused = actions.run(step)
        assert refused.error is not None and refused.error.name == error and says in refused.error.message
    finally:
        actions.close()


def test_an_exactly_once_processor_that_crashes_leaves_its_outputs_to_read_uncommitted_consumers_only(
        lab: LabServer) -> None:
    actions = RealClientActions(client_config(lab.bootstrap), lambda: None, allow_writes=True)
    try:
        lab.act("create_topic: {name: ledger, partitions: 1, replication_factor: 1}")
        lab.act("create_topic: {name: ledger-out, partitions: 1, replication_factor: 1}")
        assert actions.run(Produce("ledger", value="entry {i}", count=5)).error is None
        assert actions.run(StartProcessor("ledgers", "e1", source="ledger", sink="ledger-out",
                                          processing_guarantee="exactly_once_v2",
                                          commit_interval_ms=600_000)).error is None

        def sink_end() -> int:
            view = lab.view().topic("ledger-out")
            return sum(p.high_watermark for p in view.partitions) if view is not None else -1

        # Its outputs are in the log, in a transaction that a crash leaves open.
        _wait(lambda: sink_end() == 5)
        assert actions.run(KillConsumer("ledgers", "e1")).error is None
        assert lab.act("describe_transaction: ledgers-e1")["result"]["state"] == "Ongoing"
        committed = actions.run(Consume("audit", "a1", max_records=5, timeout_ms=2_000, topics=("ledger-out",),
                                        isolation_level="read_committed"))
        assert isinstance(committed.result, ConsumeResult) and committed.result.records == ()
        everything = actions.run(Consume("peek", "u1", max_records=5, timeout_ms=20_000, topics=("ledger-out",)))
        assert isinstance(everything.result, ConsumeResult)
        assert [r.value for r in everything.result.records] == [f"entry {i}" for i in range(5)]
        # Nothing of its input was committed: the group's next processor reads it all again.
        ledgers = lab.view().group("ledgers")
        assert ledgers is not None and all(p.current_offset is None for p in ledgers.partitions)
    finally:
        actions.close()


def test_a_transaction_left_open_is_aborted_when_the_session_ends(lab: LabServer) -> None:
    lab.act("create_topic: {name: tabs, partitions: 1, replication_factor: 1}")
    actions = RealClientActions(client_config(lab.bootstrap), lambda: None, allow_writes=True)
    try:
        assert actions.run(Produce("tabs", value="tab {i}", count=3, transactional_id="bar", end="open")).error is None
        assert lab.act("describe_transaction: bar")["result"]["state"] == "Ongoing"
    finally:
        actions.close()
    # As Java's producer aborts on close(): read_committed readers are not held back until transaction.timeout.ms.
    assert lab.act("describe_transaction: bar")["result"]["state"] in ("PrepareAbort", "CompleteAbort")
    _wait(lambda: lab.act("describe_transaction: bar")["result"]["state"] == "CompleteAbort", timeout_s=10)


def test_an_idle_exactly_once_processor_writes_no_transaction(lab: LabServer) -> None:
    actions = RealClientActions(client_config(lab.bootstrap), lambda: None, allow_writes=True)
    try:
        lab.act("create_topic: {name: quiet, partitions: 1, replication_factor: 1}")
        lab.act("create_topic: {name: quiet-out, partitions: 1, replication_factor: 1}")
        assert actions.run(Produce("quiet", value="entry {i}", count=5)).error is None
        assert actions.run(StartProcessor("idle", "e1", source="quiet", sink="quiet-out",
                                          processing_guarantee="exactly_once_v2", commit_interval_ms=100)).error is None

        def markers() -> int:
            return sum(1 for event in lab.events() if isinstance(event, TransactionMarkersWritten)
                       and event.transactional_id == "idle-e1")

        def committed() -> int | None:
            group = lab.view().group("idle")
            return group.partitions[0].current_offset if group is not None and group.partitions else None

        _wait(lambda: committed() == 5)
        before = markers()
        # Twenty commit intervals with nothing read: as Kafka Streams (commitNeeded()), no transaction at all.
        time.sleep(2.0)
        assert markers() == before
    finally:
        actions.close()


def test_exactly_once_processors_commit_before_a_rebalance_so_read_committed_sees_each_output_once(
        lab: LabServer) -> None:
    actions = RealClientActions(client_config(lab.bootstrap), lambda: None, allow_writes=True)
    try:
        lab.act("create_topic: {name: moves, partitions: 2, replication_factor: 1}")
        lab.act("create_topic: {name: moves-out, partitions: 2, replication_factor: 1}")
        assert actions.run(Produce("moves", key="k{i}", value="move {i}", count=10)).error is None

        def start(client_id: str) -> None:
            assert actions.run(StartProcessor("movers", client_id, source="moves", sink="moves-out",
                                              processing_guarantee="exactly_once_v2",
                                              commit_interval_ms=600_000)).error is None

        def sink_end() -> int:
            view = lab.view().topic("moves-out")
            return sum(p.high_watermark for p in view.partitions) if view is not None else -1

        def both_assigned() -> bool:
            group = lab.view().group("movers")
            return group is not None and group.state == "Stable" and len(group.members) == 2 and all(
                m.assignment for m in group.members)

        start("m1")
        _wait(lambda: sink_end() == 10)  # its outputs, in a transaction open for ten minutes
        start("m2")
        # m1 commits that transaction with its input offsets before its partitions move (handleRevocation).
        _wait(both_assigned)
        assert actions.run(Produce("moves", key="k{i}", value="late {i}", count=4)).error is None
        _wait(lambda: sink_end() >= 16)  # the late outputs, and at least one COMMIT marker
        assert actions.run(StopConsumer("movers", "m1")).error is None
        assert actions.run(StopConsumer("movers", "m2")).error is None
        read = actions.run(Consume("audit", "a1", max_records=30, timeout_ms=5_000, topics=("moves-out",),
                                   isolation_level="read_committed"))
        assert isinstance(read.result, ConsumeResult)
        assert sorted(r.value for r in read.result.records) == sorted(
            [f"move {i}" for i in range(10)] + [f"late {i}" for i in range(4)])
    finally:
        actions.close()
