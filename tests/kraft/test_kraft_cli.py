"""The command line's KRaft options: --mode and --controllers reach the TUI, --version names both releases."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab import tui
from kafkalab.cli import main


def test_mode_and_controllers_reach_the_tui(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(tui, "run_tui", lambda *args: calls.append(args) or 0)
    assert main(["--data-dir", str(tmp_path), "--mode", "kraft", "--controllers", "5"]) == 0
    assert main(["--data-dir", str(tmp_path)]) == 0
    assert [call[6:8] for call in calls] == [("kraft", 5), (None, None)]


def test_version_names_kafka_39_for_zookeeper_mode_and_41_for_kraft(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    out = capsys.readouterr().out
    assert "Apache Kafka 3.9 (ZooKeeper mode)" in out and "Apache Kafka 4.1 (KRaft mode)" in out


def test_a_bad_mode_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_status:
        main(["--mode", "zk"])
    assert exit_status.value.code == 2
    assert "invalid choice: 'zk'" in capsys.readouterr().err
