"""Key press to screen while attached to 10,000 partitions: does a describe round block the UI thread?

``kafkalab serve`` (3 brokers) runs in another process with ``--partitions`` partitions
(RF 3) in topics of 5,000 (a topic has at most 9,999), as a real cluster would be another
process. The app attaches to it (``AttachBridge.open``: describe rounds on the
``kafkalab-attach`` thread) and shows the first topic on the dashboard. Each sample posts
``]`` (select the next partition, as the terminal driver posts it) and waits for the first
composed screen update showing it, 100 ms apart.

Two phases: first with no round running (the interval is an hour: only the bridge's
once-a-second frames arrive), then with rounds back to back (the interval is the
shortest allowed and every round is woken at once). Each sample is told by what happened
between the key and the screen: no round ran; a round ran (its thread competing for the
interpreter lock); or a round ended during it or in the half second before, so its new view
of 10,000 partitions reached the UI thread as a frame to draw. The rounds' own durations are printed too.
Each sample is also split into the UI thread's time on a CPU, runnable but waiting for a CPU
(the machine's load), and asleep (the rest: waiting for the interpreter lock, or idle in its
event loop), from Linux's per-thread ``schedstat``.

The garbage collector's full passes (each holds the interpreter lock for as long as it walks
the heap) are counted and timed too: a key the UI thread posts after its 100 ms pause cannot
show a pass that ran during that pause, so their count is the better figure for those stalls.

``--switch-interval S`` sets the interpreter's thread switch interval (Python's default: 5 ms):
if a round's thread holding the interpreter lock is what delays the UI thread, a shorter
interval shortens the waits.

Run: ``python benchmarks/tui_attach_key_latency.py [--partitions 10000] [--presses 150] [--switch-interval S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui_support import NextPartitionKey, summary

from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.attach_bridge import AttachBridge

#: Partitions per topic.
TOPIC_PARTITIONS = 5000
ROOT = Path(__file__).resolve().parents[1]


class Serve:
    """``kafkalab serve`` in another process: its bootstrap, and steps sent on its standard input."""

    def __init__(self, data_dir: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "kafkalab", "serve", "--data-dir", str(data_dir),
                                      "--brokers", "3", "--port", "0"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        self._answers: queue.Queue[dict[str, object]] = queue.Queue()
        self._first: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.bootstrap = self._first.get(timeout=60).split(" ", 1)[1]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        first = True
        for line in self.proc.stdout:  # narration is read and dropped, so the pipe never fills
            if first:
                self._first.put(line.strip())
                first = False
            elif line.startswith("{"):
                self._answers.put(json.loads(line))

    def act(self, step: str, timeout: float = 600) -> dict[str, object]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(step + "\n")
        self.proc.stdin.flush()
        return self._answers.get(timeout=timeout)

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


QUIET, RUNNING, NEW_VIEW = "no round running", "a round running", "a round's new view arriving"
#: A key pressed this soon after a round ended may wait for the UI thread to take in the round's new view.
NEW_VIEW_WINDOW_S = 0.5


class RoundClock:
    """When each describe round ran (wraps the source's ``poll_once`` on its own thread)."""

    def __init__(self, bridge: AttachBridge) -> None:
        source = bridge._source
        original = source.poll_once
        self.rounds: list[tuple[float, float]] = []
        self.running_since: float | None = None

        def timed() -> object:
            self.running_since = time.perf_counter()
            try:
                return original()
            finally:
                self.rounds.append((self.running_since, time.perf_counter()))
                self.running_since = None

        source.poll_once = timed  # type: ignore[method-assign]

    def during(self, began: float, ended: float) -> str:
        """What the rounds did between ``began`` and ``ended``."""
        if any(began - NEW_VIEW_WINDOW_S <= end < ended for _, end in self.rounds):
            return NEW_VIEW
        running = self.running_since is not None and self.running_since < ended
        return RUNNING if running or any(start < ended and end > began for start, end in self.rounds) else QUIET


class FullPasses:
    """The garbage collector's full passes (generation 2) while installed: how long each took."""

    def __init__(self) -> None:
        self.durations_ms: list[float] = []
        self._started: float | None = None
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.durations_ms.append((time.perf_counter() - self._started) * 1000)
            self._started = None

    def remove(self) -> None:
        gc.callbacks.remove(self._callback)


@dataclass(frozen=True)
class Sample:
    """One key press to screen, and how the UI thread spent it (``NextPartitionKey.last_split_ms``), in ms."""

    wall: float
    on_cpu: float
    runnable: float

    @property
    def asleep(self) -> float:
        """Neither running nor waiting for a CPU: waiting for the interpreter lock, or idle in its event loop."""
        return max(0.0, self.wall - self.on_cpu - self.runnable)


def split(samples: list[Sample]) -> str:
    """Where the UI thread's time went: medians over all samples, and the mean over the slowest tenth."""
    slowest = sorted(samples, key=lambda s: s.wall)[-max(1, len(samples) // 10):]

    def parts(of: list[Sample], average: Callable[[list[float]], float]) -> str:
        return ", ".join(f"{name} {average([getattr(s, name) for s in of]):.1f}"
                         for name in ("on_cpu", "runnable", "asleep"))

    return (f"UI thread: median {parts(samples, statistics.median)} ms; slowest {len(slowest)}: mean "
            f"{parts(slowest, statistics.fmean)} ms")


async def press(app: KafkaLabApp, presses: int, partitions: int, clock: RoundClock) -> dict[str, list[Sample]]:
    """Samples by what the rounds did meanwhile."""
    keys = NextPartitionKey(app, partitions)
    samples: dict[str, list[Sample]] = {QUIET: [], RUNNING: [], NEW_VIEW: []}
    for _ in range(presses):
        began, ended = await keys.press()
        samples[clock.during(began, ended)].append(Sample((ended - began) * 1000, *keys.last_split_ms))
    keys.remove()
    return samples


class CpuShares:
    """CPU seconds spent between ``start`` and ``stop``: by this process, by serve's, and by the whole machine
    (``/proc/stat``), so the UI thread's wait for a CPU can be told apart into the benchmark's own load and others'."""

    _TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, serve_pid: int) -> None:
        self._serve = Path(f"/proc/{serve_pid}/stat")
        self._began = self._now()

    def _now(self) -> tuple[float, float, float, float]:
        own = os.times()
        serve = self._serve.read_text().rsplit(")", 1)[1].split()  # utime and stime are fields 14 and 15
        busy = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = busy[3] + busy[4]  # idle and iowait
        return (time.perf_counter(), own.user + own.system, (int(serve[11]) + int(serve[12])) / self._TICK,
                (sum(busy) - idle) / self._TICK)

    def restart(self) -> None:
        self._began = self._now()

    def report(self) -> str:
        wall, own, serve, busy = (after - before for after, before in zip(self._now(), self._began, strict=True))
        return (f"{wall:.0f} s wall, {os.cpu_count()} CPUs: this process {own / wall:.2f} CPUs, serve "
                f"{serve / wall:.2f}, everything else {max(0.0, busy - own - serve) / wall:.2f}")


async def measure(app: KafkaLabApp, bridge: AttachBridge, clock: RoundClock, presses: int, partitions: int,
                  serve_pid: int) -> dict[str, dict[str, list[Sample]]]:
    async with app.run_test(size=(160, 48)):
        await app.settle()
        app.select(topic="wide-0")
        await app.settle()
        passes = FullPasses()
        cpu = CpuShares(serve_pid)
        between = await press(app, presses, partitions, clock)
        print(f"CPU between rounds: {cpu.report()}")
        source = bridge._source
        source.interval_s = 0.5
        source.wake()
        cpu.restart()
        during = await press(app, presses, partitions, clock)
        print(f"CPU with rounds back to back: {cpu.report()}")
        source.interval_s = 3600
        passes.remove()
    full = sorted(passes.durations_ms)
    print(f"full collections while measuring: {len(full)}" + (f", {full[0]:.0f}-{full[-1]:.0f} ms" if full else ""))
    return {"between rounds": between, "rounds back to back": during}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--partitions", type=int, default=10_000)
    parser.add_argument("--presses", type=int, default=150, help="samples per phase (default 150)")
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="sys.setswitchinterval for this process, in seconds (default: Python's 0.005)")
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    with tempfile.TemporaryDirectory(prefix="kafkalab-bench-attach-") as temp:
        serve = Serve(Path(temp) / "data")
        try:
            began = time.perf_counter()
            for n, start in enumerate(range(0, args.partitions, TOPIC_PARTITIONS)):
                count = min(TOPIC_PARTITIONS, args.partitions - start)
                answer = serve.act(f"create_topic: {{name: wide-{n}, partitions: {count}, replication_factor: 3}}")
                assert answer.get("ok"), answer
            print(f"serve: {args.partitions:,} partitions created in {time.perf_counter() - began:.1f} s")
            began = time.perf_counter()
            bridge = AttachBridge.open(serve.bootstrap, {}, interval_s=3600, allow_writes=False)
            print(f"first round (attach): {time.perf_counter() - began:.1f} s")
            clock = RoundClock(bridge)
            app = KafkaLabApp(bridge)
            app.animation_level = "none"
            phases = asyncio.run(measure(app, bridge, clock, args.presses, min(TOPIC_PARTITIONS, args.partitions),
                                         serve.proc.pid))
            bridge.close()
        finally:
            serve.stop()
    for phase, by_kind in phases.items():
        for label, samples in by_kind.items():
            if samples:
                print(f"{phase}, {label}: key press to screen {summary([s.wall for s in samples])}")
                print(f"    {split(samples)}")
    durations = [end - start for start, end in clock.rounds]
    if durations:
        print(f"rounds: {len(durations)}, {min(durations):.1f}-{max(durations):.1f} s each "
              f"(median {sorted(durations)[len(durations) // 2]:.1f} s)")
    print("target: p95 < 50 ms while a round runs as between rounds")


if __name__ == "__main__":
    main()
