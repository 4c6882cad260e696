"""Python's garbage collector held off while its passes could free nothing, and its full passes made rarer.

A full pass walks every tracked object that is not frozen and holds the interpreter lock
meanwhile: in a process that serves clients it is a pause for every request in flight.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Younger passes between full ones in a long-running process (Python's default is 10).
FULL_PASS_EVERY = 100


def freeze_with_rare_full_passes() -> None:
    """Freeze what exists now (it lives as long as the process) and make full passes rarer.

    ``kafkalab serve`` under a network client's load (5,000 records/s) made a full pass every
    5-8 s, 17-65 ms each (the journal's events are most of what they walk; it keeps 200,000):
    each one held up every record in flight. Python decides on a full pass every ``threshold2``
    younger passes, and the younger passes still free the short-lived garbage of requests.
    """
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_PASS_EVERY)


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
