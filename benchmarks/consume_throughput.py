"""Consume throughput of one consumer reading a million 100-byte records from disk, against a plain-Python baseline.

A topic (one partition, replication factor 3) is filled with ~16 KB batches of 100-byte
values, then the cluster is closed and reopened so the consumer reads what the broker
finds on disk. The consumer (``auto.offset.reset=earliest``, Kafka's fetch and poll
defaults) polls until it has every record; the clock runs as fast as it can. The
baseline reads the same segment files in the same run and decodes every batch into
records with kafkalab's codec. Each figure is the best of ``--repeat`` runs.

Run: ``python benchmarks/consume_throughput.py [--records 1000000] [--repeat 3] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from bench_support import VALUE_BYTES, batch_values, poll_all, produce_like_kafka

from kafkalab.cluster.cluster import Cluster
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.records import iter_batch_headers, iter_records

TOPIC = "reads"


def baseline(log_files: list[Path]) -> tuple[int, float]:
    """Records decoded and seconds taken reading ``log_files`` and decoding every batch."""
    started = time.perf_counter()
    count = 0
    for path in log_files:
        data = path.read_bytes()
        for position, header in iter_batch_headers(data):
            for _ in iter_records(data, position, header):
                count += 1
    return count, time.perf_counter() - started


def consume(cluster: Cluster, expected: int) -> float:
    """Seconds for one consumer to poll ``expected`` records from the start of the partition."""
    consumer = cluster.consumer(group_id="readers", auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.assign([TopicPartition(TOPIC, 0)])
    return poll_all(cluster, consumer, expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, best one reported (default 3)")
    parser.add_argument("--dir", help="directory for the data (default: a temp dir, removed afterwards)")
    args = parser.parse_args()
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kafkalab-bench-"))
    values = batch_values()
    batches = -(-args.records // len(values))
    expected = batches * len(values)
    try:
        cluster = Cluster.open(root / "data", brokers=3, seed=1, fresh=True)
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic(TOPIC, 1, 3))
        cluster.run_for(1000)
        produce_like_kafka(cluster, TOPIC, values, batches)
        cluster.close()
        cluster = Cluster.open(root / "data")
        cluster.wait(cluster.start())
        leader = cluster.snapshot().partition(TOPIC, 0).leader
        log_files = sorted((root / "data" / f"broker-{leader}" / f"{TOPIC}-0").glob("*.log"))
        base = cluster_seconds = float("inf")
        for _ in range(args.repeat):
            decoded, seconds = baseline(log_files)
            assert decoded == expected
            base = min(base, seconds)
            cluster_seconds = min(cluster_seconds, consume(cluster, expected))
        cluster.close()
    finally:
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)
    megabytes = expected * VALUE_BYTES / 1e6
    print(f"{expected} records x {VALUE_BYTES}-byte values ({batches} batches), best of {args.repeat}")
    print(f"baseline: read the segment files + decode every record  {expected / base / 1e6:5.2f} M records/s  "
          f"({base:.2f} s)")
    print(f"one consumer, poll() until all read                    {expected / cluster_seconds / 1e6:5.2f} M records/s  "
          f"({cluster_seconds:.2f} s, {megabytes / cluster_seconds:.0f} MB/s of values)  "
          f"ratio {base / cluster_seconds:.2f} (target >= 0.30)")


if __name__ == "__main__":
    main()
