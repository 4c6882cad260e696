"""The bits of Java the assignors' results depend on: hash-table iteration order (string order and
``String.hashCode`` are in ``kafkalab/clients/java_strings.py``).

Kafka's sticky assignor walks members in ``java.util.HashMap`` order and, when it
undoes a partition move, takes the first element of a ``java.util.HashSet``; who
keeps which partition can depend on that order, so we reproduce it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Generic, TypeVar

from kafkalab.clients.assignors.types import TopicPartition
from kafkalab.clients.java_strings import MASK32, java_string_hash

K = TypeVar("K", bound=Hashable)

# java.util.HashMap constants.
_DEFAULT_CAPACITY = 16
_TREEIFY_THRESHOLD = 8
_MIN_TREEIFY_CAPACITY = 64


def topic_partition_hash(tp: TopicPartition) -> int:
    """Kafka's ``TopicPartition.hashCode`` as an unsigned 32-bit value."""
    return (31 * (31 + tp.partition) + java_string_hash(tp.topic)) & MASK32


class JavaHashOrder(Generic[K]):
    """The keys of a ``java.util.HashMap``/``HashSet`` (default capacity), iterated in Java's order.

    Java iterates bucket by bucket (bucket = spread hash masked by the table size) and
    within a bucket in insertion order; the table doubles when more than 3/4 full, or
    when a bucket below 64 buckets would hold a 9th key. Tree bins (a bucket of 9+
    keys in a table of 64+) are not modelled; member ids and partitions never get there.
    """

    def __init__(self, hash_of: Callable[[K], int], keys: Iterable[K] = ()) -> None:
        self._hash_of = hash_of
        self._capacity = _DEFAULT_CAPACITY
        self._entries: dict[K, tuple[int, int]] = {}  # key -> (spread hash, insertion sequence)
        self._next_sequence = 0
        for key in keys:
            self.add(key)

    def add(self, key: K) -> None:
        """Insert ``key`` (a no-op when present, as ``put`` of an existing key)."""
        if key in self._entries:
            return
        h = self._hash_of(key)
        spread = h ^ (h >> 16)
        mask = self._capacity - 1
        in_bucket = sum(1 for other, _ in self._entries.values() if other & mask == spread & mask)
        if in_bucket >= _TREEIFY_THRESHOLD and self._capacity < _MIN_TREEIFY_CAPACITY:
            self._capacity *= 2  # HashMap.treeifyBin resizes small tables instead
        self._entries[key] = (spread, self._next_sequence)
        self._next_sequence += 1
        if len(self._entries) > self._capacity * 3 // 4:
            self._capacity *= 2

    def discard(self, key: K) -> None:
        """Remove ``key`` if present; Java tables never shrink."""
        self._entries.pop(key, None)

    def first(self) -> K:
        """What ``iterator().next()`` returns."""
        return min(self._entries, key=self._position)

    def _position(self, key: K) -> tuple[int, int]:
        spread, sequence = self._entries[key]
        return spread & (self._capacity - 1), sequence

    def __iter__(self) -> Iterator[K]:
        return iter(sorted(self._entries, key=self._position))

    def __len__(self) -> int:
        return len(self._entries)


def java_member_order(member_ids: Iterable[str]) -> list[str]:
    """Member ids in the order Java iterates a ``HashMap`` filled with them in this order."""
    return list(JavaHashOrder(java_string_hash, member_ids))
