"""``kafkalab run FILE --bootstrap`` with consumer steps: a group started, read, committed, described and replayed
through confluent-kafka's consumer gives the lab's report, step for step (DescribeGroups does not return the
generation, so that one field is left out)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("confluent_kafka")

from kafkalab.attach.runner import run_on_cluster
from kafkalab.scenarios.model import load_scenario
from kafkalab.scenarios.runner import ScenarioRunner
from tests.attach.lab_server import LabServer

SEED = 11
# One partition: the order records come back in across partitions is each client's own (the lab's fetcher and
# librdkafka's interleave them differently), within one partition it is the log's.
SCENARIO = f"""\
name: A group reads, commits and replays
cluster: {{brokers: 3, seed: {SEED}}}
steps:
  - create_topic: {{name: events, partitions: 1, replication_factor: 3}}
  - produce: {{topic: events, key: "k{{i}}", value: "v{{i}}", count: 10}}
  - start_consumer: {{group: readers, client_id: r1, topics: [events], auto_offset_reset: earliest,
                      enable_auto_commit: false}}
  - consume: {{group: readers, client_id: r1, max_records: 10}}
  - commit: {{group: readers, client_id: r1}}
  - describe_group: readers
  - seek: {{group: readers, client_id: r1, topic: events, partition: 0, offset: 4}}
  - consume: {{group: readers, client_id: r1, max_records: 3}}
  - seek: {{group: readers, client_id: r1, topic: events, partition: 0, to: beginning}}
  - seek: {{group: readers, client_id: r1, topic: events, partition: 0, to: end}}
  - seek: {{group: readers, client_id: r1, topic: events, partition: 5, offset: 0}}
    expect_error: ILLEGAL_STATE
  - stop_consumer: {{group: readers, client_id: r1}}
  - commit: {{group: readers, client_id: r1}}
    expect_error: INVALID_ARGUMENT
  - consume: {{group: once, client_id: o1, topics: [events], max_records: 4}}
"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[LabServer]:
    server = LabServer(tmp_path / "serve", seed=SEED)
    yield server
    server.close()


def _in_the_lab_and_attached(tmp_path: Path, lab: LabServer, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``--json`` reports of the scenario ``text`` run in a lab of its own and with ``run --bootstrap`` on ``lab``."""
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    in_the_lab = ScenarioRunner(load_scenario(path)).run().as_json()
    assert in_the_lab["ok"] is True, in_the_lab
    out, err = io.StringIO(), io.StringIO()
    code = run_on_cluster(path, lab.bootstrap, {}, allow_writes=True, json_report=True, verbose=False, out=out,
                          err=err)
    attached = json.loads(out.getvalue())
    assert (code, err.getvalue()) == (0, ""), attached
    return in_the_lab, attached


def _without_generation(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**step, "result": {k: v for k, v in step["result"].items() if k != "generation"}}
            if step["action"] == "describe_group" and isinstance(step.get("result"), dict) else step
            for step in steps]


def test_consumer_steps_give_the_labs_report(tmp_path: Path, lab: LabServer) -> None:
    in_the_lab, attached = _in_the_lab_and_attached(tmp_path, lab, SCENARIO)
    assert _without_generation(attached["steps"]) == _without_generation(in_the_lab["steps"])
    consumed = attached["steps"][3]["result"]["records"]
    assert [(r["offset"], r["key"], r["value"]) for r in consumed] == [(i, f"k{i}", f"v{i}") for i in range(10)]
    assert attached["steps"][4]["result"]["committed"] == {"events-0": 10}
    # The temporary consumer committed on its clean close: its poll returned all ten records (the step kept four),
    # and a position is what poll() returned, as in Kafka. r1 left (no auto-commit): its commit stays.
    own = lab.view()
    once, readers = own.group("once"), own.group("readers")
    assert once is not None and [(p.current_offset, p.lag) for p in once.partitions] == [(10, 0)]
    assert readers is not None and readers.members == () and readers.partitions[0].current_offset == 10


PROCESSOR_SCENARIO = f"""\
name: A stream processor, stopped cleanly, and a consumer that crashes
cluster: {{brokers: 3, seed: {SEED}}}
steps:
  - create_topic: {{name: words, partitions: 1, replication_factor: 3}}
  - create_topic: {{name: shouted, partitions: 1, replication_factor: 3}}
  - produce: {{topic: words, key: "k{{i}}", value: "word {{i}}", count: 10}}
  - start_processor: {{group: shout, client_id: p1, source: words, sink: shouted, transform: uppercase,
                       commit_interval_ms: 100}}
  - consume: {{group: check, client_id: c1, topics: [shouted], max_records: 10}}
  - stop_consumer: {{group: shout, client_id: p1}}
  - start_consumer: {{group: crashy, client_id: k1, topics: [words]}}
  - kill_consumer: {{group: crashy, client_id: k1}}
  - kill_consumer: {{group: crashy, client_id: k1}}
    expect_error: INVALID_ARGUMENT
"""


def _shouted_the_words_and_committed_them(tmp_path: Path, lab: LabServer, scenario: str) -> None:
    """The scenario's report is the lab's, its fifth step read the ten words uppercased, and group ``shout``
    committed all ten."""
    in_the_lab, attached = _in_the_lab_and_attached(tmp_path, lab, scenario)
    assert attached["steps"] == in_the_lab["steps"]
    shouted = attached["steps"][4]["result"]["records"]
    assert [(r["key"], r["value"]) for r in shouted] == [(f"k{i}", f"WORD {i}") for i in range(10)]
    shout = lab.view().group("shout")
    assert shout is not None and [(p.current_offset, p.lag) for p in shout.partitions] == [(10, 0)]


def test_processor_and_kill_consumer_steps_give_the_labs_report(tmp_path: Path, lab: LabServer) -> None:
    # The processor's clean stop committed its input: nothing left to read.
    _shouted_the_words_and_committed_them(tmp_path, lab, PROCESSOR_SCENARIO)


TRANSACTIONS_SCENARIO = f"""\
name: Transactions that commit, abort and stay open across steps
cluster: {{brokers: 3, seed: {SEED}}}
steps:
  - create_topic: {{name: payments, partitions: 1, replication_factor: 3}}
  - produce: {{topic: payments, key: "c{{i}}", value: "paid {{i}}", count: 3, transactional_id: shop}}
  - produce: {{topic: payments, key: "c{{i}}", value: "refund {{i}}", count: 2, transactional_id: shop, end: abort}}
  - produce: {{topic: payments, key: "c{{i}}", value: "late {{i}}", count: 2, transactional_id: shop, end: open}}
  - produce: {{topic: payments, key: "c{{i}}", value: "later {{i}}", count: 1, transactional_id: shop}}
  - consume: {{group: committed, client_id: c1, topics: [payments], max_records: 6, isolation_level: read_committed}}
  - consume: {{group: everything, client_id: u1, topics: [payments], max_records: 8}}
"""


def test_transactional_produce_steps_give_the_labs_report(tmp_path: Path, lab: LabServer) -> None:
    in_the_lab, attached = _in_the_lab_and_attached(tmp_path, lab, TRANSACTIONS_SCENARIO)
    assert attached["steps"] == in_the_lab["steps"]
    # The aborted records are in the log (offsets 4-5, after the first commit's marker at 3) and only
    # read_uncommitted returns them; the open transaction was joined by the next step and committed with it.
    committed = [r["value"] for r in attached["steps"][5]["result"]["records"]]
    assert committed == ["paid 0", "paid 1", "paid 2", "late 0", "late 1", "later 0"]
    everything = [(r["offset"], r["value"]) for r in attached["steps"][6]["result"]["records"]]
    assert everything == [(0, "paid 0"), (1, "paid 1"), (2, "paid 2"), (4, "refund 0"), (5, "refund 1"),
                          (7, "late 0"), (8, "late 1"), (9, "later 0")]


EXACTLY_ONCE_SCENARIO = f"""\
name: An exactly_once_v2 stream processor, read read_committed
cluster: {{brokers: 3, seed: {SEED}}}
steps:
  - create_topic: {{name: words, partitions: 1, replication_factor: 3}}
  - create_topic: {{name: shouted, partitions: 1, replication_factor: 3}}
  - produce: {{topic: words, key: "k{{i}}", value: "word {{i}}", count: 10}}
  - start_processor: {{group: shout, client_id: p1, source: words, sink: shouted, transform: uppercase,
                       processing_guarantee: exactly_once_v2}}
  - consume: {{group: check, client_id: c1, topics: [shouted], max_records: 10, isolation_level: read_committed}}
  - stop_consumer: {{group: shout, client_id: p1}}
  - start_processor: {{group: shout, client_id: p1, source: words, sink: words, processing_guarantee: exactly_once_v2}}
    expect_error: INVALID_ARGUMENT
"""


def test_an_exactly_once_processor_gives_the_labs_report(tmp_path: Path, lab: LabServer) -> None:
    # The input offsets were committed in the processor's transactions (TxnOffsetCommit), not by its consumer.
    _shouted_the_words_and_committed_them(tmp_path, lab, EXACTLY_ONCE_SCENARIO)
    transaction = lab.act("describe_transaction: shout-p1")["result"]
    assert transaction["state"] == "CompleteCommit"


FENCING_SCENARIO = f"""\
name: A newer producer of a transactional id fences the one with an open transaction
cluster: {{brokers: 3, seed: {SEED}}}
steps:
  - create_topic: {{name: tills, partitions: 1, replication_factor: 3}}
  - produce: {{topic: tills, value: "first {{i}}", transactional_id: till, end: open}}
  - produce: {{topic: tills, value: "second {{i}}", transactional_id: till, config: {{linger.ms: 7}}}}
  - produce: {{topic: tills, value: "late {{i}}", transactional_id: till}}
    expect_error: PRODUCER_FENCED
  - consume: {{group: audit, client_id: a1, topics: [tills], max_records: 1, isolation_level: read_committed}}
"""


def test_a_fenced_transactional_producer_fails_as_in_the_lab(tmp_path: Path, lab: LabServer) -> None:
    """Another configuration is another producer of the id (the session keeps one per configuration): its
    initialization aborts the open transaction and fences the first, whose next step fails with PRODUCER_FENCED (the
    message is librdkafka's own, so only the error is compared)."""
    in_the_lab, attached = _in_the_lab_and_attached(tmp_path, lab, FENCING_SCENARIO)

    def outcomes(report: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(step["action"], step["ok"], step.get("error"), step.get("result")) for step in report["steps"]]

    assert outcomes(attached) == outcomes(in_the_lab)
    assert [r["value"] for r in attached["steps"][4]["result"]["records"]] == ["second 0"]
