"""The garbage collector tuned for a TUI session: none during start-up, start-up frozen, full passes rarer.

A full collection walks every tracked object that is not frozen and holds the interpreter
lock meanwhile, so each one is a hitch on screen. On 600 partitions and 1,000,000 records
(``benchmarks/tui_screen_switch.py``) switching screens made 43 full passes of 120-240 ms in
eight rounds and put the switches' p95 at 300 ms; Python decides on a full pass every
``threshold2`` (10) younger passes. At 100, the same run had 4 and a p95 of 102 ms (one
pass can still take a few hundred milliseconds).

Start-up itself (imports, opening the data dir, the app's first screen) builds objects that live
as long as the session, so the passes Python makes meanwhile find nothing to free: 134 young, 12
middle and one full pass over the imports alone, 0.2 s of the 2.3 s of CPU until the cluster is
drawn on a 1 GB data dir (``benchmarks/tui_first_paint.py``, issue 18). The collector waits for
the first frame instead, which freezes what start-up built.
"""

from __future__ import annotations

import gc

from kafkalab.gc_pause import FULL_PASS_EVERY


class CollectorTuning:
    """Applied once the first frame is shown; released when the app closes (tests run app after app)."""

    def __init__(self) -> None:
        self._previous: tuple[int, int, int] | None = None

    def apply(self) -> None:
        """Freeze what start-up built (it lives as long as the session), make full passes rarer and collect again
        (start-up runs without the collector, ``kafkalab.gc_pause.collector_paused``)."""
        if self._previous is not None:
            return
        self._previous = gc.get_threshold()
        gc.freeze()
        young, middle, _ = self._previous
        gc.set_threshold(young, middle, FULL_PASS_EVERY)
        gc.enable()

    def release(self) -> None:
        """Put the collector back as it was: what was frozen may be garbage by now."""
        if self._previous is None:
            return
        gc.set_threshold(*self._previous)
        gc.unfreeze()
        self._previous = None
