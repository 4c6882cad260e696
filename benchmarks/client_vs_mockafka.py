"""kafkalab's producer and consumer clients side by side with mockafka-py's in-memory fakes, same run.

Both sides get the same records: ``--records`` 100-byte values with distinct keys
(``key-<i>``), built before any clock starts. Each round, on a fresh topic of
``--partitions`` partitions:

- mockafka-py: ``FakeProducer.produce`` of every record into its in-memory store (it has
  no partitioner and needs a partition, so records go round-robin), then a
  ``FakeConsumer`` polls until it has read them all.
- kafkalab: ``Cluster.producer().send`` of every record (Kafka's defaults: acks=all,
  idempotence, the murmur2 partitioner) to 3 brokers with replication factor 3, then
  ``flush()`` until every record is acknowledged (the producer has the topic's metadata
  before the clock starts, as Kafka's blocking first ``send()`` would); then a consumer assigned every
  partition polls until it has read them all. Logs are on disk; the scheduler runs as
  fast as it can on its virtual clock.

Each producer's clock starts after ``gc.collect()``: without it, the garbage collector's full
passes over mockafka's 100,000 stored messages (garbage once its store is cleaned) fell in
kafkalab's half of the round.

A figure is records / wall-clock seconds; the ratio is kafkalab's rate over mockafka's in
the same round. Median and p95 are over the rounds (with few rounds p95 is close to the
slowest). The machine's load average is printed before and after: on a shared machine
every figure depends on it.

Needs the ``bench`` extra (``pip install -e .[bench]``).
Run: ``python benchmarks/client_vs_mockafka.py [--records 100000] [--partitions 6] [--rounds 5] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_support import VALUE_BYTES, load_average, poll_all
from mockafka import FakeConsumer, FakeProducer
from mockafka.kafka_store import KafkaStore

from kafkalab.cluster.cluster import Cluster
from kafkalab.protocol.types import TopicPartition

Records = list[tuple[bytes, bytes]]


def make_records(count: int) -> Records:
    """``count`` records with distinct keys and distinct 100-byte values."""
    return [(b"key-%d" % i, (b"%010d" % i) * (VALUE_BYTES // 10)) for i in range(count)]


def mock_produce(topic: str, partitions: int, records: Records) -> float:
    """Seconds for mockafka-py's producer to store ``records``."""
    KafkaStore(clean=True).create_partition(topic, partitions)
    producer = FakeProducer()
    gc.collect()  # each producer starts from a collected heap: neither pays for the other's garbage
    started = time.perf_counter()
    for i, (key, value) in enumerate(records):
        producer.produce(topic, value=value, key=key, partition=i % partitions)
    producer.flush()
    return time.perf_counter() - started


def mock_consume(topic: str, expected: int) -> float:
    """Seconds for mockafka-py's consumer to read ``expected`` records."""
    consumer = FakeConsumer()
    consumer.subscribe([topic])
    received = 0
    started = time.perf_counter()
    while received < expected:
        batch = consumer.consume(500)
        if not batch:
            raise SystemExit(f"mockafka's consumer stalled after {received} of {expected} records")
        received += len(batch)
    return time.perf_counter() - started


def lab_produce(cluster: Cluster, topic: str, records: Records) -> float:
    """Seconds for ``Cluster.producer().send`` of ``records`` until every one is acknowledged."""
    producer = cluster.producer()
    # Kafka's send() blocks for the topic's metadata the first time; ours queues instead. Wait for it
    # before the clock starts, as mockafka's partitions are created before its clock starts.
    cluster.wait(producer.partitions_for(topic))
    gc.collect()  # as for mockafka's producer: mockafka's store of this round is garbage now
    started = time.perf_counter()
    for key, value in records:
        producer.send(topic, value, key)
    cluster.wait(producer.flush())
    seconds = time.perf_counter() - started
    cluster.wait(producer.close())
    view = cluster.snapshot().topic(topic)
    assert view is not None and sum(p.high_watermark for p in view.partitions) == len(records)
    return seconds


def lab_consume(cluster: Cluster, topic: str, partitions: int, expected: int) -> float:
    """Seconds for one consumer, assigned every partition, to poll ``expected`` records."""
    consumer = cluster.consumer(group_id=f"readers-{topic}", auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    return poll_all(cluster, consumer, expected)


@dataclass
class Side:
    """Seconds per round of one side of one comparison."""

    seconds: list[float]

    def rates(self, records: int) -> list[float]:
        return [records / s for s in self.seconds]


def p95(values: list[float]) -> float:
    """The 95th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))]


def report(name: str, records: int, lab: Side, mock: Side) -> None:
    lab_rates, mock_rates = lab.rates(records), mock.rates(records)
    ratios = [a / b for a, b in zip(lab_rates, mock_rates, strict=True)]
    # The slow tail of a rate is its low end: p95 of seconds, shown as records/s.
    print(f"{name}: kafkalab median {statistics.median(lab_rates):9,.0f} records/s (p95 {records / p95(lab.seconds):9,.0f}), "
          f"mockafka median {statistics.median(mock_rates):9,.0f} (p95 {records / p95(mock.seconds):9,.0f})")
    print(f"{'':{len(name)}}  ratio median {statistics.median(ratios):.2f}x, worst {min(ratios):.2f}x, best "
          f"{max(ratios):.2f}x; per round {', '.join(f'{r:.2f}' for r in ratios)} (target >= 1.0x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records per round (default 100,000)")
    parser.add_argument("--partitions", type=int, default=6, help="partitions of each topic (default 6)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each on a fresh topic (default 5)")
    parser.add_argument("--dir", help="directory for the data (default: a temp dir, removed afterwards)")
    args = parser.parse_args()
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kafkalab-bench-"))
    records = make_records(args.records)
    produce_lab, produce_mock, consume_lab, consume_mock = Side([]), Side([]), Side([]), Side([])
    print(f"load average before: {load_average()}")
    cluster = Cluster.open(root / "data", brokers=3, seed=1, fresh=True)
    try:
        cluster.wait(cluster.start())
        for run in range(args.rounds):
            topic = f"bench-{run}"
            cluster.wait(cluster.create_topic(topic, args.partitions, 3))
            cluster.run_for(1000)
            produce_mock.seconds.append(mock_produce(topic, args.partitions, records))
            consume_mock.seconds.append(mock_consume(topic, len(records)))
            KafkaStore(clean=True)
            produce_lab.seconds.append(lab_produce(cluster, topic, records))
            consume_lab.seconds.append(lab_consume(cluster, topic, args.partitions, len(records)))
    finally:
        cluster.close()
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)
    print(f"load average after:  {load_average()}")
    print(f"{args.records:,} records ({VALUE_BYTES}-byte values, keyed), {args.partitions} partitions, "
          f"3 brokers, RF=3, acks=all; {args.rounds} rounds")
    report("producer", args.records, produce_lab, produce_mock)
    report("consumer", args.records, consume_lab, consume_mock)


if __name__ == "__main__":
    main()
