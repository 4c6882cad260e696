"""Where the command line puts the details of an error it did not expect: one file per error, a few kept.

The user sees one line naming the file; the file holds the traceback (or Textual's report)
and what was run, for a bug report.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from platformdirs import user_log_dir

from kafkalab import __version__

#: Error logs kept; older ones are removed when a new one is written.
KEPT_LOGS = 20
_PREFIX = "error-"


def log_dir() -> Path:
    """The user's log directory for kafkalab (``$XDG_STATE_HOME/kafkalab/log`` on Linux)."""
    return Path(user_log_dir("kafkalab", appauthor=False))


def write_error_log(details: str) -> Path | None:
    """Write ``details`` with the command and version to a new log file; its path, or None if no directory took it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = (f"kafkalab {__version__}, Python {sys.version.split()[0]}\n"
            f"command: {' '.join(sys.argv)}\ntime: {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n\n{details}")
    for directory in (log_dir(), Path(tempfile.gettempdir()) / "kafkalab-log"):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{_PREFIX}{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8", errors="replace")
        except OSError:
            continue
        _prune(directory)
        return path
    return None


def exception_details(error: BaseException) -> str:
    """The full traceback of ``error``, as Python would print it."""
    return "".join(traceback.format_exception(error))


def _prune(directory: Path) -> None:
    logs = sorted(directory.glob(f"{_PREFIX}*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in logs[KEPT_LOGS:]:
        old.unlink(missing_ok=True)
