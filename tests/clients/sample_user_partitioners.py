"""User partitioner functions for the ``load_custom_partitioner`` tests."""

from __future__ import annotations


def last_partition(topic: str, key: bytes | None, value: bytes | None, num_partitions: int) -> int:
    return num_partitions - 1


def by_value_length(topic: str, key: bytes | None, value: bytes | None, num_partitions: int) -> int:
    return len(value or b"") % num_partitions


def returns_text(topic: str, key: bytes | None, value: bytes | None, num_partitions: int) -> str:
    return "zero"


NOT_CALLABLE = 42
