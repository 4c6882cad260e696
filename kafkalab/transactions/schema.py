"""The records of ``__transaction_state`` (Kafka's ``TransactionLog``).

The key is ``TransactionLogKey`` v0: an int16 version (0) and the transactional id. The
value is ``TransactionLogValue`` v0, the version Kafka 3.9 writes until
``transaction.version`` 1 is enabled: producer id, epoch, timeout, status (the state's
id), the partitions by topic (null when Empty), the last update and start timestamps.
A null value is a tombstone (an expired transactional id).
"""

from __future__ import annotations

from itertools import groupby

from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.schema_io import Reader, Writer
from kafkalab.protocol.types import TopicPartition
from kafkalab.transactions.state import TransactionMetadata, TransactionState, TxnTransit

KEY_VERSION = 0
VALUE_VERSION = 0


def key_bytes(transactional_id: str) -> bytes:
    return Writer().int16(KEY_VERSION).string(transactional_id).getvalue()


def decode_key(data: bytes) -> str:
    """The transactional id of a record; CORRUPT_MESSAGE for a key version Kafka never wrote."""
    reader = Reader(data, "TransactionLogKey")
    version = reader.int16()
    if version != KEY_VERSION:
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"Unknown __transaction_state key version {version}.")
    return reader.string() or ""


def value_bytes(transit: TxnTransit) -> bytes:
    writer = Writer().int16(VALUE_VERSION).int64(transit.producer_id).int16(transit.producer_epoch)
    writer.int32(transit.timeout_ms).int8(transit.state.id)
    if transit.state is TransactionState.EMPTY:
        writer.int32(-1)  # Kafka writes no partition array for an Empty transaction
    else:
        by_topic = [(topic, [tp.partition for tp in tps])
                    for topic, tps in groupby(sorted(transit.partitions), key=lambda tp: tp.topic)]
        writer.array(by_topic, lambda w, item: w.string(item[0]).array(item[1], Writer.int32))
    return writer.int64(transit.last_update_ms).int64(transit.start_ms).getvalue()


def decode_value(transactional_id: str, data: bytes) -> TransactionMetadata:
    """A ``TransactionLogValue`` v0 (v1, flexible, is written only once ``transaction.version`` 1 is enabled)."""
    reader = Reader(data, "TransactionLogValue")
    version = reader.int16()
    if version != VALUE_VERSION:
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"Unsupported __transaction_state value version {version}.")
    producer_id, epoch, timeout_ms = reader.int64(), reader.int16(), reader.int32()
    state = TransactionState.from_id(reader.int8())
    partitions: set[TopicPartition] = set()

    def read_topic(r: Reader) -> None:
        topic = r.string() or ""
        partitions.update(TopicPartition(topic, p) for p in r.array(Reader.int32))

    reader.array(read_topic)
    last_update, start = reader.int64(), reader.int64()
    return TransactionMetadata(transactional_id, producer_id, epoch, timeout_ms, state, last_update,
                               partitions=partitions if state is not TransactionState.EMPTY else set(), start_ms=start)
