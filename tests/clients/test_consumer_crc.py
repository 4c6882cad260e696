"""The consumer's own CRC check (``check.crcs``): damaged fetched bytes fail poll(), never reach the application."""

from __future__ import annotations

import pytest

from kafkalab.clients.consumer_fetcher import CompletedFetch
from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.records import encode_batch

TP = TopicPartition("orders", 2)


def _fetched(*batches: list[bytes]) -> bytes:
    """Batches as a leader stores them: consecutive offsets from 0."""
    data, offset = b"", 0
    for values in batches:
        data += encode_batch([(b"k", value, (), 1000) for value in values], base_offset=offset)
        offset += len(values)
    return data


def _flip(data: bytes, position: int) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= 0x04
    return bytes(damaged)


def test_records_before_a_corrupt_batch_come_first_then_every_take_raises_naming_partition_and_offset() -> None:
    good = _fetched([b"a", b"b"])
    data = _flip(_fetched([b"a", b"b"], [b"c", b"d"]), len(good) + 70)
    fetch = CompletedFetch(TP, data, check_crcs=True)
    assert [(r.offset, r.value) for r in fetch.take(0, 10)] == [(0, b"a"), (1, b"b")]
    for _ in range(2):
        with pytest.raises(KafkaError) as raised:
            fetch.take(2, 10)
        assert raised.value.error is Errors.CORRUPT_MESSAGE
        assert "partition orders-2 at offset 2" in raised.value.message
        assert "stored crc" in raised.value.message and "seek past" in raised.value.message
    assert not fetch.exhausted


def test_without_check_crcs_the_damaged_value_is_delivered_as_kafka_does() -> None:
    data = _flip(_fetched([b"value"]), len(_fetched([b"value"])) - 3)
    assert [r.value for r in CompletedFetch(TP, data, check_crcs=False).take(0, 10)] != [b"value"]
    with pytest.raises(KafkaError):
        CompletedFetch(TP, data, check_crcs=True).take(0, 10)


@pytest.mark.parametrize("damage", ["zeroed", "torn"])
def test_zeroed_or_torn_fetched_data_fails_with_corrupt_message(damage: str) -> None:
    data = _fetched([b"a"], [b"b"])
    first = len(_fetched([b"a"]))
    damaged = data[:first] + (bytes(len(data) - first) if damage == "zeroed" else data[first:-5])
    fetch = CompletedFetch(TP, damaged, check_crcs=True)
    assert [r.value for r in fetch.take(0, 10)] == [b"a"]
    with pytest.raises(KafkaError) as raised:
        fetch.take(1, 10)
    assert raised.value.error is Errors.CORRUPT_MESSAGE and "orders-2" in raised.value.message
