"""What the TUI benchmarks share: building (or reusing) a data dir, and timing a headless app."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench_support import batch_values, produce_like_kafka
from textual import events

from kafkalab.cluster.cluster import Cluster

if TYPE_CHECKING:
    from kafkalab.tui.app import KafkaLabApp


def cached_dir(name: str, given: str | None) -> Path:
    """``given`` or a per-benchmark folder under the temp dir that survives runs (filling it is slow)."""
    return Path(given) if given else Path(tempfile.gettempdir()) / f"kafkalab-bench-{name}"


def fill(data: Path, topics: dict[str, int], records_per_topic: int, segment_bytes: int | None = None) -> None:
    """A fresh 3-broker cluster with ``topics`` (name: partitions, RF 3) and ~``records_per_topic`` each."""
    values = batch_values()
    config = {"segment.bytes": segment_bytes} if segment_bytes else {}
    cluster = Cluster.open(data, brokers=3, seed=1, fresh=True)
    try:
        cluster.wait(cluster.start())
        for name, partitions in topics.items():
            cluster.wait(cluster.create_topic(name, partitions, 3, config))
        cluster.run_for(1000)
        for name, partitions in topics.items():
            produce_like_kafka(cluster, name, values, max(partitions, records_per_topic // len(values)))
        cluster.run_for(1000)
    finally:
        cluster.close()


def log_bytes(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("broker-*/*/*.log"))


def summary(samples_ms: list[float]) -> str:
    """Median, p95 and max of millisecond samples."""
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):.2f} ms, p95 {p95:.2f} ms, max {ordered[-1]:.2f} ms (n={len(ordered)})"


def thread_schedstat_ns() -> tuple[int, int]:
    """The calling thread's time on a CPU and time runnable but waiting for one, in ns (Linux's
    ``/proc/thread-self/schedstat``): what is left of a wall-clock interval is time the thread slept, on a lock
    (the interpreter's) or waiting for input."""
    on_cpu, waiting = Path("/proc/thread-self/schedstat").read_text().split()[:2]
    return int(on_cpu), int(waiting)


class NextPartitionKey:
    """Presses ``]`` (next partition) on a headless app and times it to the screen update that shows it."""

    def __init__(self, app: KafkaLabApp, partitions: int) -> None:
        self.app = app
        self.partitions = partitions
        #: The UI thread's time on a CPU and runnable-but-waiting for one during the last press, in ms.
        self.last_split_ms = (0.0, 0.0)
        self._shown = asyncio.Event()
        self._wanted = -1
        self._display = app._display

        def noting_display(screen: object, renderable: object) -> None:
            self._display(screen, renderable)  # type: ignore[arg-type]
            # The first screen update composed after the key was handled is the one that shows it.
            if renderable is not None and app.selection.partition == self._wanted:
                self._shown.set()

        app._display = noting_display  # type: ignore[method-assign]

    async def press(self) -> tuple[float, float]:
        """After a 100 ms pause, one key press: ``perf_counter`` when it was posted and when it was on screen."""
        await asyncio.sleep(0.1)
        self._wanted = ((self.app.selection.partition or 0) + 1) % self.partitions
        self._shown.clear()
        cpu_before, waiting_before = thread_schedstat_ns()
        began = time.perf_counter()
        # Posted as the terminal driver posts it; Pilot.press would also wait for the app to idle.
        self.app.post_message(events.Key("right_square_bracket", None))
        await self._shown.wait()
        ended = time.perf_counter()
        cpu_after, waiting_after = thread_schedstat_ns()
        self.last_split_ms = ((cpu_after - cpu_before) / 1e6, (waiting_after - waiting_before) / 1e6)
        return began, ended

    def remove(self) -> None:
        """Put the app's display back."""
        self.app._display = self._display  # type: ignore[method-assign]
