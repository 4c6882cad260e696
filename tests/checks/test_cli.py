"""The ``kafkalab`` command behaves as a Unix tool: quiet when its reader leaves, one line for a wrong option."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import kafkalab.tui
from kafkalab.cli import BROKEN_PIPE, main
from kafkalab.config import TopicConfig
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import encode_batch

ROOT = Path(__file__).parents[2]
T0 = 1_735_689_600_000
#: The console script, run as ``kafkalab`` would be.
KAFKALAB = [sys.executable, "-c", "import sys; from kafkalab.cli import entry_point; sys.exit(entry_point())"]


def test_dump_log_into_a_reader_that_leaves_exits_quietly(tmp_path: Path) -> None:
    log, _ = PartitionLog.open(tmp_path / "orders-0", TopicConfig.build({}), 0, 0, False, T0, FileHandles())
    for _ in range(2000):  # far more output than a pipe holds
        log.append_as_leader(encode_batch([(b"key", b"value" * 20, (), T0)]), leader_epoch=0, now_ms=T0)
    log.close()
    dump = subprocess.Popen([*KAFKALAB, "dump-log", str(tmp_path / "orders-0" / "00000000000000000000.log")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert dump.stdout is not None and dump.stderr is not None
    assert dump.stdout.readline().startswith(b"Dumping ")
    dump.stdout.close()  # what `| head -1` does after its line
    errors = dump.stderr.read().decode()
    assert dump.wait(timeout=60) == BROKEN_PIPE == 128 + 13  # as a shell reports `seq 1 100000 | head -1`
    assert errors == ""


@pytest.mark.parametrize("args", [["--lessons-dir", "{dir}"], ["lessons", "--lessons-dir", "{dir}"],
                                  ["lesson", "messages-and-topics", "--lessons-dir", "{dir}"]],
                         ids=["tui", "lessons", "lesson"])
@pytest.mark.parametrize(("make", "what"), [(None, "no such folder"), ("file", "not a folder")])
def test_a_lessons_dir_that_is_not_a_folder_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str],
        make: str | None, what: str) -> None:
    for start in ("run_tui", "run_lesson"):  # were the option taken, a TUI would start: it must not
        monkeypatch.setattr(kafkalab.tui, start, lambda *a, **k: pytest.fail("the TUI started"))
    given = tmp_path / "my-lessons"
    if make == "file":
        given.write_text("")
    assert main([arg.format(dir=given) for arg in args]) == 2
    assert capsys.readouterr().err == f"kafkalab: --lessons-dir {given}: {what}\n"
