"""Every shipped example scenario passes under `kafkalab run`, and validates against the JSON Schema."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from kafkalab.cli import main
from kafkalab.lessons.catalog import builtin_dir
from kafkalab.scenarios.schema import scenario_schema

EXAMPLES = sorted(builtin_dir("examples").glob("*.yaml"))


def test_there_are_at_least_eight_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_passes(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(path), "--json"])
    report = json.loads(capsys.readouterr().out)
    failed = [step for step in report["steps"] if not step["ok"]]
    assert code == 0 and report["ok"], failed


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_matches_the_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text()), scenario_schema())


def test_the_schema_rejects_an_unknown_step() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "steps": [{"kil_broker": 1}]}, scenario_schema())


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(scenario_schema())


def test_the_schema_states_the_upper_bounds_of_size_like_fields() -> None:
    definitions = scenario_schema()["$defs"]
    assert definitions["Produce"]["properties"]["count"]["maximum"] == 100_000
    assert definitions["CreateTopic"]["properties"]["partitions"]["maximum"] == 9_999
    assert definitions["Wait"]["anyOf"][0]["properties"]["ms"]["maximum"] == 3_600_000
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "steps": [{"produce": {"topic": "t", "count": 10**9}}]}, scenario_schema())
