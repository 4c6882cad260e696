"""The command line never prints a traceback: an error it did not expect is one line and a log file.

``main`` (what tests call) lets such errors through, so an engine bug still fails a test
with its traceback; only the console script (``entry_point``) turns them into a line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hostile_cli import run_cli
from textual.app import App

from kafkalab import cli
from kafkalab.error_log import KEPT_LOGS, log_dir, write_error_log
from kafkalab.errors import Errors, KafkaError
from kafkalab.tui import AppCrashed, _run

LOGGED = re.compile(r"^kafkalab: unexpected error \((?P<what>.+)\); details in (?P<log>\S+)$")


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's log directory lives under ``tmp_path``."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def _fail_with(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def fail(argv: object) -> int:
        raise error

    monkeypatch.setattr(cli, "_main", fail)


def test_an_unexpected_error_is_one_line_naming_a_log_with_the_traceback(
        state_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fail_with(monkeypatch, RuntimeError("the engine broke\nacross lines"))
    assert cli.entry_point() == cli.UNEXPECTED_ERROR
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1
    logged = LOGGED.match(captured.err.strip())
    assert logged is not None and logged["what"] == "RuntimeError: the engine broke across lines"
    log = Path(logged["log"])
    assert log.parent == log_dir() and log.is_relative_to(state_home)
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "RuntimeError: the engine broke" in text


def test_main_lets_unexpected_errors_through_for_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, RuntimeError("a bug"))
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main([])


def test_running_out_of_memory_and_interrupts_are_one_line(
        state_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fail_with(monkeypatch, MemoryError())
    assert cli.entry_point() == cli.UNEXPECTED_ERROR
    assert LOGGED.match(capsys.readouterr().err.strip())["what"] == "MemoryError"
    _fail_with(monkeypatch, KeyboardInterrupt())
    assert cli.entry_point() == 130
    assert capsys.readouterr().err == "kafkalab: interrupted\n"


def test_a_kafka_error_that_escapes_is_its_sentence_without_a_log(
        state_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fail_with(monkeypatch, KafkaError(Errors.KAFKA_STORAGE_ERROR, "Cannot write /data/broker-1: read-only."))
    assert cli.entry_point() == 2
    assert capsys.readouterr().err == "kafkalab: KAFKA_STORAGE_ERROR: Cannot write /data/broker-1: read-only.\n"
    assert not state_home.exists()


def test_only_the_newest_logs_are_kept(state_home: Path) -> None:
    for number in range(KEPT_LOGS + 5):
        path = write_error_log(f"error {number}")
        assert path is not None
        path.rename(path.with_name(f"error-{number:04d}.log"))
    write_error_log("the newest")
    assert len(list(log_dir().glob("error-*.log"))) == KEPT_LOGS


def test_a_data_dir_the_file_system_refuses_is_one_line(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\nsteps: []\n")
    (tmp_path / "file").write_text("not a directory")
    result = run_cli("run", str(scenario), "--data-dir", str(tmp_path / "file" / "data"), home=tmp_path)
    assert result.code in (2, cli.UNEXPECTED_ERROR) and len(result.err_lines) == 1, result.err
    assert result.err.startswith("kafkalab: ") and "Traceback" not in result.err
    assert str(tmp_path / "file" / "data") in result.err


class _Bridge:
    """What ``_run`` needs of an engine bridge."""

    error: BaseException | None = None
    closed = False
    process_failures: tuple[object, ...] = ()

    def start(self) -> None:
        """Nothing to start."""

    def close(self) -> None:
        self.closed = True


class _CrashingApp(App[None]):
    def on_mount(self) -> None:
        raise ZeroDivisionError("a bug in a screen")

    def run(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        super().run(headless=True)


def test_a_tui_crash_is_one_line_and_textuals_report_goes_to_the_log(
        state_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bridge = _Bridge()
    with pytest.raises(AppCrashed) as crashed:
        _run(lambda: bridge, lambda b: _CrashingApp())  # type: ignore[arg-type, return-value]
    assert bridge.closed
    assert "ZeroDivisionError" in crashed.value.details and "a bug in a screen" in crashed.value.details
    assert capsys.readouterr().err == ""  # Textual printed nothing on the terminal
    assert cli.report_unexpected(crashed.value) == cli.UNEXPECTED_ERROR
    logged = LOGGED.match(capsys.readouterr().err.strip())
    assert logged is not None and logged["what"] == "AppCrashed: the TUI stopped on an error it did not expect"
    assert "a bug in a screen" in Path(logged["log"]).read_text()


def test_an_engine_thread_failure_is_raised_when_the_tui_closes() -> None:
    class _Quitting(App[None]):
        def on_mount(self) -> None:
            self.exit()

        def run(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
            super().run(headless=True)

    bridge = _Bridge()
    bridge.error = ValueError("the engine thread stopped")
    with pytest.raises(ValueError, match="the engine thread stopped"):
        _run(lambda: bridge, lambda b: _Quitting())  # type: ignore[arg-type, return-value]
