"""Python calls and engine-thread CPU per frame build on tui_refresh's cluster (600 partitions, 1M records).

What a machine's load cannot move: cProfile's call count of one frame build (the dashboard with
topic-07's 12 lanes, 140 wide) and the engine thread's CPU time of another, with nothing changed
between builds and each after 50 records reached the selected partition (not counted). Uses the
refresh benchmark's cached data dir (``tui_refresh.py`` fills it the first time).

Run: ``python benchmarks/frame_build_calls.py [--dir DIR] [--builds 20]``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

from bench_support import load_average
from tui_support import cached_dir

from kafkalab.cluster.cluster import Cluster
from kafkalab.tui.bridge import EngineBridge
from kafkalab.tui.frames import FrameRequest

REQUEST = FrameRequest(lanes_topic="topic-07", lane_width=140)


def per_build(bridge: EngineBridge, cluster: Cluster, builds: int, moving: bool) -> tuple[float, float]:
    """Mean Python calls of a build and median engine-thread CPU ms of another, ``builds`` of each."""
    bridge._build(0, REQUEST)
    calls, cpu_ms = 0, []
    for _ in range(builds):
        for profiled in (False, True):
            if moving:
                cluster.produce("topic-07", 3, [(b"k", b"v")] * 50, acks=-1)
                cluster.run_for(100)
            if profiled:
                profile = cProfile.Profile()
                profile.enable()
                bridge._build(0, REQUEST)
                profile.disable()
                calls += pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
            else:
                began = time.thread_time()
                bridge._build(0, REQUEST)
                cpu_ms.append((time.thread_time() - began) * 1000)
    return calls / builds, statistics.median(cpu_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", help="tui_refresh.py's data directory (default: its cached one)")
    parser.add_argument("--builds", type=int, default=20)
    args = parser.parse_args()
    data = cached_dir("refresh", args.dir)
    if not (data / "kafkalab.json").exists():
        raise SystemExit(f"{data} is empty: run benchmarks/tui_refresh.py once to fill it")
    print(f"machine load (1/5/15 min): {load_average()}")
    bridge = EngineBridge.open(data, paused=True)
    bridge.start()
    bridge.sync().result(300)
    try:
        for moving, what in ((False, "nothing changed"), (True, "after 50 records")):
            calls, cpu = bridge.run_on_engine(lambda c, moving=moving: per_build(bridge, c, args.builds, moving)).result()
            print(f"{what:<17} {calls:>8,.0f} Python calls per build, engine-thread CPU median {cpu:.2f} ms")
    finally:
        bridge.close()
    print(f"machine load (1/5/15 min): {load_average()}")


if __name__ == "__main__":
    main()
