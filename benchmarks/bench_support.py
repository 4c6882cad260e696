"""What the cluster benchmarks share: the record set, a Kafka-like sender and memory readings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kafkalab.clients.consumer import Consumer
from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors
from kafkalab.protocol.produce import ProduceRequest, ProduceResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.records import encode_batch

VALUE_BYTES = 100
BATCH_BYTES = 16 * 1024
#: Kafka's max.in.flight.requests.per.connection default.
IN_FLIGHT = 5


def batch_values() -> list[bytes]:
    """One batch worth of distinct 100-byte values (~16 KB encoded)."""
    count = BATCH_BYTES // (VALUE_BYTES + 8)
    return [(b"%08d" % i) * (VALUE_BYTES // 8) + b"v" * (VALUE_BYTES % 8) for i in range(count)]


def all_serving(cluster: Cluster, topic: str, partitions: int, replication_factor: int = 3) -> bool:
    """True once every replica of ``topic`` has applied its LeaderAndIsr: one leader, the rest following."""
    for number in range(partitions):
        tp = TopicPartition(topic, number)
        hosted = [broker.describe_replicas(tp).get(tp) for broker in cluster.brokers.values()]
        roles = [replica for replica in hosted if replica is not None and replica.leader_id >= 0]
        if len(roles) != replication_factor or sum(replica.is_leader for replica in roles) != 1:
            return False
    return True


def poll_all(cluster: Cluster, consumer: Consumer, expected: int) -> float:
    """Seconds for ``consumer`` (already assigned) to poll ``expected`` records; it is closed afterwards."""
    received = 0
    started = time.perf_counter()
    while received < expected:
        records = cluster.wait(consumer.poll(1000))
        if not records:
            raise SystemExit(f"the consumer stalled after {received} of {expected} records")
        received += len(records)
    seconds = time.perf_counter() - started
    cluster.wait(consumer.close())
    return seconds


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages (Linux ``/proc/loadavg``), as it prints them."""
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def rss_mb() -> tuple[float, float]:
    """Current and peak resident set size of this process, in MB (Linux ``/proc``)."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@dataclass
class SendReport:
    """What a produce run did."""

    batches: int
    bytes: int
    seconds: float


def produce_like_kafka(cluster: Cluster, topic: str, values: list[bytes], batches: int,
                       on_ack: Callable[[int], None] | None = None) -> SendReport:
    """Produce ``batches`` batches with acks=all the way Kafka's producer sender does.

    Each request goes to one leader and carries one ~16 KB batch for every partition that
    broker leads; at most ``IN_FLIGHT`` requests wait per broker. Records are encoded per
    batch, with the virtual clock's timestamp, exactly as ``Cluster.produce`` encodes them.
    """
    view = cluster.snapshot().topic(topic)
    assert view is not None
    by_leader: dict[int, list[TopicPartition]] = {}
    for partition in view.partitions:
        assert partition.leader is not None
        by_leader.setdefault(partition.leader, []).append(TopicPartition(topic, partition.partition))
    sent = acknowledged = written = 0
    failures: list[object] = []

    def send(leader: int) -> None:
        nonlocal sent, written
        tps = by_leader[leader][:batches - sent]
        if not tps:
            return
        now = cluster.scheduler.now_int_ms()
        request = ProduceRequest(-1, 30_000, {tp: encode_batch([(None, value, (), now) for value in values])
                                              for tp in tps})
        sent += len(tps)
        written += sum(len(batch) for batch in request.partitions.values())
        cluster.client.send(leader, request, timeout_ms=31_000).add_done_callback(
            lambda future: done(leader, future.result()))

    def done(leader: int, response: ProduceResponse | Errors) -> None:
        nonlocal acknowledged
        if isinstance(response, Errors) or any(r.error != Errors.NONE for r in response.partitions.values()):
            failures.append(response)
            return
        acknowledged += len(response.partitions)
        if on_ack is not None:
            on_ack(acknowledged)
        send(leader)

    started = time.perf_counter()
    for _ in range(IN_FLIGHT):
        for leader in sorted(by_leader):
            send(leader)
    cluster.scheduler.run_while(lambda: acknowledged < batches and not failures, 36_000_000)
    seconds = time.perf_counter() - started
    if failures or acknowledged < batches:
        raise SystemExit(f"produce failed: {failures[:1]} ({acknowledged} of {batches} acknowledged)")
    return SendReport(acknowledged, written, seconds)
