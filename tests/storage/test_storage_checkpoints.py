"""Offset checkpoint files: Kafka's text format, atomic replacement and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.checkpoints import read_offsets, write_offsets


def test_round_trip_in_kafkas_format(tmp_path: Path) -> None:
    path = tmp_path / "recovery-point-offset-checkpoint"
    offsets = {("orders.v1", 2): 40, ("__consumer_offsets", 13): 7, ("my-topic_x", 0): 0}
    write_offsets(path, offsets)
    assert path.read_text() == "0\n3\n__consumer_offsets 13 7\nmy-topic_x 0 0\norders.v1 2 40\n"
    assert read_offsets(path) == offsets
    assert not (tmp_path / "recovery-point-offset-checkpoint.tmp").exists()


def test_missing_or_empty_file_reads_as_no_entries(tmp_path: Path) -> None:
    assert read_offsets(tmp_path / "absent") == {}
    (tmp_path / "empty").write_text("")
    assert read_offsets(tmp_path / "empty") == {}


def test_rewrite_replaces_the_old_content(tmp_path: Path) -> None:
    path = tmp_path / "replication-offset-checkpoint"
    write_offsets(path, {("a", 0): 1, ("b", 0): 2})
    write_offsets(path, {("a", 0): 5})
    assert read_offsets(path) == {("a", 0): 5}


@pytest.mark.parametrize("text, words", [
    ("1\n0\n", "line 1"),
    ("0\nx\n", "line 2"),
    ("0\n1\nt 0\n", "line 3"),
    ("0\n1\nt zero 4\n", "field 2"),
    ("0\n2\nt 0 4\n", "Expected 2 entries"),
])
def test_malformed_file_names_the_file_and_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "log-start-offset-checkpoint"
    path.write_text(text)
    with pytest.raises(KafkaError) as info:
        read_offsets(path)
    assert info.value.error is Errors.KAFKA_STORAGE_ERROR
    assert words in info.value.message and "log-start-offset-checkpoint" in info.value.message
