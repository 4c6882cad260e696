"""The `metadata` expectation: committed records of KRaft's metadata log, by type, data fields and topic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kafkalab.cli import main

SCENARIO = """
name: metadata
cluster: {mode: kraft, controllers: 3, brokers: 3, seed: 21}
steps:
  - create_topic: {name: payments, partitions: 3, replication_factor: 3, config: {min.insync.replicas: 2}}
  - create_topic: {name: audit, partitions: 1, replication_factor: 1}
  - expect:
      metadata:
        - {type: TOPIC_RECORD, where: {name: payments}, count: 1}
        - {type: PARTITION_RECORD, topic: payments, count: 3}
        - {type: PARTITION_RECORD, topic: audit, count: 1}
        - {type: PARTITION_RECORD, at_least: 4}
        - {type: PARTITION_RECORD, topic: payments, where: {partitionId: 2, replicas: [1, 2, 3]}}
        - {type: CONFIG_RECORD, topic: payments, where: {name: min.insync.replicas, value: "2"}}
        - {type: LeaderChange, where: {leaderId: 101}}
  - shutdown_broker: 1
  - wait: {ms: 3000}
  - expect:
      metadata:
        - {type: BROKER_REGISTRATION_CHANGE_RECORD, where: {brokerId: 1, fenced: 1}}
        - {type: PARTITION_CHANGE_RECORD, topic: payments, where: {partitionId: 2, leader: 2}}
  - expect:
      metadata:
        - {type: PARTITION_RECORD, topic: payments, count: 4}
        - {type: TOPIC_RECORD, where: {name: missing}}
"""


def run(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    main(["run", str(path), "--json", "--data-dir", str(tmp_path / "data")])
    return json.loads(capsys.readouterr().out)["steps"]


def test_metadata_records_are_matched_by_type_fields_and_topic(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    steps = run(tmp_path, SCENARIO, capsys)
    assert [step["ok"] for step in steps] == [True, True, True, True, True, True, False]
    assert all(check["ok"] for check in steps[2]["result"]["checks"])
    too_many, missing = steps[6]["result"]["checks"]
    assert too_many["expected"]["count"] == 4 and too_many["actual"] == {"count": 3} and not too_many["ok"]
    assert missing["actual"] == {"count": 0} and not missing["ok"]


def test_a_zookeeper_cluster_has_no_metadata_log_to_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = run(tmp_path, "name: zk\ncluster: {brokers: 1, seed: 1}\nsteps:\n"
                          "  - expect: {metadata: {type: TOPIC_RECORD}}\n", capsys)
    (check,) = steps[0]["result"]["checks"]
    assert check["ok"] is False and "ZooKeeper-mode" in check["actual"]["error"]
