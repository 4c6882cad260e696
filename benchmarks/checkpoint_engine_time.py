"""The engine thread's time in checkpoint passes: written inline (main's way) against the writer thread (issue 9).

A 3-broker cluster with four 3-partition topics; each pass checkpoints every broker's high
watermarks (``replication-offset-checkpoint``, what the 5 s timer does), then lets 50 ms of
virtual time and 30 ms of wall time pass so the writer thread writes meanwhile. Prints the
engine thread's milliseconds per pass and the fsyncs each thread made (a count load does not
move). Usage: ``PYTHONPATH=<tree> python benchmarks/checkpoint_engine_time.py [--passes 60]``.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from kafkalab.cluster.cluster import Cluster

FSYNCS: collections.Counter[str] = collections.Counter()
_fsync = os.fsync


def _counting_fsync(fd: Any) -> None:
    FSYNCS[threading.current_thread().name] += 1
    _fsync(fd)


def run(background: bool, passes: int) -> list[float]:
    """Milliseconds of the engine thread per pass."""
    with tempfile.TemporaryDirectory() as directory:
        cluster = Cluster.open(Path(directory) / "data", brokers=3, seed=1, fresh=True)
        if background:
            cluster.write_checkpoints_in_background(lambda work: work())
        cluster.wait(cluster.start())
        for i in range(4):
            cluster.wait(cluster.create_topic(f"t{i}", 3, 3))
        cluster.run_for(2000)
        FSYNCS.clear()
        took = []
        for _ in range(passes):
            start = time.perf_counter()
            for broker in cluster.brokers.values():
                assert broker.replicas is not None
                broker.replicas.checkpoint_high_watermarks()
            took.append((time.perf_counter() - start) * 1000)
            cluster.run_for(50)
            time.sleep(0.03)
        cluster.close()
        return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=60)
    args = parser.parse_args()
    os.fsync = _counting_fsync
    print(f"machine load (1/5/15 min): {os.getloadavg()}")
    for background in (False, True, False, True):
        took = sorted(run(background, args.passes))
        print(f"{'writer thread' if background else 'inline':>13}: engine ms per pass (3 brokers) median "
              f"{statistics.median(took):.3f}, p90 {took[int(len(took) * 0.9)]:.3f}, max {took[-1]:.3f}; "
              f"fsyncs by thread (passes and close) {dict(FSYNCS)}")
    print(f"machine load (1/5/15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
