"""Java's string order and ``String.hashCode``, and Kafka's ``Utils.abs`` of it.

Kafka picks a group's or a transactional id's coordinator partition with
``Utils.abs(id.hashCode()) % partitions`` (``GroupCoordinator.partitionFor``,
``TransactionStateManager.partitionFor``), and its assignors order members and topics
as Java compares strings. The brokers' coordinators need the hash without the
assignors, so it lives apart from them.
"""

from __future__ import annotations

#: Java's ``int`` arithmetic, as an unsigned 32-bit mask.
MASK32 = 0xFFFFFFFF


def java_string_key(s: str) -> bytes:
    """A sort key that orders strings as Java's ``String.compareTo`` (UTF-16 code units)."""
    return s.encode("utf-16-be", "surrogatepass")


def java_string_hash(s: str) -> int:
    """Java's ``String.hashCode`` as an unsigned 32-bit value."""
    encoded = java_string_key(s)
    h = 0
    for i in range(0, len(encoded), 2):
        h = (31 * h + (encoded[i] << 8 | encoded[i + 1])) & MASK32
    return h


def java_abs_hash(s: str) -> int:
    """Kafka's ``Utils.abs(s.hashCode)``, which maps ``Integer.MIN_VALUE`` to 0: how a group or
    transactional id picks its coordinator's partition."""
    h = java_string_hash(s)
    signed = h - (1 << 32) if h & 0x80000000 else h
    return 0 if signed == -(1 << 31) else abs(signed)
