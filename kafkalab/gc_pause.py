"""Python's garbage collector held off for a block of work whose objects outlive it, so its passes meanwhile free nothing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic garbage collection until the block ends (in the whole process: there is one collector).

    It is turned back on at the end only if it was on at the start; work inside may turn it on sooner
    (the TUI's first frame does, ``kafkalab/tui/collector.py``).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
