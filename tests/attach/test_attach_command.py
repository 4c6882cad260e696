"""``kafkalab attach``: what stops it before the TUI opens is one line and exit 2."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from kafkalab.attach.client import MISSING_CLIENT
from kafkalab.cli import main


def _refused_port() -> int:
    """A port nothing listens on (bound, then released)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def test_without_confluent_kafka(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)
    assert main(["attach", "--bootstrap", "127.0.0.1:9092"]) == 2
    assert capsys.readouterr().err == f"kafkalab: {MISSING_CLIENT}\n"


def test_an_unusable_command_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "client.properties"
    path.write_text("security.protocol\n")
    assert main(["attach", "--bootstrap", "127.0.0.1:9092", "--command-config", str(path)]) == 2
    assert capsys.readouterr().err == f"kafkalab: {path}:1: expected key=value, got 'security.protocol'\n"


def test_a_config_key_the_client_does_not_know(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("confluent_kafka")
    path = tmp_path / "client.properties"
    path.write_text("no.such.setting=1\n")
    assert main(["attach", "--bootstrap", "127.0.0.1:9092", "--command-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kafkalab: the client refused its config:") and "no.such.setting" in err
    assert err.count("\n") == 1


def test_a_cluster_that_does_not_answer(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("confluent_kafka")
    port = _refused_port()
    assert main(["attach", "--bootstrap", f"127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    # librdkafka times out, or gives up at once when every broker refuses: either way one line.
    assert err.startswith(f"kafkalab: 127.0.0.1:{port} did not answer: ") and err.count("\n") == 1


def test_an_interval_too_short(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attach", "--bootstrap", "127.0.0.1:9092", "--interval", "0.1"]) == 2
    assert "--interval must be at least 0.5 seconds" in capsys.readouterr().err
