"""Time to restart a cluster after a clean shutdown when its data dir holds at least 1 GB of logs.

The script fills a fresh 3-broker cluster (RF=3, ``segment.bytes`` 16 MB by default, so
each replica has many segments) until the brokers' log dirs hold ``--gb`` gigabytes,
shuts it down cleanly, then measures wall-clock time from ``Cluster.open`` until
``start()`` completes (every broker registered, a controller elected) and every replica
has applied its LeaderAndIsr, so each partition's leader serves.
After a clean shutdown no segment data is read; indexes are read on first use, which the
script times separately with one fetch from the end of every partition.

Run: ``python benchmarks/restart_time.py [--gb 1.0] [--segment-mb 16] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from bench_support import all_serving, batch_values, produce_like_kafka

from kafkalab.cluster.cluster import Cluster

PARTITIONS = 6


def _log_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.glob("broker-*/*/*.log"))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="gigabytes of logs on disk before restart (default 1)")
    parser.add_argument("--segment-mb", type=int, default=16, help="segment.bytes in MB (default 16)")
    parser.add_argument("--dir", help="data directory (default: a temp dir, removed afterwards)")
    args = parser.parse_args()
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kafkalab-bench-"))
    data = root / "data"
    values = batch_values()
    cluster = Cluster.open(data, brokers=3, seed=1, fresh=True)
    try:
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic("big", PARTITIONS, 3, {"segment.bytes": args.segment_mb * 1024 * 1024}))
        cluster.run_for(1000)
        # RF=3: every produced byte lands in three log dirs; 2% more so the total is surely reached.
        produce_like_kafka(cluster, "big", values, int(args.gb * 1.02e9 / 3 / 16_600))
        cluster.run_for(1000)
    finally:
        cluster.close()
    size = _log_bytes(data)
    segments = len(list(data.glob("broker-*/*/*.log")))
    started = time.perf_counter()
    cluster = Cluster.open(data)
    try:
        cluster.wait(cluster.start())
        while not all_serving(cluster, "big", PARTITIONS):
            cluster.run_for(1)
        ready = time.perf_counter() - started
        started = time.perf_counter()
        for partition in range(PARTITIONS):
            end = cluster.snapshot().partition("big", partition).high_watermark
            records = cluster.wait(cluster.fetch("big", partition, end - 1))
            assert [r.offset for r in records][-1] == end - 1
        first_fetch = time.perf_counter() - started
    finally:
        cluster.close()
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{size / 1e9:.2f} GB of logs in {segments} segments over 3 brokers")
    print(f"restart after a clean shutdown: ready in {ready:.3f} s (target < 1 s)")
    print(f"then one fetch from the end of each of {PARTITIONS} partitions: {first_fetch:.3f} s")


if __name__ == "__main__":
    main()
