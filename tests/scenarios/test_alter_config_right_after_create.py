"""A topic's config can be changed as soon as create_topic returns (existence is checked in ZooKeeper)."""

from pathlib import Path

import pytest

from kafkalab.cli import main

SCENARIO = """
name: alter at once
cluster: {brokers: 3, seed: 12}
steps:
  - create_topic: {name: audit, partitions: 3, replication_factor: 3}
  - alter_config: {topic: audit, set: {retention.ms: 3600000}}
  - expect:
      event: {type: TopicConfigChanged, where: {topic: audit}}
      znode: {path: /config/changes/config_change_0000000000, exists: true}
  - alter_config: {topic: missing, set: {retention.ms: 1}}
    expect_error: UNKNOWN_TOPIC_OR_PARTITION
"""


def test_alter_config_right_after_create(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    assert main(["run", str(path)]) == 0, capsys.readouterr().out
