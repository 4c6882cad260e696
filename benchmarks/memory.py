"""Resident memory of a 3-broker cluster (RF=3, acks=all) while 2 GB is produced through it.

Produces ``--gb`` gigabytes in ~16 KB batches the way Kafka's producer sends them and reads
the process's resident set size (``VmRSS``) every 100 MB; the peak (``VmHWM``) must stay
under 250 MB. Nothing per record may be kept: not in the event journal, the purgatories,
the network or the fetch paths. The data dir holds 3x the produced bytes (RF=3).

Run: ``python benchmarks/memory.py [--gb 2.0] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bench_support import batch_values, produce_like_kafka, rss_mb

from kafkalab.cluster.cluster import Cluster

PARTITIONS = 6
BATCH_BYTES = 16_607


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--gb", type=float, default=2.0, help="gigabytes to produce (default 2)")
    parser.add_argument("--dir", help="data directory (default: a temp dir, removed afterwards)")
    args = parser.parse_args()
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kafkalab-bench-"))
    values = batch_values()
    before, _ = rss_mb()
    cluster = Cluster.open(root / "data", brokers=3, seed=1, fresh=True)
    readings: list[tuple[float, float]] = []
    every = int(100e6 / BATCH_BYTES)

    def sample(acknowledged: int) -> None:
        if acknowledged % every < PARTITIONS // 3:
            readings.append((acknowledged * BATCH_BYTES / 1e9, rss_mb()[0]))

    try:
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic("memory", PARTITIONS, 3, {"min.insync.replicas": 2}))
        cluster.run_for(1000)
        started, _ = rss_mb()
        report = produce_like_kafka(cluster, "memory", values, int(args.gb * 1e9 / BATCH_BYTES), on_ack=sample)
        after, peak = rss_mb()
        events = len(cluster.journal)
    finally:
        cluster.close()
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)
    print(f"produced {report.bytes / 1e9:.2f} GB in {report.seconds:.0f} s; {events} events in the journal")
    print(f"RSS: {before:.0f} MB before opening, {started:.0f} MB with the cluster started, "
          f"{after:.0f} MB at the end; peak {peak:.0f} MB (target < 250 MB)")
    print("RSS while producing (GB produced: MB):",
          ", ".join(f"{gb:.1f}: {mb:.0f}" for gb, mb in readings[:: max(1, len(readings) // 10)]))


if __name__ == "__main__":
    main()
