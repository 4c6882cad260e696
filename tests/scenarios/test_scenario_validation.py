"""Invalid scenario files are rejected before anything runs, with file:line:column messages."""

from pathlib import Path

import pytest

from kafkalab.cli import main
from kafkalab.scenarios.model import parse_scenario
from kafkalab.scenarios.yaml_source import SourceError


def problems(text: str) -> list[str]:
    with pytest.raises(SourceError) as caught:
        parse_scenario(text, "s.yaml")
    return [f"{mark}: {message}" for mark, message in caught.value.problems]


def test_unknown_step_suggests_the_closest_name() -> None:
    found = problems("name: x\nsteps:\n  - kil_broker: 1\n")
    assert found[0].startswith("s.yaml:3:5: unknown step 'kil_broker' (did you mean 'kill_broker'?)")


def test_wrong_type_points_at_the_value() -> None:
    found = problems("name: x\nsteps:\n  - kill_broker: one\n")
    assert found == ["s.yaml:3:18: kill_broker.broker must be an integer, not 'one'"]


def test_unknown_field_and_missing_field() -> None:
    found = problems("name: x\nsteps:\n  - create_topic: {partitons: 2}\n")
    assert "s.yaml:3:20: unknown field 'partitons' in create_topic (did you mean 'partitions'?)" in found[0]
    assert found[1] == "s.yaml:3:19: create_topic is missing required field 'name'"


def test_invalid_yaml_reports_position() -> None:
    found = problems("name: x\nsteps: [\n")
    assert found[0].startswith("s.yaml:3:1: invalid YAML")


def test_topic_reference_must_exist() -> None:
    found = problems("name: x\nsteps:\n  - create_topic: {name: orders}\n  - describe_topic: ordres\n")
    assert found == ["s.yaml:4:5: step 1 (describe_topic) uses topic 'ordres', which no earlier step creates "
                     "(did you mean 'orders'?)"]


def test_a_step_expecting_an_error_may_name_a_missing_topic() -> None:
    scenario = parse_scenario("name: x\nsteps:\n  - describe_topic: nope\n    expect_error: UNKNOWN_TOPIC_OR_PARTITION\n",
                              "s.yaml")
    assert scenario.steps[0].expect_error == "UNKNOWN_TOPIC_OR_PARTITION"


def test_unknown_error_name_is_rejected() -> None:
    found = problems("name: x\nsteps:\n  - kill_broker: 1\n    expect_error: NOT_ENOUGH_REPLICA\n")
    assert "unknown Kafka error 'NOT_ENOUGH_REPLICA' (did you mean 'NOT_ENOUGH_REPLICAS'?)" in found[0]


def test_minimum_and_cluster_config_are_checked() -> None:
    found = problems("name: x\ncluster: {brokers: 3, config: {replica.lag.time.max: 5}}\nsteps:\n"
                     "  - create_topic: {name: t, partitions: 0}\n")
    assert any("create_topic.partitions must be at least 1, not 0" in p for p in found)
    assert any("Unknown broker config 'replica.lag.time.max'" in p for p in found)


def test_yaml_tags_that_build_objects_are_refused() -> None:
    found = problems("name: !!python/object/apply:os.system ['echo hi']\nsteps: []\n")
    assert "invalid YAML" in found[0]


def test_run_exits_2_and_touches_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: x\nsteps:\n  - kil_broker: 1\n")
    data_dir = tmp_path / "data"
    assert main(["run", str(scenario), "--data-dir", str(data_dir)]) == 2
    assert "bad.yaml:3:5: unknown step" in capsys.readouterr().err
    assert not data_dir.exists()
