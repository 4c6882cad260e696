"""A client producing continuously while its leader is killed and restarted through ``serve``'s standard input.

Every record the client saw acknowledged must be consumed exactly at the offset it was
acknowledged with: acks=all with min.insync.replicas=2 means an acknowledged record is on
a majority of replicas, so the leader elected after the crash has it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

confluent_kafka = pytest.importorskip("confluent_kafka")

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

from tests.wire.serve_process import ServeProcess  # noqa: E402


@pytest.fixture
def fast_serve(tmp_path: Path) -> Iterator[ServeProcess]:
    """A cluster that notices a dead broker after 4 s instead of 18 s."""
    process = ServeProcess(tmp_path / "data", extra=("--config", "zookeeper.session.timeout.ms=4000"))
    yield process
    assert process.stop() == 0


class ContinuousProducer:
    """Produces numbered records until stopped, remembering where each acknowledged one landed."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                                  "linger.ms": 2, "message.timeout.ms": 120_000, "client.id": "steady"})
        self.topic = topic
        self.acknowledged: dict[tuple[int, int], bytes] = {}
        self.failed: list[Any] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _delivered(self, error: Any, message: Any) -> None:
        if error is not None:
            self.failed.append(error)
        else:
            self.acknowledged[(message.partition(), message.offset())] = message.value()

    def _run(self) -> None:
        sequence = 0
        while not self._stop.is_set():
            self.producer.produce(self.topic, value=b"record-%d" % sequence, on_delivery=self._delivered)
            sequence += 1
            self.producer.poll(0.002)

    def count(self) -> int:
        return len(self.acknowledged)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        assert self.producer.flush(120) == 0


def test_the_client_follows_the_new_leader_and_keeps_every_acknowledged_record(fast_serve: ServeProcess) -> None:
    serve = fast_serve
    assert serve.act("create_topic: {name: steady, partitions: 1, replication_factor: 3, "
                     "config: {min.insync.replicas: 2}}")["ok"]
    producer = ContinuousProducer(serve.bootstrap, "steady")
    serve.wait_for(lambda: producer.count() > 200, what="records acknowledged before the crash")
    leader = serve.leader_of("steady", 0)
    assert serve.act(f"kill_broker: {leader}")["ok"]
    before_failover = producer.count()
    serve.wait_for(lambda: serve.leader_of("steady", 0) not in (leader, None), timeout=60, what="a new leader")
    serve.wait_for(lambda: producer.count() > before_failover + 200, timeout=60,
                   what="records acknowledged by the new leader")
    assert serve.act(f"restart_broker: {leader}")["ok"]
    serve.wait_for(lambda: len(serve.act("describe_topic: steady")["result"]["partitions"][0]["isr"]) == 3,
                   timeout=60, what="the restarted broker back in the ISR")
    after_restart = producer.count()
    serve.wait_for(lambda: producer.count() > after_restart + 100, what="records after the restart")
    producer.stop()
    assert producer.failed == []

    acknowledged = producer.acknowledged
    consumer = Consumer({"bootstrap.servers": serve.bootstrap, "group.id": "audit", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition("steady", 0, 0)])
    seen: dict[tuple[int, int], bytes] = {}
    deadline = time.monotonic() + 60
    end = max(offset for _, offset in acknowledged) + 1
    while time.monotonic() < deadline and len(seen) < end:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen[(message.partition(), message.offset())] = message.value()
    consumer.close()
    assert all(seen.get(position) == value for position, value in acknowledged.items())
    assert len(set(acknowledged.values())) == len(acknowledged)  # no record was acknowledged twice
