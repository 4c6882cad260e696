"""The `topic`, `records` and `link` expectations: a topic's shape, what a partition's log holds, network links."""

import json
from pathlib import Path

import pytest

from kafkalab.cli import main
from kafkalab.scenarios.model import parse_scenario
from kafkalab.scenarios.yaml_source import SourceError

SCENARIO = """
name: checks
cluster: {brokers: 3, seed: 1}
steps:
  - create_topic: {name: t, partitions: 3, replication_factor: 2}
  - expect: {topic: {topic: t, exists: true, partitions: 3, replication_factor: 2, records: 0,
                     partitions_with_records: 0}}
  - expect: {topic: {topic: missing, exists: false}}
  - produce: {topic: t, value: "v-{i}", count: 6, partitioner: round-robin}
  - produce: {topic: t, value: solo, partition: 2}
  - expect:
      topic: {topic: t, records: 7, partitions_with_records: 3}
      records:
        - {topic: t, partition: 0, value: v-0}
        - {topic: t, partition: 0, offset: 1, value: v-3, count: 1}
        - {topic: t, partition: 2, value: solo, count: 1}
        - {topic: t, partition: 2, at_least: 3}
        - {topic: t, partition: 1, value: v-0, count: 0}
  - expect: {records: {topic: t, partition: 1, value: v-4, broker: 3}}
  - expect: {records: {topic: t, partition: 0, value: never-sent}}
"""


def test_topic_and_records_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    assert main(["run", str(path), "--json"]) == 1
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert [step["ok"] for step in steps] == [True, True, True, True, True, True, True, False]
    topic = steps[1]["result"]["checks"][0]
    assert topic["actual"] == {"topic": "t", "exists": True, "partitions": 3, "replication_factor": 2,
                               "records": 0, "partitions_with_records": 0}
    follower_read = steps[6]["result"]["checks"][0]
    assert follower_read["actual"] == {"broker": 3, "count": 1, "offsets": [1]}
    missing = steps[7]["result"]["checks"][0]
    assert missing["ok"] is False and missing["actual"]["count"] == 0


def test_a_missing_topic_fails_unless_expected_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\ncluster: {brokers: 1}\nsteps:\n  - create_topic: {name: t}\n"
                    "  - delete_topic: t\n  - expect: {topic: {topic: t}}\n    allow_errors: true\n")
    assert main(["run", str(path), "--json"]) == 1
    check = json.loads(capsys.readouterr().out)["steps"][2]["result"]["checks"][0]
    assert check["actual"] == {"topic": "t", "exists": False} and check["ok"] is False


def test_records_checks_name_topics_that_must_exist() -> None:
    with pytest.raises(SourceError) as caught:
        parse_scenario("name: x\nsteps:\n  - create_topic: {name: orders}\n"
                       "  - expect: {records: {topic: order, partition: 0, value: v}}\n", "s.yaml")
    assert "uses topic 'order', which no earlier step creates (did you mean 'orders'?)" in str(caught.value)


LINKS = """
name: links
cluster: {brokers: 2}
steps:
  - expect: {link: [{between: [1, 2], up: true}, {between: [zk, 2], up: true}]}
  - cut_link: [2, 1]
  - cut_link: [2, zk]
  - expect: {link: [{between: [1, 2], up: false}, {between: [zk, 2], up: false}, {between: [1, zk], up: true}]}
  - heal_link: [1, 2]
  - expect: {link: {between: [1, 2], up: true}}
  - expect: {link: {between: [1, 7], up: true}}
"""


def test_link_checks_ignore_the_order_of_the_ends(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(LINKS)
    assert main(["run", str(path), "--json"]) == 1
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert [step["ok"] for step in steps] == [True, True, True, True, True, True, False]
    assert steps[3]["result"]["checks"][0]["actual"] == {"between": ["broker-1", "broker-2"], "up": False}
    assert "error" in steps[6]["result"]["checks"][0]["actual"]
