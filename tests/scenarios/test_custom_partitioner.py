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


def test_a_custom_partitioner_that_raises_fails_the_step_not_the_run(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    assert main(["run", str(path), "--json", "--partitioner", "scenario_partitioners:failing"]) == 1
    step = json.loads(capsys.readouterr().out)["steps"][1]
    assert step["error"] == "INVALID_ARGUMENT"
    assert step["message"].endswith("The partitioner scenario_partitioners:failing raised ZeroDivisionError: "
                                    "\"the user's code failed\".")
