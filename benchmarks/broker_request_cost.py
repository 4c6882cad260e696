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

With ``--consumer`` (which implies ``--wire``) a consumer reads each record back as soon as
it is acknowledged: a Fetch v16 frame (what librdkafka 2.x sends: sessionless, the topic by
id, read_committed, max_wait 100 ms; built before the clock starts, only its fetch offset
written per request) asks the leader for the partition from the offset just written, goes
through the gateway on the consumer's own connection and its answer is encoded, before the
next record is produced. Its difference from ``--wire`` is the consumer's share of a record.

Run: ``python benchmarks/broker_request_cost.py [--requests 6000] [--runs 3] [--wire | --consumer]``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_support import all_serving, load_average
from kio.schema.fetch.v16 import request as fetch_v16
from kio.schema.produce.v10 import request as produce_v10
from kio.schema.types import TopicName
from kio.serial import entity_writer
from kio.static.primitive import i8, i16, i32, i64

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors
from kafkalab.protocol.produce import ProduceRequest, ProduceResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.records import encode_batch
from kafkalab.wire.adapters.base import Tree
from kafkalab.wire.apis import FETCH, PRODUCE
from kafkalab.wire.build import uuid_of
from kafkalab.wire.frames import DecodedRequest, decode_request, encode_response
from kafkalab.wire.gateway import ConnectionRef, Gateway

TOPIC = "bench"
PARTITIONS = 4
VALUE = b"x" * 100
#: Sends one produce request to a leader and calls back with whether it was acknowledged without error.
Sender = Callable[[int, TopicPartition, Callable[[bool], None]], None]
#: A connection's answer: the response tree, or None when the gateway closed the connection.
Answer = Callable[[Tree | None], None]
#: The consumers' connections to each leader are numbered after the producers' (whose id is the leader's).
CONSUMER_CONNECTIONS = 100
#: librdkafka's defaults: fetch.min.bytes, fetch.max.bytes, fetch.message.max.bytes, isolation.level
#: (read_committed); fetch.wait.max.ms is 500 there, 100 here.
FETCH_MIN_BYTES, FETCH_MAX_BYTES, FETCH_PARTITION_MAX_BYTES, READ_COMMITTED = 1, 52_428_800, 1_048_576, 1
FETCH_MAX_WAIT_MS = 100
_INT64 = struct.Struct(">q")


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


def fetch_frame(tp: TopicPartition, topic_id: str, leader_epoch: int) -> tuple[bytes, int]:
    """A Fetch v16 request frame (without its size prefix) as librdkafka 2.x sends it for one partition, and
    where its fetch offset is (to be written per request)."""
    marker = 0x0123_4567_89AB_CDEF
    body = fetch_v16.FetchRequest(
        cluster_id=None, replica_state=fetch_v16.ReplicaState(), max_wait=datetime.timedelta(milliseconds=FETCH_MAX_WAIT_MS),
        min_bytes=i32(FETCH_MIN_BYTES), max_bytes=i32(FETCH_MAX_BYTES), isolation_level=i8(READ_COMMITTED),
        session_id=i32(0), session_epoch=i32(-1), forgotten_topics_data=(), rack_id="",
        topics=(fetch_v16.FetchTopic(topic_id=uuid_of(topic_id), partitions=(fetch_v16.FetchPartition(
            partition=i32(tp.partition), current_leader_epoch=i32(leader_epoch), fetch_offset=i64(marker),
            last_fetched_epoch=i32(-1), log_start_offset=i64(-1), partition_max_bytes=i32(FETCH_PARTITION_MAX_BYTES)),)),))
    header = fetch_v16.RequestHeader(request_api_key=i16(FETCH), request_api_version=i16(16),
                                     correlation_id=i32(1), client_id="bench-consumer")
    out = io.BytesIO()
    entity_writer(fetch_v16.RequestHeader)(out, header)
    entity_writer(fetch_v16.FetchRequest)(out, body)
    frame = out.getvalue()
    return frame, frame.index(_INT64.pack(marker))


def _base_offset(tree: Tree | None) -> int | None:
    """Where a one-partition produce response put the record; None unless it was acknowledged without error."""
    if tree is None:
        return None
    partitions = [p for topic in tree["responses"] for p in topic["partition_responses"]]
    return partitions[0]["base_offset"] if all(p["error_code"] == Errors.NONE for p in partitions) else None


def _fetched(tree: Tree | None) -> bool:
    """True when a fetch response holds records and no error."""
    if tree is None or tree["error_code"] != Errors.NONE:
        return False
    partitions = [p for topic in tree["responses"] for p in topic["partitions"]]
    return all(p["error_code"] == Errors.NONE and p["records"] for p in partitions)


class _Answers:
    """The sockets' side of the gateway: each response is encoded into its frame, as ``WireServer`` does."""

    def __init__(self) -> None:
        self.waiting: dict[int, Answer] = {}

    def respond(self, conn_id: int, request: DecodedRequest, tree: Tree | None) -> None:
        assert tree is not None
        encode_response(request.api_key, request.api_version, request.correlation_id, tree)
        self.waiting.pop(conn_id)(tree)

    def close_connection(self, conn_id: int) -> None:
        self.waiting.pop(conn_id)(None)

    def set_serving(self, broker_id: int, serving: bool) -> None:
        pass


def wire_sender(cluster: Cluster, consumer: bool = False) -> Sender:
    """Each request as a network client's arrives: a Produce v10 frame, decoded and sent through the gateway.

    With ``consumer``, each acknowledged record is then fetched from its leader (a Fetch v16 frame on the
    consumer's connection) before ``done`` is told.
    """
    answers = _Answers()
    gateway = Gateway(cluster, answers)
    batch = encode_batch([(None, VALUE, (), cluster.scheduler.now_int_ms())])
    frames = {TopicPartition(TOPIC, number): produce_frame(TopicPartition(TOPIC, number), batch)
              for number in range(PARTITIONS)}
    view = cluster.snapshot().topic(TOPIC)
    assert view is not None
    fetches = {TopicPartition(TOPIC, p.partition): fetch_frame(TopicPartition(TOPIC, p.partition), view.topic_id,
                                                                 p.leader_epoch) for p in view.partitions}
    # Each connection's reference is built once, as WireServer builds it when it accepts the connection.
    producers = {leader: ConnectionRef(leader, f"wire-{leader}", leader, "/127.0.0.1") for leader in cluster.brokers}
    consumers = {leader: ConnectionRef(CONSUMER_CONNECTIONS + leader, f"wire-{CONSUMER_CONNECTIONS + leader}", leader,
                                       "/127.0.0.1") for leader in cluster.brokers}

    def fetch(leader: int, tp: TopicPartition, offset: int, done: Callable[[bool], None]) -> None:
        template, position = fetches[tp]
        frame = bytearray(template)
        _INT64.pack_into(frame, position, offset)
        conn = consumers[leader]
        answers.waiting[conn.conn_id] = lambda tree: done(_fetched(tree))
        gateway.dispatch(conn, decode_request(bytes(frame)))

    def send(leader: int, tp: TopicPartition, done: Callable[[bool], None]) -> None:
        def produced(tree: Tree | None) -> None:
            offset = _base_offset(tree)
            if offset is None or not consumer:
                done(offset is not None)
            else:
                fetch(leader, tp, offset, done)

        answers.waiting[leader] = produced
        gateway.dispatch(producers[leader], decode_request(frames[tp]))

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
    parser.add_argument("--consumer", action="store_true",
                        help="as --wire, and a consumer fetches each record (Fetch v16) once it is acknowledged")
    args = parser.parse_args()
    print(f"machine load (1/5/15 min): {load_average()}")
    costs = []
    with tempfile.TemporaryDirectory() as directory:
        for run in range(args.runs):
            cluster = ready_cluster(Path(directory) / f"run-{run}")
            try:
                sender = wire_sender(cluster, args.consumer) if args.wire or args.consumer else engine_sender(cluster)
                cost, round_trip = measure(cluster, args.requests, sender)
            finally:
                cluster.close()
            costs.append(cost)
            print(f"run {run + 1}: {cost:.0f} us of CPU per request, {round_trip:.2f} ms virtual round trip")
    print(f"median {statistics.median(costs):.0f} us, worst {max(costs):.0f} us of CPU per single-record acks=all "
          f"produce request ({args.requests} requests, 3 brokers, RF=3, with __consumer_offsets"
          f"{', through the wire gateway' if args.wire or args.consumer else ''}"
          f"{', each record fetched by a consumer' if args.consumer else ''})")
    print(f"machine load (1/5/15 min): {load_average()}")


if __name__ == "__main__":
    main()
