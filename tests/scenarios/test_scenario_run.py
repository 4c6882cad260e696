"""Scenarios run headless: exit codes, expectations, errors and byte-identical JSON reports."""

import json
from pathlib import Path

import pytest

from kafkalab.cli import main

FAILOVER = """
name: failover
cluster: {brokers: 3, seed: 7}
steps:
  - create_topic: {name: orders, partitions: 3, replication_factor: 3, config: {min.insync.replicas: 2}}
  - wait: {ms: 1000}
  - kill_broker: 1
  - wait: {until: {event: {type: LeaderElected, where: {topic: orders, partition: 1}}}, timeout_ms: 60000}
  - expect: {partition: {topic: orders, partition: 1, leader: 2, isr: [2, 3]}, controller: 2}
  - restart_broker: 1
  - wait: {until: {partition: {topic: orders, partition: 1, isr: [1, 2, 3]}}}
  - describe_topic: orders
  - create_topic: {name: orders}
    expect_error: TOPIC_ALREADY_EXISTS
"""


def run(tmp_path: Path, text: str, *extra: str) -> tuple[int, str]:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text)
    code = main(["run", str(scenario), *extra])
    return code, scenario.name


def test_passing_scenario_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(tmp_path, FAILOVER)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Broker 2 leads orders-1 (was 1)" in out
    assert out.rstrip().endswith("PASSED")


def test_failed_expectation_exits_1_and_says_what_differed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(tmp_path, "name: x\nsteps:\n  - create_topic: {name: t}\n"
                            "  - expect: {partition: {topic: t, partition: 0, high_watermark: 5}}\n")
    out = capsys.readouterr().out
    assert code == 1
    assert "expected {'topic': 't', 'partition': 0, 'high_watermark': 5}, found" in out
    assert "'high_watermark': 0" in out
    assert out.count("expected {'topic': 't', 'partition': 0, 'high_watermark': 5}") == 1  # said once, not twice


def test_an_expect_step_expecting_an_error_says_it_got_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(tmp_path, "name: x\nsteps:\n  - create_topic: {name: t}\n"
                            "  - expect: {partition: {topic: t, partition: 0, high_watermark: 0}}\n"
                            "    expect_error: UNKNOWN_TOPIC_OR_PARTITION\n")
    assert code == 1
    assert "!! expected error UNKNOWN_TOPIC_OR_PARTITION but the step succeeded" in capsys.readouterr().out


def test_unexpected_kafka_error_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(tmp_path, "name: x\ncluster: {brokers: 1}\nsteps:\n"
                            "  - create_topic: {name: t, replication_factor: 3}\n  - note: never reached\n", "--json")
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False
    assert [s["action"] for s in report["steps"]] == ["create_topic"]
    assert report["steps"][0]["error"] == "INVALID_REPLICATION_FACTOR"


def test_allowed_error_is_in_the_result_but_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(tmp_path, "name: x\nsteps:\n  - kill_broker: 7\n    allow_errors: true\n", "--json")
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["steps"][0]["error"] == "INVALID_ARGUMENT"


def test_same_file_and_seed_give_the_same_json_byte_for_byte(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    run(tmp_path, FAILOVER, "--json", "--seed", "3")
    first = capsys.readouterr().out
    run(tmp_path, FAILOVER.replace("leader: 2, ", ""), "--json", "--seed", "3")
    run(tmp_path, FAILOVER, "--json", "--seed", "3")
    second = capsys.readouterr().out.split("\n}\n")[-2] + "\n}\n"
    assert first == second


def test_data_dir_persists_between_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    code, _ = run(tmp_path, "name: a\nsteps:\n  - create_topic: {name: kept, partitions: 2}\n", "--data-dir", str(data))
    assert code == 0
    code, _ = run(tmp_path, "name: b\nsteps:\n  - describe_topic: kept\n", "--data-dir", str(data), "--json")
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{"):])
    assert code == 0
    assert [p["partition"] for p in report["steps"][0]["result"]["partitions"]] == [0, 1]
