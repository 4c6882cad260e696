"""Real clients through sockets: confluent-kafka against ``kafkalab serve`` and against librdkafka's mock cluster.

In one run, the same confluent-kafka producer (acks=all, 100-byte values, linger.ms 5)
writes ``--records`` records to a 4-partition topic with replication factor 3, once on
``kafkalab serve`` (3 brokers, logs on disk) and once on librdkafka's in-memory mock
cluster (``test.mock.num.brokers=3``); then a consumer reads them all back from each.
Each figure is records per second, and the ratio kafkalab / mock. Last, end-to-end
latency through sockets: a producer with linger.ms 0 sends ``--rate`` records per
second while a consumer polls; each record's latency is poll time minus send time. It
runs twice: with librdkafka's default producer (not idempotent, up to 1,000,000 requests
in flight per connection, so every record can leave in a request of its own) and with
``enable.idempotence`` (at most 5 in flight, Kafka's Java producer's default), where the
records that wait for a free request travel together. The latency clients run at a lower
priority than the cluster (``--client-nice``, 19 by default; 0 for the same priority).
``--latency-only`` runs just the latency part, on a new ``serve`` (no mock cluster, no throughput runs).

Run: ``python benchmarks/wire_throughput.py [--records 200000] [--consume 1000000] [--rate 5000] [--seconds 10]
[--client-nice 19] [--latency-only]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafkalab.gc_pause import freeze_with_rare_full_passes
from tests.wire.serve_process import ServeProcess

TOPIC = "bench"
#: librdkafka's mock cluster creates a topic on first use with 4 partitions and replication factor 3
#: (its admin API finds no controller), so kafkalab's topic gets the same layout.
PARTITIONS = 4
VALUE = b"v" * 100


def produce(config: dict[str, Any], count: int, linger_ms: float = 5) -> float:
    """Produce ``count`` records with acks=all; records per second once every one is acknowledged."""
    producer = Producer({**config, "acks": "all", "linger.ms": linger_ms, "enable.idempotence": True,
                         "queue.buffering.max.messages": 1_000_000})
    failed = 0

    def delivered(error: Any, message: Any) -> None:
        nonlocal failed
        failed += error is not None

    started = time.perf_counter()
    for i in range(count):
        while True:
            try:
                producer.produce(TOPIC, value=VALUE, key=b"%d" % (i % 1000), on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.01)
        if i % 1000 == 0:
            producer.poll(0)
    assert producer.flush(300) == 0
    elapsed = time.perf_counter() - started
    assert failed == 0, f"{failed} records were not acknowledged"
    return count / elapsed


def consume(config: dict[str, Any], count: int) -> tuple[float, int]:
    """Read up to ``count`` records from the start of every partition; records per second and how many were read.

    librdkafka's mock cluster keeps only the newest records of a partition in memory, so a run
    also stops once nothing new arrived for 5 s, and reports what it could read.
    """
    consumer = Consumer({**config, "group.id": f"bench-{time.monotonic_ns()}", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    partitions = [TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)]
    # Find the group coordinator before the clock starts (kafkalab creates __consumer_offsets on first use).
    consumer.committed(partitions, timeout=60)
    consumer.assign(partitions)
    seen = 0
    started = last = time.perf_counter()
    while seen < count and time.perf_counter() - last < 5.0:
        for message in consumer.consume(10_000, 1.0):
            if message.error() is None:
                seen += 1
                last = time.perf_counter()
    consumer.close()
    return seen / (last - started), seen


def create_topic(config: dict[str, Any]) -> None:
    admin = AdminClient(config)
    for future in admin.create_topics([NewTopic(TOPIC, PARTITIONS, 3)]).values():
        future.result(30)


def latency(config: dict[str, Any], rate: int, seconds: float, idempotent: bool) -> list[float]:
    """Milliseconds from produce() to the consumer returning the record, after a 1 s warm-up.

    The producer sends on schedule in 1 ms ticks on this thread; a consumer thread blocks in
    poll(), which returns each record as soon as librdkafka has it (``consume(n, timeout)``
    would hold records back until ``n`` arrived or the timeout passed), so neither client
    spins on a CPU the cluster needs.
    """
    consumer = Consumer({**config, "group.id": "latency", "fetch.wait.max.ms": 100, "enable.auto.commit": False})
    partitions = [TopicPartition(TOPIC, p, -1) for p in range(PARTITIONS)]
    consumer.committed(partitions, timeout=60)
    consumer.assign(partitions)
    producer = Producer({**config, "acks": "all", "linger.ms": 0, "enable.idempotence": idempotent})
    sent: dict[bytes, float] = {}
    latencies: list[float] = []
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set():
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                began = sent.get(message.value())
                if began is not None:
                    latencies.append((time.perf_counter() - began) * 1000)

    reader = threading.Thread(target=consume)
    reader.start()
    begin = time.perf_counter()
    n = 0
    while (now := time.perf_counter()) - begin < seconds + 1.0:
        while n < int((now - begin) * rate):
            value = b"%012d" % n
            moment = time.perf_counter()
            if moment - begin >= 1.0:
                sent[value] = moment
            producer.produce(TOPIC, value=value)
            n += 1
        producer.poll(0)
        time.sleep(0.001)
    producer.flush(30)
    time.sleep(1.0)  # the last records' way to the consumer
    stop.set()
    reader.join()
    consumer.close()
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="records each producer run writes")
    parser.add_argument("--consume", type=int, default=1_000_000, help="records each consumer run reads")
    parser.add_argument("--rate", type=int, default=5000, help="records per second for the latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    parser.add_argument("--client-nice", type=int, default=19,
                        help="niceness the latency clients run at (0: the same priority as the cluster)")
    parser.add_argument("--latency-only", action="store_true",
                        help="run only the latency part (no mock cluster, no throughput runs)")
    args = parser.parse_args()
    total = max(args.records, args.consume)
    print(f"machine load (1/5/15 min): {os.getloadavg()}")
    if args.latency_only:
        with tempfile.TemporaryDirectory() as directory:
            serve = ServeProcess(Path(directory) / "data")
            try:
                config = {"bootstrap.servers": serve.bootstrap}
                create_topic(config)
                idempotent_latencies, latencies = measure_latency(config, args)
            finally:
                serve.stop(300)
        report_latency(args, idempotent_latencies, latencies)
        return

    # The mock cluster lives inside the client that asks for it and listens on loopback ports:
    # keep that client for the whole run and point the measured clients at its brokers.
    holder = Producer({"test.mock.num.brokers": 3})
    brokers = holder.list_topics(timeout=10).brokers.values()
    mock = {"bootstrap.servers": ",".join(f"{b.host}:{b.port}" for b in brokers)}
    mock_produce = produce(mock, total)
    mock_consume, mock_read = consume(mock, args.consume)

    with tempfile.TemporaryDirectory() as directory:
        serve = ServeProcess(Path(directory) / "data")
        try:
            config = {"bootstrap.servers": serve.bootstrap}
            create_topic(config)
            lab_produce = produce(config, total)
            lab_consume, lab_read = consume(config, args.consume)
            idempotent_latencies, latencies = measure_latency(config, args)
        finally:
            serve.stop(300)

    print(f"produce, acks=all, 100-byte values, linger.ms 5: kafkalab {lab_produce:,.0f} rec/s, "
          f"mock {mock_produce:,.0f} rec/s, ratio {lab_produce / mock_produce:.2f}x (target >= 0.5x)")
    print(f"consume: kafkalab read {lab_read:,} records at {lab_consume:,.0f} rec/s, mock read {mock_read:,} at "
          f"{mock_consume:,.0f} rec/s, ratio {lab_consume / mock_consume:.2f}x (target >= 0.5x)")
    report_latency(args, idempotent_latencies, latencies)
    print(f"machine load (1/5/15 min): {os.getloadavg()}")


def measure_latency(config: dict[str, Any], args: argparse.Namespace) -> tuple[list[float], list[float]]:
    """The latency runs at ``--client-nice``: the idempotent producer's latencies, then the default one's."""
    # The latency clients yield the CPU to the cluster (``--client-nice``): on a machine with two
    # CPUs, librdkafka's threads spin while a connection's five requests are in flight and took
    # over a core from the brokers (p99 55-71 ms at nice 0, 19 ms at nice 19, 2026-12-03).
    # Clients of a real cluster run on other machines; a slower client only adds to what it measures.
    os.nice(args.client_nice)
    # Nor should the client's own full garbage collections, over what the throughput runs left, stop its
    # producer and consumer: they are frozen, and full passes made rare, as ``kafkalab serve`` does.
    freeze_with_rare_full_passes()
    # The idempotent run first: the other leaves the brokers a backlog of requests to work off.
    idempotent_latencies = latency(config, args.rate, args.seconds, idempotent=True)
    return idempotent_latencies, latency(config, args.rate, args.seconds, idempotent=False)


def report_latency(args: argparse.Namespace, idempotent_latencies: list[float], latencies: list[float]) -> None:
    """Print each producer's latency percentiles."""
    for name, values in (("not idempotent, up to 1,000,000 requests in flight", latencies),
                         ("idempotent, up to 5 requests in flight", idempotent_latencies)):
        if values:
            print(f"end-to-end latency at {args.rate} rec/s (linger.ms 0, acks=all, {name}, client at nice "
                  f"{args.client_nice}): "
                  f"p50 {statistics.median(values):.2f} ms, p95 {percentile(values, 0.95):.2f} ms, "
                  f"p99 {percentile(values, 0.99):.2f} ms, max {max(values):.2f} ms over {len(values)} records "
                  f"(target p99 <= 20 ms)")
        else:
            print(f"end-to-end latency at {args.rate} rec/s ({name}): no record came back within the run")


if __name__ == "__main__":
    main()
