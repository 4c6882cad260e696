"""A full refresh of the visible screen on a large cluster: 3 brokers, 50 topics x 12 partitions, 1M records.

The app runs headless at 160x48 on the dashboard with a 12-partition topic selected.
One refresh posts a new engine frame to the app (two frames with different records
alternate, so broker cards, topic table, lanes, events and clock all change) and ends
when the compositor has produced the screen update and it is rendered to terminal
segments. The figure is the UI thread's CPU time for that (Textual's 60 fps update
timer only adds idle waiting). A second figure marks every widget dirty first, static
chrome included. The engine side (building the frame on its thread) is timed separately:
back to back with nothing changed between, and each after 50 records reached the selected
partition (what a frame while time runs rebuilds).
The data dir is filled once and reused.

Run: ``python benchmarks/tui_refresh.py [--dir DIR] [--iterations 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import time
from collections.abc import Awaitable, Callable

from bench_support import load_average
from textual.pilot import Pilot
from tui_support import cached_dir, fill, summary

from kafkalab.cluster.cluster import Cluster
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.bridge import EngineBridge
from kafkalab.tui.frames import Frame
from kafkalab.tui.messages import FrameReady

TOPICS = {f"topic-{n:02d}": 12 for n in range(50)}
RECORDS = 1_000_000


def total_records(cluster: Cluster) -> int:
    return sum(p.log_end_offset for t in cluster.snapshot().topics for p in t.partitions if not t.internal)


#: A refresh from ``frame`` (``everything``: every widget marked dirty first), with ``profile`` (when not None)
#: running over its timed window only; returns the UI thread's CPU ms.
Refresh = Callable[[Frame, bool, cProfile.Profile | None], Awaitable[float]]


async def refresher(app: KafkaLabApp, pilot: Pilot[None], timeout: float = 30.0
                    ) -> tuple[Refresh, tuple[Frame, Frame]]:
    """A refresh of the running app's dashboard, and the two frames (different records) to alternate; ``timeout``
    for each wait on the engine (longer under valgrind)."""
    await app.settle(step_ms=2000, timeout=timeout)
    app.select(topic="topic-07", partition=3)
    first = await app.settle(timeout=timeout)
    app.bridge.run_on_engine(lambda c: c.produce("topic-07", 3, [(b"k", b"v")] * 50))
    second = await app.settle(step_ms=100, timeout=timeout)
    await pilot.pause()
    displayed = asyncio.Event()
    display = app._display

    def display_and_render(screen: object, renderable: object) -> None:
        display(screen, renderable)  # type: ignore[arg-type]
        if renderable is not None:
            # What a terminal driver would do with the update: turn it into segments to write.
            sum(1 for _ in app.console.render(renderable))  # type: ignore[arg-type]
            displayed.set()

    app._display = display_and_render  # type: ignore[method-assign]

    async def refresh(frame: Frame, everything: bool, profile: cProfile.Profile | None) -> float:
        await pilot.pause()
        displayed.clear()
        if profile is not None:
            profile.enable()
        began = time.thread_time()
        if everything:
            for widget in app.screen.walk_children(with_self=True):
                widget.refresh()
        app.post_message(FrameReady(frame))
        await displayed.wait()
        spent = (time.thread_time() - began) * 1000
        if profile is not None:
            profile.disable()
        return spent

    return refresh, (first, second)


async def measure(app: KafkaLabApp, iterations: int
                  ) -> tuple[list[float], list[float], list[float], list[float], list[float], list[float], int]:
    """UI-thread CPU per refresh: new frame handled, changed widgets re-rendered, screen composed."""
    async with app.run_test(size=(160, 48)) as pilot:
        refresh, frames = await refresher(app, pilot)
        first = frames[0]
        changed = [await refresh(frames[n % 2], False, None) for n in range(iterations)]
        repaint = [await refresh(frames[n % 2], True, None) for n in range(iterations)]
        build_ms = app.bridge.run_on_engine(lambda c: time_builds(app.bridge, first.request)).result()
        snapshot_ms = app.bridge.run_on_engine(time_snapshots).result()
        moved_cpu_ms: list[float] = []
        moved_ms = app.bridge.run_on_engine(lambda c: time_builds(app.bridge, first.request, c, moved_cpu_ms)
                                            ).result()
        records = app.bridge.run_on_engine(total_records).result()
    return changed, repaint, build_ms, snapshot_ms, moved_ms, moved_cpu_ms, records


def time_builds(bridge: EngineBridge, request: object, moving: Cluster | None = None,
                cpu_ms: list[float] | None = None, runs: int = 50) -> list[float]:
    """How long the engine thread takes to build one dashboard frame (view + lane cells); with ``moving``, each
    after 50 records to the selected partition have been replicated (not timed), as frames come while time runs.
    ``cpu_ms`` gets the engine thread's CPU time of each build (what a busy machine's load does not stretch)."""
    samples = []
    for _ in range(runs):
        if moving is not None:
            moving.produce("topic-07", 3, [(b"k", b"v")] * 50, acks=-1)
            moving.run_for(100)
        began, began_cpu = time.perf_counter(), time.thread_time()
        bridge._build(0, request)
        samples.append((time.perf_counter() - began) * 1000)
        if cpu_ms is not None:
            cpu_ms.append((time.thread_time() - began_cpu) * 1000)
    return samples


def time_snapshots(cluster: Cluster, runs: int = 50) -> list[float]:
    """How long the cluster view takes of that (``Cluster.snapshot``: every broker, topic and replica)."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        cluster.snapshot()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def large_cluster_app(given: str | None) -> KafkaLabApp:
    """The app, paused, on the large cluster in ``given`` or the shared cached dir (filled the first time)."""
    data = cached_dir("refresh", given)
    if not (data / "kafkalab.json").exists():
        print(f"filling {data}: 50 topics x 12 partitions, {RECORDS:,} records ...", flush=True)
        fill(data, TOPICS, RECORDS // len(TOPICS))
    app = KafkaLabApp(EngineBridge.open(data, paused=True))
    app.animation_level = "none"
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", help="data directory to fill once and reuse (default: under the temp dir)")
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    app = large_cluster_app(args.dir)
    print(f"machine load (1/5/15 min): {load_average()}")
    changed, repaint, build_ms, snapshot_ms, moved_ms, moved_cpu_ms, records = asyncio.run(measure(app,
                                                                                                   args.iterations))
    app.bridge.close()
    print(f"{len(TOPICS)} topics x 12 partitions, {records:,} records (x3 replicas on disk)")
    print(f"refresh from a new frame (UI thread CPU):   {summary(changed)} (target: median < 10 ms)")
    print(f"same, every widget repainted (footer too):  {summary(repaint)}")
    print(f"building a frame (engine thread):           {summary(build_ms)}")
    print(f"of which the cluster view (snapshot):       {summary(snapshot_ms)}")
    print(f"building a frame after 50 records arrived:  {summary(moved_ms)}")
    print(f"same, engine thread CPU:                    {summary(moved_cpu_ms)}")
    print(f"machine load (1/5/15 min): {load_average()}")


if __name__ == "__main__":
    main()
