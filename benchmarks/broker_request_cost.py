"""Engine CPU per acks=all produce request: what each record costs the brokers when clients send one at a time.

A 3-broker cluster (RF=3) on its virtual clock with a 4-partition topic and
``__consumer_offsets`` (50 partitions, created by a consumer group as any cluster with
groups has it). Each leader gets one single-record produce request at a time, the next
as soon as the last is acknowledged: the pattern of a client whose connection the broker
mutes until it answers (Kafka's ``SocketServer``), as under a latency test. Each
acknowledgement needs the leader's append, both followers' fetches and appends, and the
fetch that tells the leader they have it. The figure is process CPU time per request; the
virtual time per round trip shows the simulated hops it waited for (0.5 ms each).

This is the cost behind end-to-end latency through sockets (``wire_throughput.py``): the
brokers share one engine thread, so every round trip waits for the others' work too.

Run: ``python benchmarks/broker_request_cost.py [--requests 6000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

from bench_support import all_serving, load_average

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors
from kafkalab.protocol.produce import ProduceRequest, ProduceResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.records import encode_batch

TOPIC = "bench"
PARTITIONS = 4
VALUE = b"x" * 100


def ready_cluster(path: Path) -> Cluster:
    """The started cluster with the topic and ``__consumer_offsets`` serving."""
    cluster = Cluster.open(path, brokers=3, seed=1)
    cluster.wait(cluster.start())
    cluster.wait(cluster.create_topic(TOPIC, PARTITIONS, 3))
    cluster.scheduler.run_while(lambda: not all_serving(cluster, TOPIC, PARTITIONS), 60_000)
    consumer = cluster.consumer(group_id="readers", auto_offset_reset="earliest")
    consumer.subscribe([TOPIC])
    for _ in range(50):
        cluster.wait(consumer.poll(100))
    cluster.scheduler.run_while(lambda: not all_serving(cluster, "__consumer_offsets", 50), 60_000)
    cluster.wait(consumer.close())
    cluster.run_for(2000)
    return cluster


def measure(cluster: Cluster, requests: int) -> tuple[float, float]:
    """(CPU microseconds per request, virtual milliseconds per round trip) over ``requests`` requests."""
    view = cluster.snapshot().topic(TOPIC)
    assert view is not None
    by_leader: dict[int, list[TopicPartition]] = {}
    for partition in view.partitions:
        assert partition.leader is not None
        by_leader.setdefault(partition.leader, []).append(TopicPartition(TOPIC, partition.partition))
    sent = acknowledged = 0
    failures: list[object] = []

    def send(leader: int) -> None:
        nonlocal sent
        if sent >= requests:
            return
        partitions = by_leader[leader]
        tp = partitions[sent % len(partitions)]
        sent += 1
        request = ProduceRequest(-1, 30_000, {tp: encode_batch([(None, VALUE, (), cluster.scheduler.now_int_ms())])})
        cluster.client.send(leader, request, timeout_ms=31_000).add_done_callback(
            lambda future: done(leader, future.result()))

    def done(leader: int, response: ProduceResponse | Errors) -> None:
        nonlocal acknowledged
        if isinstance(response, Errors) or any(r.error != Errors.NONE for r in response.partitions.values()):
            failures.append(response)
            return
        acknowledged += 1
        send(leader)

    gc.collect()
    started_cpu, started_virtual = time.process_time(), cluster.scheduler.now_ms
    for leader in sorted(by_leader):
        send(leader)
    cluster.scheduler.run_while(lambda: acknowledged < requests and not failures, 36_000_000)
    if failures:
        raise SystemExit(f"produce failed: {failures[0]}")
    cpu = time.process_time() - started_cpu
    virtual = cluster.scheduler.now_ms - started_virtual
    return cpu / requests * 1e6, virtual / (requests / len(by_leader))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine load (1/5/15 min): {load_average()}")
    costs = []
    with tempfile.TemporaryDirectory() as directory:
        for run in range(args.runs):
            cluster = ready_cluster(Path(directory) / f"run-{run}")
            try:
                cost, round_trip = measure(cluster, args.requests)
            finally:
                cluster.close()
            costs.append(cost)
            print(f"run {run + 1}: {cost:.0f} us of CPU per request, {round_trip:.2f} ms virtual round trip")
    print(f"median {statistics.median(costs):.0f} us, worst {max(costs):.0f} us of CPU per single-record acks=all "
          f"produce request ({args.requests} requests, 3 brokers, RF=3, with __consumer_offsets)")
    print(f"machine load (1/5/15 min): {load_average()}")


if __name__ == "__main__":
    main()
