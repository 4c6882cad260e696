"""A stream processor's built-in transforms and Kafka Streams' commit settings, for the lab's processors and for
those run on a real cluster through confluent-kafka (``kafkalab/attach/processor.py``).

Transforms are built in and chosen by name, because scenario and lesson files never run code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

Transform = Literal["copy", "uppercase", "key_by_value"]
ProcessingGuarantee = Literal["at_least_once", "exactly_once_v2"]
#: A record's key and value, as bytes.
KeyValue = tuple[bytes | None, bytes | None]

#: Kafka Streams' ``commit.interval.ms`` default under at_least_once.
DEFAULT_COMMIT_INTERVAL_MS = 30_000.0
#: Kafka Streams' ``commit.interval.ms`` default under exactly_once_v2 (``EOS_DEFAULT_COMMIT_INTERVAL_MS``).
EOS_COMMIT_INTERVAL_MS = 100.0
#: The ``transaction.timeout.ms`` Kafka Streams gives its producers under exactly_once_v2.
EOS_TRANSACTION_TIMEOUT_MS = 10_000


def commit_interval_ms(given: float | None, guarantee: ProcessingGuarantee) -> float:
    """``commit.interval.ms``: the one given, else Kafka Streams' default for the processing guarantee."""
    if given is not None:
        return given
    return EOS_COMMIT_INTERVAL_MS if guarantee == "exactly_once_v2" else DEFAULT_COMMIT_INTERVAL_MS


def _uppercase(key: bytes | None, value: bytes | None) -> KeyValue:
    """``mapValues(String::toUpperCase)``: the key, and so the partition, stays."""
    return key, value.upper() if value is not None else None


def _key_by_value(key: bytes | None, value: bytes | None) -> KeyValue:
    """``selectKey((k, v) -> v)``: a new key, so the output partition follows the value (a repartition)."""
    return value, value


TRANSFORMS: dict[str, Callable[[bytes | None, bytes | None], KeyValue]] = {
    "copy": lambda key, value: (key, value),
    "uppercase": _uppercase,
    "key_by_value": _key_by_value,
}


def forwarded(contains: str | None, value: bytes | None) -> bool:
    """Whether a record passes the processor's filter (``contains``: forward only values with this text)."""
    return contains is None or (value is not None and contains.encode() in value)
