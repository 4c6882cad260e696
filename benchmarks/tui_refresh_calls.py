"""Python calls per refresh on tui_refresh's cluster: what a machine's load cannot move.

cProfile runs over each refresh's timed window only (from the new frame posted to the
screen update rendered to segments, ``tui_refresh.refresher``), on the UI thread, after
warm-up refreshes that are not counted: a refresh from a new frame, and one with every
widget marked dirty first. Uses the refresh benchmark's data dir (filled the first time).

Run: ``python benchmarks/tui_refresh_calls.py [--dir DIR] [--refreshes 40] [--top 0]``.
With ``--marks DIR`` nothing is profiled: the script touches ``DIR/on`` before the counted
refreshes and ``DIR/off`` after them, and waits for ``on.ack`` and ``off.ack`` each time, so
``benchmarks/tui_refresh_instructions.sh`` can switch callgrind's instrumentation on for them only.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
from pathlib import Path

from bench_support import load_average
from tui_refresh import large_cluster_app, refresher

from kafkalab.tui.app import KafkaLabApp

WARM_UP = 10


async def handshake(marks: Path, name: str) -> None:
    """Touch ``marks/name`` and wait until whoever watches it answers with ``marks/name.ack``."""
    (marks / name).touch()
    while not (marks / f"{name}.ack").exists():
        await asyncio.sleep(0.05)


async def count(app: KafkaLabApp, refreshes: int, everything: bool, top: int, marks: Path | None) -> float:
    """Mean Python calls of ``refreshes`` counted refreshes (0 with ``marks``: between the handshakes instead);
    prints the ``top`` functions by own time."""
    counted = cProfile.Profile()
    async with app.run_test(size=(160, 48)) as pilot:
        refresh, frames = await refresher(app, pilot, timeout=30.0 if marks is None else 600.0)
        for n in range(WARM_UP):
            await refresh(frames[n % 2], everything, None)
        if marks is not None:
            await handshake(marks, "on")
        for n in range(refreshes):
            await refresh(frames[n % 2], everything, counted if marks is None else None)
        if marks is not None:
            await handshake(marks, "off")
    if marks is not None:
        return 0.0
    stats = pstats.Stats(counted)
    if top:
        stats.sort_stats("tottime").print_stats(top)
    return stats.total_calls / refreshes  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", help="data directory to fill once and reuse (default: under the temp dir)")
    parser.add_argument("--refreshes", type=int, default=40)
    parser.add_argument("--top", type=int, default=0, help="also print this many functions by their own time")
    parser.add_argument("--marks", type=Path, help="handshake through this directory instead of profiling")
    parser.add_argument("--only", choices=("new", "all"), help="only the refresh from a new frame, or the repaint")
    args = parser.parse_args()
    print(f"machine load (1/5/15 min): {load_average()}")
    for everything, what in ((False, "refresh from a new frame"), (True, "same, every widget repainted")):
        if args.only is not None and everything != (args.only == "all"):
            continue
        app = large_cluster_app(args.dir)
        try:
            calls = asyncio.run(count(app, args.refreshes, everything, args.top, args.marks))
        finally:
            app.bridge.close()
        if args.marks is None:
            print(f"{what:<30} {calls:>8,.0f} Python calls per refresh (n={args.refreshes})")


if __name__ == "__main__":
    main()
