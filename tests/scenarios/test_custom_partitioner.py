"""YAML names only built-in partitioners; `partitioner: custom` uses the function given on the command line."""

import json
from pathlib import Path

import pytest

from kafkalab.cli import main

SCENARIO = """
name: custom
cluster: {brokers: 1}
steps:
  - create_topic: {name: t, partitions: 4}
  - produce: {topic: t, key: "k{i}", count: 6, partitioner: custom}
"""


def test_custom_partitioner_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    assert main(["run", str(path), "--json", "--partitioner", "scenario_partitioners:last_partition"]) == 0
    records = json.loads(capsys.readouterr().out)["steps"][1]["result"]["records"]
    assert {r["partition"] for r in records} == {3}


def test_custom_partitioner_missing_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    assert main(["run", str(path), "--json"]) == 1
    step = json.loads(capsys.readouterr().out)["steps"][1]
    assert step["error"] == "INVALID_CONFIG" and "--partitioner" in step["message"]


GUARDED = """
name: guarded
cluster: {brokers: 1}
steps:
  - create_topic: {name: t, partitions: 4}
  - produce: {topic: t, key: "k{i}", count: 3, partitioner: custom, expect_error: %s}
  - produce: {topic: t, key: "k{i}", count: 3}
"""


@pytest.mark.parametrize("function, error, words", [
    ("scenario_partitioners:broken", "INVALID_ARGUMENT",
     ["scenario_partitioners:broken raised ZeroDivisionError: 'integer division or modulo by zero'"]),
    ("os:getcwd", "INVALID_CONFIG", ["'os:getcwd' cannot be called as fn(topic, key, value, num_partitions)"]),
])
def test_a_broken_partitioner_fails_its_send_by_name_and_the_run_goes_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], function: str, error: str, words: list[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GUARDED % error)
    assert main(["run", str(path), "--json", "--partitioner", function]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    failed, after = report["steps"][1], report["steps"][2]
    assert failed["error"] == error and all(word in failed["message"] for word in words), failed["message"]
    assert after["ok"] and len(after["result"]["records"]) == 3
    assert report["process_failures"] == [] and "Traceback" not in err
