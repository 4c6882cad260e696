"""Invalid scenario files are rejected before anything runs, with file:line:column messages."""

from pathlib import Path

import pytest
import yaml

from kafkalab.cli import main
from kafkalab.scenarios import yaml_source
from kafkalab.scenarios.model import parse_scenario
from kafkalab.scenarios.yaml_source import SourceError, read_source


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


LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])


@pytest.fixture(params=LOADERS, ids=lambda loader: loader.__name__)
def yaml_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each check holds with PyYAML's pure-Python parser and with libyaml's."""
    monkeypatch.setattr(yaml_source, "_LOADER", request.param)


@pytest.mark.usefixtures("yaml_loader")
@pytest.mark.parametrize("text, found", [
    ("name: x\nsteps:\n  - expect:\n" + "".join("    " + "  " * n + "a:\n" for n in range(70)), "more than 64 levels deep"),
    ("name: x\nsteps:\n  - note: " + "[" * 70 + "]" * 70 + "\n", "nest"),
    ("name: x\nsteps: [" + ", ".join(["1"] * 100_001) + "]\n", "more than 100,000 values"),
    ("name: x\na: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nsteps: []\n", "s.yaml:6:"),
    ("name: x\nsteps: &s [*s]\n", "s.yaml:2:12: invalid YAML: found undefined alias 's'"),
    ("name: x\nsteps:\n  - note: a\x07b\n", "s.yaml:3:12: invalid YAML: the character '\\x07' is not allowed"),
    ("name: x\nsteps:\n  - kill_broker: " + "1" * 5000 + "\n", "s.yaml:3:18: invalid YAML: '1111"),
    ("name: x\nsteps:\n  - wait: .nan\n", "s.yaml:3:11: wait.ms must be a finite number, not nan"),
    ("name: x\nname: y\nsteps: []\n", "s.yaml:2:1: duplicate key 'name' (first at s.yaml:1:1)"),
    ("name: x\nsteps: []\n---\nname: y\n", "s.yaml:3:1: invalid YAML: expected a single document"),
    ("# nothing\n", "s.yaml:1:1: the file is empty"),
    ("name: !!binary aGk=\nsteps: []\n", "the tag 'tag:yaml.org,2002:binary' is not allowed"),
])
def test_hostile_yaml_is_refused_at_its_position(text: str, found: str) -> None:
    assert any(found in problem for problem in problems(text)), problems(text)


def test_files_that_are_not_utf8_are_refused_at_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes("name: café\nsteps:\n  - note: é ".encode() + b"\xff\n")  # columns count characters
    with pytest.raises(SourceError) as caught:
        read_source(path)
    assert str(caught.value) == f"{path}:3:13: the file is not UTF-8 text (byte 0xff cannot be read); save it as UTF-8"
    path.write_bytes(b"\xef\xbb\xbfname: x\n")  # a UTF-8 byte order mark is fine
    assert read_source(path) == "name: x\n"
