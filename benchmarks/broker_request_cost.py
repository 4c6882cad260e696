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

With ``--wire`` each request arrives as a network client's does, without the sockets: a
Produce v10 frame (the version librdkafka 2.x sends, built before the clock starts) is
decoded, goes through the listener's gateway and adapter, and its response is encoded
into a frame, as ``WireServer`` does between ``recv`` and ``send``. Its difference from
the default run (which builds each record batch while timed) is the wire layer's CPU.

Run: ``python benchmarks/broker_request_cost.py [--requests 6000] [--runs 3] [--wire]``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_support import all_serving, load_average
from kio.schema.produce.v10 import request as produce_v10
from kio.schema.types import TopicName
from kio.serial import entity_writer
from kio.static.primitive import i16, i32

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors
from kafkalab.protocol.produce import ProduceRequest, ProduceResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.records import encode_batch
from kafkalab.wire.adapters.base import Tree
from kafkalab.wire.apis import PRODUCE
from kafkalab.wire.frames import DecodedRequest, decode_request, encode_response
from kafkalab.wire.gateway import ConnectionRef, Gateway

TOPIC = "bench"
PARTITIONS = 4
VALUE = b"x" * 100
#: Sends one produce request to a leader and calls back with whether it was acknowledged without error.
Sender = Callable[[int, TopicPartition, Callable[[bool], None]], None]


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


def engine_sender(cluster: Cluster) -> Sender:
    """Each request as an in-process client sends it: a ``ProduceRequest`` from the cluster's client node."""

    def send(leader: int, tp: TopicPartition, done: Callable[[bool], None]) -> None:
        request = ProduceRequest(-1, 30_000, {tp: encode_batch([(None, VALUE, (), cluster.scheduler.now_int_ms())])})
        cluster.client.send(leader, request, timeout_ms=31_000).add_done_callback(
            lambda future: done(_acknowledged(future.result())))

    return send


def _acknowledged(response: ProduceResponse | Errors) -> bool:
    return not isinstance(response, Errors) and all(r.error == Errors.NONE for r in response.partitions.values())


def produce_frame(tp: TopicPartition, batch: bytes) -> bytes:
    """A Produce v10 request frame (without its size prefix) as librdkafka sends it: acks=all, one partition."""
    body = produce_v10.ProduceRequest(
        transactional_id=None, acks=i16(-1), timeout=datetime.timedelta(seconds=30),
        topic_data=(produce_v10.TopicProduceData(name=TopicName(tp.topic), partition_data=(
            produce_v10.PartitionProduceData(index=i32(tp.partition), records=batch),)),))
    header = produce_v10.RequestHeader(request_api_key=i16(PRODUCE), request_api_version=i16(10),
                                       correlation_id=i32(1), client_id="bench-producer")
    out = io.BytesIO()
    entity_writer(produce_v10.RequestHeader)(out, header)
    entity_writer(produce_v10.ProduceRequest)(out, body)
    return out.getvalue()


class _Answers:
    """The sockets' side of the gateway: each response is encoded into its frame, as ``WireServer`` does."""

    def __init__(self) -> None:
        self.waiting: dict[int, Callable[[bool], None]] = {}

    def respond(self, conn_id: int, request: DecodedRequest, tree: Tree | None) -> None:
        assert tree is not None
        encode_response(request.api_key, request.api_version, request.correlation_id, tree)
        errors = [p["error_code"] for topic in tree["responses"] for p in topic["partition_responses"]]
        self.waiting.pop(conn_id)(all(error == Errors.NONE for error in errors))

    def close_connection(self, conn_id: int) -> None:
        self.waiting.pop(conn_id)(False)

    def set_serving(self, broker_id: int, serving: bool) -> None:
        pass


def wire_sender(cluster: Cluster) -> Sender:
    """Each request as a network client's arrives: a Produce v10 frame, decoded and sent through the gateway."""
    answers = _Answers()
    gateway = Gateway(cluster, answers)
    batch = encode_batch([(None, VALUE, (), cluster.scheduler.now_int_ms())])
    frames = {TopicPartition(TOPIC, number): produce_frame(TopicPartition(TOPIC, number), batch)
              for number in range(PARTITIONS)}

    def send(leader: int, tp: TopicPartition, done: Callable[[bool], None]) -> None:
        answers.waiting[leader] = done
        gateway.dispatch(ConnectionRef(leader, f"wire-{leader}", leader, "/127.0.0.1"), decode_request(frames[tp]))

    return send


def measure(cluster: Cluster, requests: int, sender: Sender) -> tuple[float, float]:
    """(CPU microseconds per request, virtual milliseconds per round trip) over ``requests`` requests."""
    view = cluster.snapshot().topic(TOPIC)
    assert view is not None
    by_leader: dict[int, list[TopicPartition]] = {}
    for partition in view.partitions:
        assert partition.leader is not None
        by_leader.setdefault(partition.leader, []).append(TopicPartition(TOPIC, partition.partition))
    sent = acknowledged = 0
    failed = False

    def send(leader: int) -> None:
        nonlocal sent
        if sent >= requests:
            return
        partitions = by_leader[leader]
        tp = partitions[sent % len(partitions)]
        sent += 1
        sender(leader, tp, lambda ok: done(leader, ok))

    def done(leader: int, ok: bool) -> None:
        nonlocal acknowledged, failed
        if not ok:
            failed = True
            return
        acknowledged += 1
        send(leader)

    gc.collect()
    started_cpu, started_virtual = time.process_time(), cluster.scheduler.now_ms
    for leader in sorted(by_leader):
        send(leader)
    cluster.scheduler.run_while(lambda: acknowledged < requests and not failed, 36_000_000)
    if failed:
        raise SystemExit("a produce request failed")
    cpu = time.process_time() - started_cpu
    virtual = cluster.scheduler.now_ms - started_virtual
    return cpu / requests * 1e6, virtual / (requests / len(by_leader))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wire", action="store_true",
                        help="requests arrive as Produce v10 frames through the listener's gateway (no sockets)")
    args = parser.parse_args()
    print(f"machine load (1/5/15 min): {load_average()}")
    costs = []
    with tempfile.TemporaryDirectory() as directory:
        for run in range(args.runs):
            cluster = ready_cluster(Path(directory) / f"run-{run}")
            try:
                sender = wire_sender(cluster) if args.wire else engine_sender(cluster)
                cost, round_trip = measure(cluster, args.requests, sender)
            finally:
                cluster.close()
            costs.append(cost)
            print(f"run {run + 1}: {cost:.0f} us of CPU per request, {round_trip:.2f} ms virtual round trip")
    print(f"median {statistics.median(costs):.0f} us, worst {max(costs):.0f} us of CPU per single-record acks=all "
          f"produce request ({args.requests} requests, 3 brokers, RF=3, with __consumer_offsets"
          f"{', through the wire gateway' if args.wire else ''})")
    print(f"machine load (1/5/15 min): {load_average()}")


if __name__ == "__main__":
    main()
