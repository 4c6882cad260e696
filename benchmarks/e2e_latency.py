"""End-to-end latency, produce() to poll(), of a 3-broker cluster driven in real time (acks=all, RF=3).

A producer with Kafka's defaults (acks=all, linger.ms=0, idempotence on) sends one
small record every ``1/rate`` seconds of virtual time; a consumer assigned every
partition keeps polling. The cluster runs under ``RealtimeDriver``, so virtual time
follows the wall clock. Each record's latency is measured twice: in wall-clock time
between the engine executing the send and the engine handing the record to the
consumer's poll loop, and in virtual time (the record timestamp to the poll). The first
second is warm-up and not counted. The driver's ``tick`` bounds how late a timer can
run, so it is part of what is measured.

Run: ``python benchmarks/e2e_latency.py [--rate 5000] [--seconds 10] [--partitions 3] [--tick-ms 1]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

from kafkalab.clients.consumer_loop import PollLoop
from kafkalab.cluster.cluster import Cluster
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.realtime_clock import RealtimeDriver

WARMUP_S = 1.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=5000, help="records per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--tick-ms", type=float, default=1.0, help="real-time driver tick")
    parser.add_argument("--dir", default=None, help="where the data directory goes (default: a temp dir)")
    parser.add_argument("--freeze-gc", action="store_true", help="gc.freeze() after set-up")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        cluster = Cluster.open(Path(directory) / "data", brokers=3, seed=1)
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic("latency", args.partitions, 3))
        producer = cluster.producer(acks="all")
        consumer = cluster.consumer(auto_offset_reset="latest")
        partitions = [TopicPartition("latency", p) for p in range(args.partitions)]
        cluster.wait(producer.send("latency", b"warm-up"))
        consumer.assign(partitions)
        for tp in partitions:
            cluster.wait(consumer.position(tp))  # latest: after the warm-up record

        total = int(args.rate * args.seconds)
        interval_ms = 1000.0 / args.rate
        sent_at: dict[int, tuple[float, float]] = {}  # seq -> (wall, virtual) when the engine ran send()
        wall_latency: list[float] = []
        virtual_latency: list[float] = []
        warmup = int(args.rate * WARMUP_S)
        scheduler = cluster.scheduler

        def on_records(records):
            wall, virtual = time.perf_counter(), scheduler.now_ms
            for record in records:
                seq = int(record.value)
                if seq >= warmup and seq in sent_at:
                    wall_sent, virtual_sent = sent_at.pop(seq)
                    wall_latency.append((wall - wall_sent) * 1000)
                    virtual_latency.append(virtual - virtual_sent)

        def send(seq: int) -> None:
            sent_at[seq] = (time.perf_counter(), scheduler.now_ms)
            producer.send("latency", b"%d" % seq)
            if seq + 1 < total:
                scheduler.call_at(start_ms + (seq + 1) * interval_ms, send, seq + 1)

        PollLoop(consumer, on_records, poll_timeout_ms=100).start()
        if args.freeze_gc:
            gc.freeze()  # keep the set-up objects out of later full collections, whose pauses stall the one thread
        driver = RealtimeDriver(scheduler, tick_seconds=args.tick_ms / 1000)
        start_ms = scheduler.now_ms + 10
        scheduler.call_at(start_ms, send, 0)
        started = time.perf_counter()
        driver.start()
        time.sleep(args.seconds + 1.5)
        behind_ms = driver.submit(lambda: (time.perf_counter() - started) * 1000 - (scheduler.now_ms - start_ms + 10)).result()
        driver.stop()
        if driver.error is not None:
            raise driver.error
        cluster.close()

    received = len(wall_latency)
    print(f"rate {args.rate}/s for {args.seconds:g} s, {args.partitions} partitions, acks=all, RF=3, "
          f"tick {args.tick_ms:g} ms: {received} of {total - warmup} measured records received")
    print(f"wall-clock latency ms: p50 {statistics.median(wall_latency):.2f}  p99 {percentile(wall_latency, 0.99):.2f}  "
          f"max {max(wall_latency):.2f}")
    print(f"virtual latency ms:    p50 {statistics.median(virtual_latency):.2f}  "
          f"p99 {percentile(virtual_latency, 0.99):.2f}")
    print(f"virtual time behind the wall clock at the end: {behind_ms:.1f} ms")


if __name__ == "__main__":
    main()
