"""The attached processor's ``on_lost``: under exactly_once_v2 it aborts the open transaction, as Streams' handleLostAll."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from kafkalab.attach.processor import RealProcessor


class FakeProducer:
    """Records the transactional calls confluent-kafka's Producer would get."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self.calls.append(name)


@dataclass(frozen=True)
class Message:
    offset_: int

    def topic(self) -> str:
        return "orders"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self.offset_

    def key(self) -> bytes:
        return b"k"

    def value(self) -> bytes:
        return b"v"

    def headers(self) -> list[tuple[str, bytes]]:
        return []


def test_lost_partitions_abort_the_open_transaction_and_the_next_records_begin_another() -> None:
    ck = SimpleNamespace(Producer=FakeProducer, KafkaException=RuntimeError)
    processor = RealProcessor(ck, {}, "out", "copy", None, 60_000, 5, transactional_id="g-p1")  # type: ignore[arg-type]
    producer = processor._producer
    processor.forward([Message(0)])
    processor.on_lost(None, [SimpleNamespace(topic="orders", partition=0)])
    assert [call for call in producer.calls if "transaction" in call] == [
        "init_transactions", "begin_transaction", "abort_transaction"]
    # Nothing of the lost partition is left to commit, and the next records open a new transaction.
    assert not processor.commit_needed(None)
    processor.forward([Message(1)])
    assert [call for call in producer.calls if "transaction" in call][-1] == "begin_transaction"
