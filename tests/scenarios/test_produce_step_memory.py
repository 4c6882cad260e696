"""A produce step waits for acknowledgements whenever its records fill the producer's buffer.memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab.actions.client_actions import Produce
from kafkalab.actions.execute import execute
from kafkalab.actions.results import ProduceResult
from kafkalab.clients.producer import Producer
from kafkalab.cluster.cluster import Cluster
from kafkalab.session.session import Session


def test_a_produce_step_never_holds_more_than_buffer_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = Cluster.open(tmp_path / "data", brokers=1, seed=1)
    cluster.wait(cluster.start())
    cluster.wait(cluster.create_topic("t", 2, 1))
    session = Session(cluster)
    held: list[int] = []
    send = Producer.send

    def measured_send(self: Producer, *args, **kwargs):  # type: ignore[no-untyped-def]
        held.append(self._accumulator.buffered_bytes)
        return send(self, *args, **kwargs)

    monkeypatch.setattr(Producer, "send", measured_send)
    step = Produce(topic="t", value="{i:>1000}", count=2000, config={"buffer.memory": 20_000, "linger.ms": 60_000})
    outcome = cluster.wait(execute(session, step))
    assert outcome.error is None and isinstance(outcome.result, ProduceResult) and len(outcome.result.records) == 2000
    assert max(held) < 20_000  # 2 MB went out through a 20 KB buffer
    assert cluster.snapshot().topic("t").partitions[0].high_watermark + \
        cluster.snapshot().topic("t").partitions[1].high_watermark == 2000
    session.close()
    cluster.close()
