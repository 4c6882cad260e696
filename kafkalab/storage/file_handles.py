"""A bounded, least-recently-used pool of open segment file descriptors.

A cluster can hold thousands of replica logs; keeping every segment open would exhaust
the process's descriptor limit. Segments ask this pool for a descriptor on each read or
append and the pool closes the least recently used one beyond its capacity. Closing is
safe at any time because appends go straight to the OS with ``pwrite``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

DEFAULT_CAPACITY = 256


class FileHandles:
    """Open descriptors keyed by path, at most ``capacity`` of them at once."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._fds: OrderedDict[str, int] = OrderedDict()

    def get(self, path: Path | str, create: bool = False) -> int:
        """A read-write descriptor for ``path``, opening (and creating, if asked) it on first use."""
        key = str(path)  # a str stays itself, without a Path's Python-level __str__
        fd = self._fds.get(key)
        if fd is not None:
            self._fds.move_to_end(key)
            return fd
        fd = os.open(key, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        self._fds[key] = fd
        if len(self._fds) > self._capacity:
            _, oldest = self._fds.popitem(last=False)
            os.close(oldest)
        return fd

    def close(self, path: Path) -> None:
        """Close the descriptor of ``path`` if one is open."""
        fd = self._fds.pop(str(path), None)
        if fd is not None:
            os.close(fd)

    @property
    def open_count(self) -> int:
        """How many descriptors are open right now."""
        return len(self._fds)


#: The pool every log uses unless given its own: one bound for the whole process.
SHARED_FILE_HANDLES = FileHandles()
