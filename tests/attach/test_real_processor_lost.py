"""The attached processor's lost partitions and refused commits: it drops its tasks, as Streams' handleLostAll."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

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


class CommitRefused(Exception):
    """confluent-kafka's KafkaException: its first argument is the KafkaError."""


@dataclass(frozen=True)
class Error:
    code_: int

    def code(self) -> int:
        return self.code_


class RefusingConsumer:
    """A consumer whose group moved on without it: the coordinator refuses its commits with ``code``."""

    def __init__(self, code: int) -> None:
        self.code = code

    def assignment(self) -> list[Any]:
        return [SimpleNamespace(topic="orders", partition=0)]

    def commit(self, offsets: Any, asynchronous: bool) -> None:
        raise CommitRefused(Error(self.code))

    def consumer_group_metadata(self) -> object:
        return object()


class RefusingProducer(FakeProducer):
    def flush(self, timeout: float) -> int:
        return 0

    def send_offsets_to_transaction(self, *args: Any) -> None:
        self.calls.append("send_offsets_to_transaction")
        raise CommitRefused(Error(22))  # ILLEGAL_GENERATION


@pytest.mark.parametrize("transactional_id", [None, "g-p1"])
def test_a_refused_commit_drops_the_tasks_and_the_processor_goes_on(transactional_id: str | None) -> None:
    ck = SimpleNamespace(Producer=RefusingProducer, KafkaException=CommitRefused, TopicPartition=lambda *args: args)
    processor = RealProcessor(ck, {}, "out", "copy", None, 60_000, 5,  # type: ignore[arg-type]
                              transactional_id=transactional_id)
    processor.forward([Message(0)])
    processor.commit(RefusingConsumer(25))  # UNKNOWN_MEMBER_ID (ILLEGAL_GENERATION under exactly_once_v2)
    # As Streams' TaskMigratedException -> handleLostAll: nothing left to commit, the transaction aborted.
    assert not processor.commit_needed(None)
    if transactional_id is not None:
        assert [call for call in processor._producer.calls if "transaction" in call][-2:] == [
            "send_offsets_to_transaction", "abort_transaction"]
    processor.forward([Message(1)])
    assert processor.commit_needed(None)


def test_other_commit_errors_still_stop_the_processor() -> None:
    ck = SimpleNamespace(Producer=RefusingProducer, KafkaException=CommitRefused, TopicPartition=lambda *args: args)
    processor = RealProcessor(ck, {}, "out", "copy", None, 60_000, 5)  # type: ignore[arg-type]
    processor.forward([Message(0)])
    with pytest.raises(CommitRefused):
        processor.commit(RefusingConsumer(7))  # REQUEST_TIMED_OUT
