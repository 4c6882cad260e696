"""How a producer picks a record's partition, matching Apache Kafka's Java producer.

A keyed record goes to ``murmur2(key)`` modulo the partition count (``Utils.murmur2``
and ``BuiltInPartitioner.partitionForKey``), so a key lands where a Java client would
put it. Keyless records use the built-in sticky partitioner of KIP-480/KIP-794
(Kafka >= 3.3) unless ``RoundRobinPartitioner`` or a user function is configured.

The producer calls ``choose_partition`` for every record and, after appending a
record to a batch, ``Partitioner.record_appended`` so sticky choices can move on.
"""

from __future__ import annotations

import importlib
import inspect
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from murmurhash2 import murmurhash2 as _murmurhash2

from kafkalab.errors import Errors, KafkaError, quoted

_MASK32 = 0xFFFFFFFF
#: Utils.murmur2's seed, which Kafka hard-codes.
MURMUR2_SEED = 0x9747B28C

CustomPartitionFn = Callable[[str, "bytes | None", "bytes | None", int], int]


def _to_int32(n: int) -> int:
    """Reinterpret the low 32 bits of ``n`` as a Java ``int``."""
    n &= _MASK32
    return n - (1 << 32) if n & 0x80000000 else n


def murmur2(data: bytes) -> int:
    """Kafka's 32-bit murmur2 hash of ``data`` as a signed Java ``int`` (``Utils.murmur2``).

    Every producer record with a key is hashed here: the ``murmurhash2`` package computes
    the same 32 bits natively (checked against Kafka's vectors and kafka-python's port).
    """
    h = _murmurhash2(data, MURMUR2_SEED)
    return h - (1 << 32) if h & 0x80000000 else h


#: murmur2 of ``(data, seed)`` as its unsigned 32 bits, the native function itself: ``partition_for_key`` and the
#: producer's path for keyed records call it with ``MURMUR2_SEED``.
murmur2_unsigned: Callable[[bytes, int], int] = _murmurhash2


def to_positive(n: int) -> int:
    """Clear the sign bit of a Java ``int`` as ``Utils.toPositive`` does (not ``abs``)."""
    return n & 0x7FFFFFFF


def partition_for_key(key: bytes, num_partitions: int) -> int:
    """The partition Kafka's default partitioner gives a serialized key.

    ``Producer.send`` writes the same expression out for every keyed record, to save a call.
    """
    # toPositive(murmur2(key)) is the unsigned hash's low 31 bits, in one call.
    return (murmur2_unsigned(key, MURMUR2_SEED) & 0x7FFFFFFF) % num_partitions


class Partitioner(Protocol):
    """What the producer asks to place a record that has no explicit partition."""

    def partition(self, topic: str, key: bytes | None, value: bytes | None,
                  num_partitions: int, available_partitions: Sequence[int]) -> int:
        """Return the partition for a record; ``available_partitions`` are those with a leader, in metadata order."""
        ...

    def record_appended(self, topic: str, partition: int, key: bytes | None,
                        size_bytes: int, batch_full: bool = True) -> None:
        """Tell the partitioner a record it placed was appended to ``partition``'s open batch."""
        ...


@dataclass
class _StickyPartition:
    """The partition keyless records of one topic currently stick to, and bytes sent to it."""

    partition: int
    produced_bytes: int = 0


class BuiltInPartitioner:
    """Kafka's default: murmur2 for keys, one sticky partition per topic for keyless records.

    Mirrors ``BuiltInPartitioner`` (KIP-794): keyless records stay on one partition
    until ``batch_size`` bytes went to it (up to twice that while its batch is not
    full), then a new partition is drawn uniformly among those with a leader.
    Left out: the adaptive, queue-size-weighted draw of
    ``partitioner.adaptive.partitioning.enable``; we always draw uniformly, which is
    what Kafka does when that option is off or all partition queues are equal.
    The next partition is drawn when the next keyless record arrives rather than at
    the moment of the switch, so it sees the metadata of that moment.
    """

    def __init__(self, batch_size: int, rng: random.Random) -> None:
        if batch_size < 1:
            raise KafkaError(Errors.INVALID_CONFIG,
                             f"batch.size must be at least 1 for sticky partitioning, got {batch_size}.")
        self._batch_size = batch_size
        self._rng = rng
        self._sticky: dict[str, _StickyPartition] = {}

    def partition(self, topic: str, key: bytes | None, value: bytes | None,
                  num_partitions: int, available_partitions: Sequence[int]) -> int:
        """Hash a key with murmur2 (even to a leaderless partition); keyless records get the sticky partition."""
        if key is not None:
            return partition_for_key(key, num_partitions)
        sticky = self._sticky.get(topic)
        if sticky is None:
            sticky = _StickyPartition(self._draw_partition(num_partitions, available_partitions))
            self._sticky[topic] = sticky
        return sticky.partition

    def record_appended(self, topic: str, partition: int, key: bytes | None,
                        size_bytes: int, batch_full: bool = True) -> None:
        """Count a keyless record's bytes and switch partition once enough went to it.

        ``batch_full`` is whether all of the partition's batches are full after the
        append; while the last batch is still open Kafka defers the switch up to
        ``2 * batch_size`` bytes (``RecordAccumulator.allBatchesFull``). Call with
        ``size_bytes=0`` when that batch fills or is sent, to complete a deferred switch.
        """
        sticky = self._sticky.get(topic)
        if key is not None or sticky is None or sticky.partition != partition:
            return
        sticky.produced_bytes += size_bytes
        if (sticky.produced_bytes >= self._batch_size and batch_full) or sticky.produced_bytes >= 2 * self._batch_size:
            del self._sticky[topic]

    def sticky_partition(self, topic: str) -> int | None:
        """The partition keyless records of ``topic`` currently go to, or None before the next draw."""
        sticky = self._sticky.get(topic)
        return None if sticky is None else sticky.partition

    def _draw_partition(self, num_partitions: int, available_partitions: Sequence[int]) -> int:
        """Pick uniformly among available partitions, or among all when none has a leader."""
        draw = self._rng.getrandbits(31)  # toPositive(nextInt()) is uniform on [0, 2**31)
        if available_partitions:
            return available_partitions[draw % len(available_partitions)]
        return draw % num_partitions


class RoundRobinPartitioner:
    """Kafka's ``RoundRobinPartitioner``: a per-topic counter over available partitions, keys ignored.

    When Kafka's producer opens a new batch for a record placed by a pluggable
    partitioner it asks the partitioner a second time (KAFKA-9965); a producer that
    wants that quirk calls ``partition`` again in that case.
    """

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}

    def partition(self, topic: str, key: bytes | None, value: bytes | None,
                  num_partitions: int, available_partitions: Sequence[int]) -> int:
        """Take the topic's next counter value modulo the available (else all) partitions."""
        counter = self._counters.get(topic, 0)
        self._counters[topic] = _to_int32(counter + 1)  # an AtomicInteger wraps around
        if available_partitions:
            return available_partitions[to_positive(counter) % len(available_partitions)]
        return to_positive(counter) % num_partitions

    def record_appended(self, topic: str, partition: int, key: bytes | None,
                        size_bytes: int, batch_full: bool = True) -> None:
        """Round robin does not care what was appended."""


@dataclass(frozen=True)
class FunctionPartitioner:
    """A user function ``fn(topic, key, value, num_partitions) -> int`` used as ``partitioner.class``."""

    fn: CustomPartitionFn
    name: str

    def partition(self, topic: str, key: bytes | None, value: bytes | None,
                  num_partitions: int, available_partitions: Sequence[int]) -> int:
        """Call the user function and insist on an integer answer; its failure fails the record, not the producer."""
        try:
            result = self.fn(topic, key, value, num_partitions)
        except Exception as exc:  # the user's code: Kafka's send() throws it to the caller, here the record's future
            raise KafkaError(Errors.INVALID_ARGUMENT, f"The partitioner {self.name} raised "
                                                      f"{type(exc).__name__}: {quoted(str(exc))}.") from exc
        if isinstance(result, bool) or not isinstance(result, int):
            raise KafkaError(Errors.INVALID_ARGUMENT,
                             f"The partitioner {self.name} returned {quoted(result)}; a partitioner must return an int.")
        return result

    def record_appended(self, topic: str, partition: int, key: bytes | None,
                        size_bytes: int, batch_full: bool = True) -> None:
        """A user function keeps no stickiness state."""


def load_custom_partitioner(dotted_path: str) -> FunctionPartitioner:
    """Import a user partitioner given as ``package.module:function`` or ``package.module.function``."""
    module_name, sep, attribute = dotted_path.partition(":")
    if not sep:
        module_name, _, attribute = dotted_path.rpartition(".")
    if not module_name or not attribute:
        raise KafkaError(Errors.INVALID_CONFIG,
                         f"Partitioner '{dotted_path}' must be written as "
                         "package.module:function or package.module.function.")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise KafkaError(Errors.INVALID_CONFIG,
                         f"Could not import module '{module_name}' for partitioner '{dotted_path}': {exc}.") from exc
    fn = getattr(module, attribute, None)
    if fn is None:
        raise KafkaError(Errors.INVALID_CONFIG,
                         f"Module '{module_name}' has no attribute '{attribute}' to use as a partitioner.")
    if not callable(fn):
        raise KafkaError(Errors.INVALID_CONFIG,
                         f"Partitioner '{dotted_path}' is a {type(fn).__name__}, "
                         "not a callable fn(topic, key, value, num_partitions).")
    return function_partitioner(fn, dotted_path)


def function_partitioner(fn: CustomPartitionFn, name: str) -> FunctionPartitioner:
    """``fn`` as a partitioner, once it is known to take ``(topic, key, value, num_partitions)``.

    A function whose signature Python cannot tell (some built-ins) is accepted; its calls are guarded anyway.
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return FunctionPartitioner(fn, name)
    try:
        signature.bind("topic", b"key", b"value", 1)
    except TypeError as exc:
        raise KafkaError(Errors.INVALID_CONFIG,
                         f"Partitioner '{name}' cannot be called as fn(topic, key, value, num_partitions): "
                         f"{exc}.") from exc
    return FunctionPartitioner(fn, name)


def choose_partition(partitioner: Partitioner, topic: str, partition: int | None, key: bytes | None,
                     value: bytes | None, num_partitions: int, available_partitions: Sequence[int]) -> int:
    """The partition a record goes to: the explicit one if given, else the partitioner's choice.

    Follows ``KafkaProducer.partition``: an explicit partition bypasses the partitioner.
    """
    if partition is not None:
        if partition < 0:  # ProducerRecord rejects it when the record is built
            raise KafkaError(Errors.INVALID_ARGUMENT,
                             f"Invalid partition: {partition}. Partition number should always be non-negative or null.")
        chosen = partition
    else:
        chosen = partitioner.partition(topic, key, value, num_partitions, available_partitions)
        if chosen < 0:
            raise KafkaError(Errors.INVALID_ARGUMENT,
                             f"The partitioner generated an invalid partition number: {chosen}. "
                             "Partition number should always be non-negative.")
    if chosen >= num_partitions:
        raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                         f"Partition {quoted(chosen)} of topic {topic} with partition count {num_partitions} does not "
                         f"exist.")
    return chosen
