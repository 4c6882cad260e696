"""Switching screens (keys 1-8) on a large cluster: 3 brokers, 50 topics x 12 partitions, 1M records.

The app runs headless at 160x48 on the data dir ``tui_refresh.py`` fills (and reuses it),
with a 12-partition topic selected and the clock paused. Each sample posts the key of the
next screen, as the terminal driver posts it, and ends once the new screen is on the terminal
and has drawn a frame: what a user waits for between the key and the new
view with its data (a screen visited before is put back on the terminal at once and then
drawn; the sample ends at the later of the two). A screen's first visit composes its
widgets, so first visits are reported apart from the rounds that follow.

Run: ``python benchmarks/tui_screen_switch.py [--dir DIR] [--rounds 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from textual import events
from tui_refresh import RECORDS, TOPICS, large_cluster_app
from tui_support import summary

from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.commands import SCREENS
from kafkalab.tui.screens.base import LabScreen


async def measure(app: KafkaLabApp, rounds: int) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Milliseconds from each screen key to the update showing that screen with a frame drawn."""
    first: dict[str, float] = {}
    later: dict[str, list[float]] = {mode: [] for mode, *_ in SCREENS}
    async with app.run_test(size=(160, 48)) as pilot:
        await app.settle(step_ms=2000)
        app.select(topic="topic-07", partition=3)
        await app.settle()
        await pilot.pause()
        drawn = asyncio.Event()
        shown = asyncio.Event()
        wanted = [""]
        moments: dict[str, float] = {}
        show_frame = LabScreen.show_frame
        display = app._display

        def noting_show_frame(screen: LabScreen, *args: object) -> None:
            show_frame(screen, *args)  # type: ignore[arg-type]
            if app.current_mode == wanted[0] and not drawn.is_set():
                moments["drawn"] = time.perf_counter()
                drawn.set()

        def noting_display(screen: object, renderable: object) -> None:
            display(screen, renderable)  # type: ignore[arg-type]
            if renderable is not None and app.current_mode == wanted[0] and not shown.is_set():
                moments["shown"] = time.perf_counter()
                shown.set()

        LabScreen.show_frame = noting_show_frame  # type: ignore[method-assign]
        app._display = noting_display  # type: ignore[method-assign]
        try:
            order = [(mode, key) for mode, key, *_ in SCREENS]
            for round_number in range(rounds + 1):
                for mode, key in order[1:] + order[:1]:  # the app starts on the dashboard
                    await asyncio.sleep(0.05)
                    wanted[0] = mode
                    drawn.clear()
                    shown.clear()
                    began = time.perf_counter()
                    app.post_message(events.Key(key, key))
                    # Done when the new screen is on the terminal and has drawn a frame (in either order:
                    # a screen visited before is put back at once and then drawn without changing).
                    await asyncio.wait_for(asyncio.gather(shown.wait(), drawn.wait()), 30)
                    elapsed = (max(moments["shown"], moments["drawn"]) - began) * 1000
                    if round_number == 0:
                        first[mode] = elapsed
                    else:
                        later[mode].append(elapsed)
        finally:
            LabScreen.show_frame = show_frame  # type: ignore[method-assign]
    return first, later


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", help="data directory to fill once and reuse (default: tui_refresh.py's)")
    parser.add_argument("--rounds", type=int, default=20, help="rounds through every screen after the first")
    args = parser.parse_args()
    app = large_cluster_app(args.dir)
    first, later = asyncio.run(measure(app, args.rounds))
    app.bridge.close()
    everything = [sample for samples in later.values() for sample in samples]
    print(f"{len(TOPICS)} topics x 12 partitions, {RECORDS:,} records; {args.rounds} rounds through every screen")
    for mode, *_ in SCREENS:
        print(f"  {mode:12} first visit {first[mode]:7.1f} ms; then {summary(later[mode])}")
    print(f"all switches after the first visits: {summary(everything)} (target: p95 < 100 ms)")


if __name__ == "__main__":
    main()
