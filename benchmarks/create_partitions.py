"""Time to create one topic with 1,000 partitions (RF=3) and have every leader elected and serving.

"Ready" means ZooKeeper holds a leader and full ISR for every partition and every replica
has applied its LeaderAndIsr (the leader leads, the followers fetch). The clock is the
wall clock around ``create_topic`` and the virtual-time run that follows it; beside it the
process's CPU time over the same stretch (user and system; neither counts waiting for the disk) and the
files and directories the data dir gained and the fsyncs, which a loaded machine cannot change.

In KRaft mode (``--mode kraft``) "ready" is the same; the controller's records go through the
metadata log and every broker applies them.

Run: ``python benchmarks/create_partitions.py [--partitions 1000] [--mode zookeeper|kraft] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench_support import all_serving, load_average

from kafkalab.cluster.cluster import Cluster

_fsyncs = 0
_os_fsync = os.fsync


def _counting_fsync(fd: int) -> None:
    """os.fsync, counted: kafkalab calls it through the module, so every fsync of the run passes here."""
    global _fsyncs
    _fsyncs += 1
    _os_fsync(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--mode", choices=("zookeeper", "kraft"), default="zookeeper")
    parser.add_argument("--dir", help="data directory (default: a temp dir, removed afterwards)")
    args = parser.parse_args()
    os.fsync = _counting_fsync
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kafkalab-bench-"))
    cluster = Cluster.open(root / "data", brokers=3, seed=1, fresh=True, mode=args.mode)
    try:
        cluster.wait(cluster.start())
        entries_before = sum(1 for _ in (root / "data").rglob("*"))
        started, cpu_started, fsyncs_before = time.perf_counter(), os.times(), _fsyncs
        cluster.wait(cluster.create_topic("wide", args.partitions, 3))
        created = time.perf_counter()
        while not all_serving(cluster, "wide", args.partitions):
            cluster.run_for(1)
        ready, cpu = time.perf_counter(), os.times()
        user, system = cpu.user - cpu_started.user, cpu.system - cpu_started.system
        fsyncs = _fsyncs - fsyncs_before
        entries = sum(1 for _ in (root / "data").rglob("*")) - entries_before
        view = cluster.snapshot().topic("wide")
        assert view is not None and all(p.leader is not None and len(p.isr) == 3 for p in view.partitions)
        print(f"{args.mode}: {args.partitions} partitions x RF 3: created and leaders elected in {created - started:.2f} s, "
              f"every replica serving after {ready - started:.2f} s (CPU {user:.2f} s user + {system:.2f} s system, "
              f"{entries} new files and directories, {fsyncs} fsyncs; load {load_average()})")
    finally:
        cluster.close()
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
