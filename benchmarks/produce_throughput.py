"""Produce throughput of a 3-broker cluster (RF=3, acks=all) against a plain-Python baseline.

Both sides encode the same ~16 KB batches of 100-byte values with kafkalab's codec. The
baseline appends each batch once to a file with ``os.write``. The cluster side produces
the same number of batches with ``acks=-1``: the leader appends, both followers fetch and
append, and only then is the batch acknowledged. It runs twice: the way Kafka's producer
sends (one request per leader carrying a batch for each partition it leads, five requests
in flight per broker) and through ``Cluster.produce`` (one batch per request, five in
flight per partition). Wall-clock time is measured around each, best of ``--repeat`` runs
(page-cache writeback makes single runs noisy); the cluster runs on its virtual clock as
fast as it can.

Run: ``python benchmarks/produce_throughput.py [--mb 200] [--partitions 6] [--repeat 3] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench_support import IN_FLIGHT, VALUE_BYTES, batch_values, produce_like_kafka

from kafkalab.cluster.cluster import Cluster
from kafkalab.sim.process import Future
from kafkalab.storage.records import encode_batch


def baseline(path: Path, values: list[bytes], batches: int, start_ms: int) -> float:
    """Seconds to encode ``batches`` batches and append each once to a file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)
    try:
        started = time.perf_counter()
        for i in range(batches):
            os.write(fd, encode_batch([(None, value, (), start_ms + i) for value in values]))
        return time.perf_counter() - started
    finally:
        os.close(fd)


def through_facade(cluster: Cluster, topic: str, values: list[bytes], batches: int, partitions: int) -> float:
    """Seconds to produce ``batches`` batches with ``Cluster.produce``, ``IN_FLIGHT`` per partition."""
    records = [(None, value) for value in values]
    sent = acknowledged = 0
    failures: list[BaseException] = []

    def send(partition: int) -> None:
        nonlocal sent
        if sent < batches:
            sent += 1
            cluster.produce(topic, partition, records, acks=-1).add_done_callback(lambda f: done(partition, f))

    def done(partition: int, future: Future) -> None:
        nonlocal acknowledged
        if future.error is not None:
            failures.append(future.error)
            return
        acknowledged += 1
        send(partition)

    started = time.perf_counter()
    for _ in range(IN_FLIGHT):
        for partition in range(partitions):
            send(partition)
    cluster.scheduler.run_while(lambda: acknowledged < batches and not failures, 36_000_000)
    if failures or acknowledged < batches:
        raise SystemExit(f"produce failed: {failures[:1]} ({acknowledged} of {batches} acknowledged)")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="megabytes to produce on each side (default 200)")
    parser.add_argument("--partitions", type=int, default=6, help="partitions of the topic (default 6)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, best one reported (default 3)")
    parser.add_argument("--dir", help="directory for the files (default: a temp dir, removed afterwards)")
    args = parser.parse_args()
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kafkalab-bench-"))
    values = batch_values()
    batch_size = len(encode_batch([(None, value, (), 0) for value in values]))
    batches = args.mb * 1_000_000 // batch_size
    megabytes = batches * batch_size / 1e6
    cluster = Cluster.open(root / "data", brokers=3, seed=1, fresh=True)
    base = kafka_style = facade = float("inf")
    try:
        cluster.wait(cluster.start())
        for run in range(args.repeat):
            topics = (f"kafka-style-{run}", f"facade-{run}")
            for topic in topics:
                cluster.wait(cluster.create_topic(topic, args.partitions, 3, {"min.insync.replicas": 2}))
            cluster.run_for(1000)
            base = min(base, baseline(root / "baseline.log", values, batches, cluster.scheduler.now_int_ms()))
            kafka_style = min(kafka_style, produce_like_kafka(cluster, topics[0], values, batches).seconds)
            facade = min(facade, through_facade(cluster, topics[1], values, batches, args.partitions))
            for topic in topics:
                view = cluster.snapshot().topic(topic)
                assert view is not None and sum(p.high_watermark for p in view.partitions) == batches * len(values)
    finally:
        cluster.close()
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{batches} batches x {len(values)} records x {VALUE_BYTES}-byte values = {megabytes:.0f} MB, "
          f"{args.partitions} partitions, best of {args.repeat}")
    print(f"baseline: encode + os.write once               {megabytes / base:7.1f} MB/s  ({base:.2f} s)")
    print(f"cluster, Kafka producer's requests (per broker) {megabytes / kafka_style:7.1f} MB/s  "
          f"({kafka_style:.2f} s)  ratio {base / kafka_style:.2f} (target >= 0.30)")
    print(f"cluster, Cluster.produce (one batch a request)  {megabytes / facade:7.1f} MB/s  "
          f"({facade:.2f} s)  ratio {base / facade:.2f}")


if __name__ == "__main__":
    main()
