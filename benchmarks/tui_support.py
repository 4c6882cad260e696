"""What the TUI benchmarks share: building (or reusing) a data dir, and timing a headless app."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench_support import batch_values, produce_like_kafka

from kafkalab.cluster.cluster import Cluster


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
