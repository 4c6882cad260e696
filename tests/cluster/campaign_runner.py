"""Runs a campaign over a range of seeds in parallel processes, printing progress and a one-line summary.

Progress and each failure's details go to stderr as they happen; the last line, on
stdout, says how many seeds ran, which failed (with the command that replays each) and
how many acknowledged records were checked.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from types import FrameType

#: Wall-clock seconds one seed may take (about 1 s is usual) before it counts as hung.
SEED_WALL_LIMIT_S = 600


@dataclass(frozen=True)
class SeedOutcome:
    """What one seed checked, or why it failed and how to replay it."""

    seed: int
    acknowledged: int
    failure: str | None
    replay: str | None


class SeedHung(Exception):
    """A seed ran past SEED_WALL_LIMIT_S of wall-clock time (the engine may loop without time passing)."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise SeedHung(f"still running after {SEED_WALL_LIMIT_S} s of wall-clock time")


def _run_guarded(worker: Callable[[int], SeedOutcome], seed: int) -> SeedOutcome:
    """Run one seed; a hang raises SeedHung inside it, so it fails with a traceback of where it hung."""
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(SEED_WALL_LIMIT_S)
    try:
        return worker(seed)
    finally:
        signal.alarm(0)


def _outcomes(seeds: range, worker: Callable[[int], SeedOutcome], jobs: int) -> Iterator[SeedOutcome]:
    """Each seed's outcome as it completes (in seed order with one job)."""
    if jobs == 1:
        yield from (_run_guarded(worker, seed) for seed in seeds)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for future in as_completed([pool.submit(_run_guarded, worker, seed) for seed in seeds]):
            yield future.result()


def summary(seeds: range, outcomes: list[SeedOutcome]) -> str:
    """The final line: seeds run, failed seeds with their replay commands, acknowledged records checked."""
    failed = sorted((o for o in outcomes if o.failure is not None), key=lambda o: o.seed)
    checked = sum(o.acknowledged for o in outcomes)
    failures = "; ".join(f"seed {o.seed}: {o.replay}" for o in failed)
    return (f"seeds {seeds.start}-{seeds.stop - 1}: {len(outcomes)} run, {len(failed)} failed"
            f"{' (' + failures + ')' if failures else ''}, {checked} acknowledged records checked")


def run_seeds(seeds: range, worker: Callable[[int], SeedOutcome], jobs: int, progress_every: int) -> int:
    """Run ``worker`` for every seed on ``jobs`` processes; print progress and the summary; 1 if any failed."""
    started = time.monotonic()
    outcomes: list[SeedOutcome] = []
    failed = 0
    for outcome in _outcomes(seeds, worker, jobs):
        outcomes.append(outcome)
        if outcome.failure is not None:
            failed += 1
            print(outcome.failure, file=sys.stderr, flush=True)
        if len(outcomes) % progress_every == 0 or len(outcomes) == len(seeds):
            elapsed = time.monotonic() - started
            rate = len(outcomes) / elapsed if elapsed > 0 else 0.0
            left_min = (len(seeds) - len(outcomes)) / rate / 60 if rate else 0.0
            print(f"progress: {len(outcomes)}/{len(seeds)} seeds, {failed} failed, {rate:.2f} seeds/s, "
                  f"about {left_min:.0f} min left", file=sys.stderr, flush=True)
    print(summary(seeds, outcomes), flush=True)
    return 1 if failed else 0
