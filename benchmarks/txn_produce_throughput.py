"""Transactional produce throughput (100-record transactions) next to plain idempotent produce, in one run.

A 3-broker cluster (RF=3, acks=all) and one in-process producer per mode send the same
100-byte values to a 6-partition topic: the idempotent producer sends them all and flushes;
the transactional one (``transactional.id``) sends them in transactions of ``--txn-records``
records, committing each (AddPartitionsToTxn, EndTxn, markers in every partition it wrote).
Wall-clock time around each, best of ``--repeat`` runs, on the virtual clock as fast as the
engine goes.

Run: ``python benchmarks/txn_produce_throughput.py [--records 100000] [--txn-records 100] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from kafkalab.cluster.cluster import Cluster

VALUE = b"x" * 100
PARTITIONS = 6


def idempotent(cluster: Cluster, topic: str, records: int) -> float:
    producer = cluster.producer(client_id=f"idempotent-{topic}", linger_ms=5)
    started = time.perf_counter()
    for i in range(records):
        producer.send(topic, VALUE, partition=i % PARTITIONS)
    cluster.wait(producer.flush(), timeout_ms=36_000_000)
    elapsed = time.perf_counter() - started
    cluster.wait(producer.close())
    return elapsed


def transactional(cluster: Cluster, topic: str, records: int, per_txn: int) -> float:
    producer = cluster.producer(client_id=f"transactional-{topic}", transactional_id=f"bench-{topic}", linger_ms=5)
    cluster.wait(producer.init_transactions())
    started = time.perf_counter()
    for first in range(0, records, per_txn):
        producer.begin_transaction()
        for i in range(first, min(records, first + per_txn)):
            producer.send(topic, VALUE, partition=i % PARTITIONS)
        cluster.wait(producer.commit_transaction(), timeout_ms=36_000_000)
    elapsed = time.perf_counter() - started
    cluster.wait(producer.close())
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records per mode and run (default 100,000)")
    parser.add_argument("--txn-records", type=int, default=100, help="records per transaction (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, best one reported (default 3)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kafkalab-txn-bench-"))
    try:
        cluster = Cluster.open(root / "data", brokers=3, seed=1)
        cluster.wait(cluster.start())
        plain, txn = [], []
        for run in range(args.repeat):
            for mode, results in (("idempotent", plain), ("transactional", txn)):
                topic = f"{mode}-{run}"
                cluster.wait(cluster.create_topic(topic, PARTITIONS, 3))
                results.append(idempotent(cluster, topic, args.records) if mode == "idempotent"
                               else transactional(cluster, topic, args.records, args.txn_records))
        cluster.close()
        best_plain, best_txn = min(plain), min(txn)
        print(f"idempotent:    {args.records / best_plain:,.0f} records/s (best of {args.repeat}: {best_plain:.2f} s)")
        print(f"transactional: {args.records / best_txn:,.0f} records/s (best of {args.repeat}: {best_txn:.2f} s), "
              f"{args.txn_records}-record transactions, {args.records // args.txn_records:,} commits")
        print(f"ratio: {best_plain / best_txn:.2f}x of idempotent")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
