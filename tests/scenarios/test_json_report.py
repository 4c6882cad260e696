"""The ``--json`` report: each action's result has the fields README's "The JSON report" documents."""

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from kafkalab.actions import REGISTRY
from kafkalab.actions.results import ConsumedRecord, ConsumeResult, ProducedRecord, ProduceResult
from kafkalab.cli import main

EVERY_ACTION = Path(__file__).parent / "files" / "every_action.yaml"
#: The KRaft controller quorum's actions, on a KRaft cluster.
EVERY_KRAFT_ACTION = Path(__file__).parent / "files" / "every_kraft_action.yaml"

PARTITION_FIELDS = ["partition", "leader", "replicas", "isr", "leader_epoch", "log_start_offset", "high_watermark",
                    "log_end_offset", "last_stable_offset"]
#: Each action's result fields, in order, as README documents them.
RESULT_FIELDS = {
    "create_topic": ["topic", "partitions", "replication_factor"],
    "delete_topic": ["topic"],
    "alter_config": ["topic", "set", "delete"],
    "describe_topic": ["topic", "partitions"],
    "kill_broker": ["broker"],
    "restart_broker": ["broker"],
    "shutdown_broker": ["broker"],
    "cut_link": ["between"],
    "heal_link": ["between"],
    "set_latency": ["between", "ms"],
    "elect_leaders": ["results"],
    "produce": ["records"],
    "start_producer": ["id", "topic", "rate"],
    "stop_producer": ["id", "sent", "acknowledged", "failed"],
    "start_consumer": ["group", "client_id", "topics"],
    "stop_consumer": ["group", "client_id"],
    "kill_consumer": ["group", "client_id"],
    "pause_consumer": ["group", "client_id"],
    "resume_consumer": ["group", "client_id"],
    "start_processor": ["group", "client_id", "source", "sink", "transform"],
    "consume": ["records"],
    "commit": ["group", "client_id", "committed"],
    "seek": ["topic", "partition", "position"],
    "describe_group": ["group", "state", "generation", "strategy", "members"],
    "describe_transaction": ["transactional_id", "state", "producer_id", "producer_epoch", "partitions", "timeout_ms"],
    "describe_producers": ["topic", "partition", "producers"],
    "wait": ["waited_ms"],
    "expect": ["ok", "checks"],
    "note": ["text"],
    "kill_controller": ["controller"],
    "restart_controller": ["controller"],
    "describe_quorum": ["leader_id", "leader_epoch", "high_watermark", "voters", "observers"],
}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", str(EVERY_ACTION), "--json"])
    assert code == 1  # the last step is an expectation that fails on purpose
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def kraft_report() -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["run", str(EVERY_KRAFT_ACTION), "--json"]) == 0
    return json.loads(out.getvalue())


def steps_of(report: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in report["steps"] if step["action"] == action]


def test_the_scenarios_run_every_action_of_the_vocabulary(report: dict[str, Any],
                                                           kraft_report: dict[str, Any]) -> None:
    ran = {step["action"] for step in report["steps"] + kraft_report["steps"]}
    assert ran == set(REGISTRY) == set(RESULT_FIELDS)


@pytest.mark.parametrize("action", sorted(RESULT_FIELDS))
def test_each_result_has_the_documented_fields(report: dict[str, Any], kraft_report: dict[str, Any],
                                               action: str) -> None:
    for step in steps_of(report, action) + steps_of(kraft_report, action):
        if "error" not in step:
            assert list(step["result"]) == RESULT_FIELDS[action], step


def test_describe_quorum_reports_each_voters_and_observers_lag(kraft_report: dict[str, Any]) -> None:
    before, after = (step["result"] for step in steps_of(kraft_report, "describe_quorum"))
    assert before["leader_id"] == 101
    assert after["leader_id"] in (102, 103) and after["leader_epoch"] > before["leader_epoch"]
    assert [v["id"] for v in after["voters"]] == [101, 102, 103]
    assert [o["id"] for o in after["observers"]] == [1, 2, 3]
    assert all(list(r) == ["id", "log_end_offset", "lag"] and r["lag"] == 0
               for r in after["voters"] + after["observers"])


def test_records_produced_say_where_each_went(report: dict[str, Any]) -> None:
    records = steps_of(report, "produce")[0]["result"]["records"]
    assert len(records) == 5
    assert all(list(record) == ["topic", "partition", "offset"] for record in records)
    assert all(isinstance(record["offset"], int) for record in records)


def test_records_consumed_carry_their_key_and_value_as_text(report: dict[str, Any]) -> None:
    records = steps_of(report, "consume")[0]["result"]["records"]
    assert len(records) == 3
    assert all(list(record) == ["topic", "partition", "offset", "key", "value"] for record in records)
    assert all(isinstance(record["value"], str) for record in records)


def test_nested_results_are_plain_json(report: dict[str, Any]) -> None:
    partitions = steps_of(report, "describe_topic")[0]["result"]["partitions"]
    assert [list(p) for p in partitions] == [PARTITION_FIELDS] * 3
    member = steps_of(report, "describe_group")[0]["result"]["members"][0]
    assert list(member) == ["client_id", "assignment"]
    assert list(member["assignment"][0]) == ["topic", "partition"]
    assert steps_of(report, "cut_link")[0]["result"] == {"between": [1, 2]}
    assert steps_of(report, "set_latency")[0]["result"] == {"between": [1, "zk"], "ms": 3}


def test_a_step_that_failed_has_an_empty_result_and_the_error(report: dict[str, Any]) -> None:
    failed = [step for step in report["steps"] if "error" in step]
    assert [(step["action"], step["result"], step["error"]) for step in failed] == [
        ("produce", {}, "UNKNOWN_TOPIC_OR_PARTITION")]
    assert report["steps"][-1]["result"]["ok"] is False


def test_a_record_that_failed_has_its_error_instead_of_an_offset() -> None:
    result = ProduceResult((ProducedRecord("orders", 1, 7), ProducedRecord("orders", None, error="NOT_ENOUGH_REPLICAS")))
    assert result.as_json() == {"records": [{"topic": "orders", "partition": 1, "offset": 7},
                                            {"topic": "orders", "partition": None, "error": "NOT_ENOUGH_REPLICAS"}]}
    assert result.landed == (ProducedRecord("orders", 1, 7),)
    assert ConsumeResult((ConsumedRecord("orders", 0, 3, None, "v"),)).as_json() == {
        "records": [{"topic": "orders", "partition": 0, "offset": 3, "key": None, "value": "v"}]}


WARNED = """
name: warned
cluster: {brokers: 3}
steps:
  - create_topic: {name: quiet, partitions: 1, replication_factor: 3}
  - create_topic: {name: lonely, partitions: 1, replication_factor: 1, config: {min.insync.replicas: 2}}
  - create_topic: {name: metrics.eu, partitions: 1, replication_factor: 1}
"""


def test_create_topic_warns_of_a_topic_that_refuses_acks_all_and_of_a_name_that_may_collide(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "warned.yaml"
    path.write_text(WARNED)
    assert main(["run", str(path), "--json"]) == 0
    quiet, lonely, dotted = (step["result"] for step in json.loads(capsys.readouterr().out)["steps"])
    assert "warning" not in quiet
    assert lonely["warning"] == ("min.insync.replicas=2 is more than the replication factor 1: every produce with "
                                 "acks=all will fail with NOT_ENOUGH_REPLICAS.")
    assert dotted["warning"].startswith("Due to limitations in metric names")
    assert main(["run", str(path)]) == 0
    assert "WARNING: min.insync.replicas=2 is more than the replication factor 1" in capsys.readouterr().out


def test_describe_producers_shows_the_open_transaction_s_producer(report: dict[str, Any]) -> None:
    transaction = steps_of(report, "describe_transaction")[0]["result"]
    result = steps_of(report, "describe_producers")[0]["result"]
    (producer,) = [p for p in result["producers"] if p["producer_id"] == transaction["producer_id"]]
    assert list(producer) == ["producer_id", "producer_epoch", "latest_coordinator_epoch", "last_sequence",
                              "last_timestamp", "current_transaction_start_offset"]
    assert producer["producer_epoch"] == transaction["producer_epoch"]
    assert producer["current_transaction_start_offset"] is not None and producer["last_sequence"] >= 0


def test_describe_transaction_shows_the_transaction_a_produce_step_left_open(report: dict[str, Any]) -> None:
    result = steps_of(report, "describe_transaction")[0]["result"]
    assert (result["transactional_id"], result["state"], result["producer_epoch"], result["timeout_ms"]) == \
        ("tx", "Ongoing", 0, 60_000)
    assert result["partitions"] == [{"topic": "orders", "partition": 0}]
