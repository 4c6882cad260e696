"""KRaft mode: a controller failover with a topic of 1,000 partitions, in cluster and wall time.

A KRaft cluster (3 controllers, 3 brokers) holds a 1,000-partition topic (RF=3); the active
controller is killed; the script measures the cluster (virtual) time until another
controller is active and has served a request (a topic creation committed through it), and
the wall time the simulation of that took, with the process's CPU time and the messages the
network carried meanwhile (a count no load on the machine changes). Repeated for ``--trials`` seeds.

Run: ``python benchmarks/kraft_failover.py [--partitions 1000] [--trials 5]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench_support import all_serving, load_average

from kafkalab.cluster.cluster import Cluster


def one_failover(root: Path, seed: int, partitions: int) -> tuple[float, float, float, int]:
    """(cluster ms, wall s, CPU s, messages) from killing the active controller to a topic created through the next one."""
    cluster = Cluster.open(root / f"data-{seed}", brokers=3, seed=seed, fresh=True, mode="kraft")
    try:
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic("wide", partitions, 3))
        while not all_serving(cluster, "wide", partitions):
            cluster.run_for(10)
        first = cluster.controller_id
        started_ms, started, cpu = cluster.scheduler.now_ms, time.perf_counter(), time.process_time()
        messages = cluster.network.messages_sent
        cluster.kill_controller(first)
        while cluster.controller_id in (-1, first):
            cluster.run_for(1)
        cluster.wait(cluster.create_topic("after", 1, 3))
        return (cluster.scheduler.now_ms - started_ms, time.perf_counter() - started, time.process_time() - cpu,
                cluster.network.messages_sent - messages)
    finally:
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kafkalab-bench-"))
    try:
        results = [one_failover(root, seed, args.partitions) for seed in range(args.trials)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for seed, (ms, wall_s, cpu_s, messages) in enumerate(results):
        print(f"  seed {seed}: cluster {ms:.0f} ms, wall {wall_s:.2f} s, CPU {cpu_s:.2f} s, {messages} messages")
    cluster_ms = [ms for ms, _, _, _ in results]
    wall = [s for _, s, _, _ in results]
    print(f"KRaft failover with {args.partitions} partitions, {args.trials} trials: cluster time median "
          f"{statistics.median(cluster_ms):.0f} ms (max {max(cluster_ms):.0f}), wall median {statistics.median(wall):.2f} s "
          f"(max {max(wall):.2f}); load {load_average()}")


if __name__ == "__main__":
    main()
