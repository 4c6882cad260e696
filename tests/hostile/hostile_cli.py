"""Run the ``kafkalab`` command line in a child process whose memory and time are bounded."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).parents[2]
#: Address space the child may map: a fraction of what the hostile inputs used to allocate (gigabytes).
MEMORY_LIMIT_BYTES = 512 * 1024 * 1024
#: Wall-clock seconds the child may take; every case ends in a few.
TIME_LIMIT_SECONDS = 60


@dataclass(frozen=True)
class Result:
    """What the command printed, how it exited, and how long it took."""

    code: int
    out: str
    err: str
    seconds: float

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def run_cli(*args: str, home: Path) -> Result:
    """``python -m kafkalab ARGS`` with the memory limit, the time limit, and ``home`` for its user directories."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
           "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache")}
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-m", "kafkalab", *args], cwd=REPO, env=env, capture_output=True,
                               text=True, errors="replace", timeout=TIME_LIMIT_SECONDS, preexec_fn=_limit_memory,
                               check=False)
    return Result(completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started)
