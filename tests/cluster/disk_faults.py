"""Real file-system refusals for tests: immutable files and directories (root) or read-only modes (anyone).

As root ``chattr +i`` makes the kernel refuse writes even through descriptors already
open, as a failing or read-only disk would; without root, ``chmod a-w`` refuses new
files and opens for writing. A test that needs a refusal the machine cannot make skips.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _chattr_works(path: Path) -> bool:
    return os.geteuid() == 0 and shutil.which("chattr") is not None and subprocess.run(
        ["chattr", "+i", str(path)], check=False, capture_output=True).returncode == 0


def _refused(directory: Path) -> bool:
    probe = directory / ".probe"
    try:
        probe.touch()
    except OSError:
        return True
    probe.unlink()
    return False


@contextmanager
def refusing_writes(*paths: Path, files: bool = False) -> Iterator[str]:
    """Make ``paths`` (files, or directories with every directory below, and their files if ``files``) refuse
    writes; yields the means used."""
    targets = [p for path in paths for p in ([path, *sorted(q for q in path.rglob("*") if files or q.is_dir())]
                                             if path.is_dir() else [path])]
    immutable = _chattr_works(targets[0])
    done: list[tuple[Path, int]] = []
    try:
        for target in targets:
            mode = stat.S_IMODE(target.stat().st_mode)
            if immutable:
                subprocess.run(["chattr", "+i", str(target)], check=True, capture_output=True)
            else:
                target.chmod(mode & ~0o222)
            done.append((target, mode))
        directories = [t for t in targets if t.is_dir()]
        if directories and not _refused(directories[0]):
            pytest.skip("this machine cannot make a directory refuse writes")
        yield "chattr +i" if immutable else "chmod a-w"
    finally:
        for target, mode in done:
            if immutable:
                subprocess.run(["chattr", "-i", str(target)], check=True, capture_output=True)
            else:
                target.chmod(mode)


def immutable_files_possible(tmp_path: Path) -> bool:
    """True when a file can be made to refuse writes through an open descriptor (chattr +i as root)."""
    probe = tmp_path / "probe"
    probe.touch()
    works = _chattr_works(probe)
    if works:
        subprocess.run(["chattr", "-i", str(probe)], check=True)
    probe.unlink()
    return works


def read_only_mount_command(directory: Path, command: list[str]) -> list[str] | None:
    """``command`` run with ``directory`` bind-mounted read-only in a private mount namespace, or None if impossible."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-m", "true"], check=False, capture_output=True)
    if probe.returncode != 0:
        return None
    where = str(directory)
    script = f'mount --bind "{where}" "{where}" && mount -o remount,ro,bind "{where}" && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh", *command]
