"""Python calls per refresh on tui_refresh's cluster: what a machine's load cannot move.

cProfile runs over each refresh's timed window only (from the new frame posted to the
screen update rendered to segments, ``tui_refresh.refresher``), on the UI thread, after
warm-up refreshes that are not counted: a refresh from a new frame, and one with every
widget marked dirty first. Uses the refresh benchmark's data dir (filled the first time).

Run: ``python benchmarks/tui_refresh_calls.py [--dir DIR] [--refreshes 40] [--top 0]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats

from bench_support import load_average
from tui_refresh import large_cluster_app, refresher

from kafkalab.tui.app import KafkaLabApp

WARM_UP = 10


async def count(app: KafkaLabApp, refreshes: int, everything: bool, top: int) -> float:
    """Mean Python calls of ``refreshes`` counted refreshes; prints the ``top`` functions by own time."""
    counted = cProfile.Profile()
    async with app.run_test(size=(160, 48)) as pilot:
        refresh, frames = await refresher(app, pilot)
        for n in range(WARM_UP + refreshes):
            await refresh(frames[n % 2], everything, counted if n >= WARM_UP else None)
    stats = pstats.Stats(counted)
    if top:
        stats.sort_stats("tottime").print_stats(top)
    return stats.total_calls / refreshes  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", help="data directory to fill once and reuse (default: under the temp dir)")
    parser.add_argument("--refreshes", type=int, default=40)
    parser.add_argument("--top", type=int, default=0, help="also print this many functions by their own time")
    args = parser.parse_args()
    print(f"machine load (1/5/15 min): {load_average()}")
    for everything, what in ((False, "refresh from a new frame"), (True, "same, every widget repainted")):
        app = large_cluster_app(args.dir)
        try:
            calls = asyncio.run(count(app, args.refreshes, everything, args.top))
        finally:
            app.bridge.close()
        print(f"{what:<30} {calls:>8,.0f} Python calls per refresh (n={args.refreshes})")


if __name__ == "__main__":
    main()
