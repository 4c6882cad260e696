"""Key press to screen while a steady producer writes 20,000 records/s: p95 latency.

The app runs headless in real time (driver running at 1x) on a 3-broker cluster; the
engine thread produces 20,000 keyed records per second of virtual time into a
12-partition topic (acks=1, batches every 10 ms, until stopped) while the dashboard shows
it. Each sample presses ``]`` (select the next partition) and waits until the
compositor has put the change on screen: the time from the key event to that
update. Samples are spaced 100 ms apart. The achieved produce rate is reported too, with
the frames the UI received per second and the process's CPU time per record (the engine and
the UI share one interpreter lock, so together they get at most one CPU of Python).

With ``--network`` the records come from a real client instead: the app opens its Kafka
listener (free ports) and a confluent-kafka producer in another process
(``benchmarks/network_producer.py``) sends ``--rate`` records per second to it, as a
learner's own code beside the lab would. The brokers' links are as ``kafkalab`` has them (brokers on
one host, 0.05 ms one way) unless ``--link-latency-ms`` says otherwise.

Run: ``python benchmarks/tui_key_latency.py [--presses 200] [--rate 20000] [--network] [--link-latency-ms MS]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tui_support import NextPartitionKey, summary

from kafkalab.actions.cluster_actions import CreateTopic
from kafkalab.cluster.cluster import Cluster
from kafkalab.sim.network import ONE_HOST_LATENCY_MS
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.bridge import EngineBridge

TOPIC = "load"
PARTITIONS = 12
TICK_MS = 10.0


def start_load(cluster: Cluster, per_second: int, stop: list[bool]) -> None:
    """Produce ``per_second`` records per virtual second, one batch per partition each tick (engine thread)."""
    per_batch = max(1, int(per_second * TICK_MS / 1000 / PARTITIONS))
    records = [(f"key-{n}".encode(), b"x" * 100) for n in range(per_batch)]

    def tick() -> None:
        if stop[0]:
            return
        for partition in range(PARTITIONS):
            cluster.produce(TOPIC, partition, records, acks=1)
        cluster.scheduler.call_later(TICK_MS, tick)

    tick()


def produced(cluster: Cluster) -> int:
    topic = cluster.snapshot().topic(TOPIC)
    return sum(p.log_end_offset for p in topic.partitions) if topic else 0


def start_network_load(bootstrap: str, per_second: int) -> subprocess.Popen[str]:
    """A confluent-kafka producer in its own process, sending ``per_second`` records to the app's listener."""
    script = Path(__file__).with_name("network_producer.py")
    client = subprocess.Popen([sys.executable, str(script), bootstrap, TOPIC, str(per_second)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert client.stdout is not None
    if client.stdout.readline().strip() != "ready":
        client.kill()
        raise RuntimeError("the network producer did not start")
    return client


async def measure(app: KafkaLabApp, presses: int, rate: int, network: bool) -> tuple[list[float], float, float, float]:
    """Key latencies (ms), records/s achieved, frames the UI got per second and the process's CPU us per record."""
    async with app.run_test(size=(160, 48)):
        await app.settle()
        app.submit(CreateTopic(TOPIC, PARTITIONS, 3))
        await app.settle(step_ms=500)
        app.select(topic=TOPIC)
        stop = [False]
        app.bridge.set_paused(False)
        client = None
        if network:
            assert app.bridge.listener is not None
            client = await asyncio.to_thread(start_network_load, app.bridge.listener.bootstrap, rate)
        else:
            app.bridge.run_on_engine(lambda c: start_load(c, rate, stop))
        await asyncio.sleep(2.0)  # let the load settle in
        keys = NextPartitionKey(app, PARTITIONS)
        before_count = app.bridge.run_on_engine(produced).result()
        before_frame = app.frame.number if app.frame is not None else 0
        before_cpu = sum(os.times()[:2])
        before_time = time.perf_counter()
        latencies = []
        for _ in range(presses):
            began, ended = await keys.press()
            latencies.append((ended - began) * 1000)
        sent = app.bridge.run_on_engine(produced).result() - before_count
        elapsed = time.perf_counter() - before_time
        cpu_us_per_record = (sum(os.times()[:2]) - before_cpu) * 1e6 / max(1, sent)
        frames_per_second = ((app.frame.number if app.frame is not None else 0) - before_frame) / elapsed
        rate_achieved = sent / elapsed
        stop[0] = True
        if client is not None:
            await asyncio.to_thread(client.communicate, "", 120)
    return latencies, rate_achieved, frames_per_second, cpu_us_per_record


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--rate", type=int, default=20_000, help="records per second to produce (default 20000)")
    parser.add_argument("--network", action="store_true",
                        help="a confluent-kafka producer in another process sends the records through the listener")
    parser.add_argument("--link-latency-ms", type=float, default=ONE_HOST_LATENCY_MS,
                        help="one-way latency of the brokers' links (default 0.05, as `kafkalab` has them)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kafkalab-bench-keys-") as temp:
        bridge = EngineBridge.open(Path(temp) / "data", fresh=True, paused=True,
                                   listen=("127.0.0.1", 0) if args.network else None,
                                   link_latency_ms=args.link_latency_ms)
        app = KafkaLabApp(bridge)
        app.animation_level = "none"
        latencies, achieved, frames, cpu_us = asyncio.run(measure(app, args.presses, args.rate, args.network))
        bridge.close()
    source = "network producer (confluent-kafka)" if args.network else "steady producer"
    print(f"{source}: asked {args.rate:,} records/s, achieved {achieved:,.0f} records/s of wall time")
    print(f"the UI got {frames:.1f} frames/s; the process used {cpu_us:.1f} us of CPU per record")
    print(f"key press to screen: {summary(latencies)} (target: p95 < 50 ms)")


if __name__ == "__main__":
    main()
