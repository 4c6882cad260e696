"""The consumer protocol: what a consumer puts in JoinGroup and receives in SyncGroup (Kafka's ``ConsumerProtocol``).

The group coordinator treats both as opaque bytes; only consumers read them. We write
``ConsumerProtocolSubscription`` and ``ConsumerProtocolAssignment`` version 3 byte for
byte as Kafka 3.x does, so the group metadata stored in ``__consumer_offsets`` matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kafkalab.protocol.schema_io import Reader, Writer
from kafkalab.protocol.types import TopicPartition

#: JoinGroup's protocol type for consumer groups.
CONSUMER_PROTOCOL_TYPE = "consumer"
CONSUMER_PROTOCOL_VERSION = 3

#: Kafka's ``AbstractStickyAssignor.DEFAULT_GENERATION``: the member has no known generation.
DEFAULT_GENERATION = -1


@dataclass(frozen=True)
class Subscription:
    """What one member sent in its JoinGroup: topics, what it owns and its identity.

    ``owned_partitions`` and ``generation`` stand for the ConsumerProtocol v1+/v2+
    fields (for the eager ``sticky`` assignor: its user data). ``rack_id`` is carried
    but rack-aware assignment (KIP-881) is not implemented.
    """

    topics: tuple[str, ...]
    owned_partitions: tuple[TopicPartition, ...] = ()
    generation: int = DEFAULT_GENERATION
    group_instance_id: str | None = None
    rack_id: str | None = None


@dataclass(frozen=True)
class Assignment:
    """The partitions the leader gave one member, and the assignor's user data."""

    partitions: tuple[TopicPartition, ...]
    user_data: bytes | None = None


def _write_partitions(writer: Writer, partitions: Iterable[TopicPartition]) -> None:
    by_topic: dict[str, list[int]] = {}
    for tp in partitions:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    writer.array(list(by_topic.items()),
                 lambda w, item: w.string(item[0]).array(item[1], lambda w2, p: w2.int32(p)))


def _read_partitions(reader: Reader) -> tuple[TopicPartition, ...]:
    def topic(r: Reader) -> list[TopicPartition]:
        name = r.string() or ""
        return [TopicPartition(name, p) for p in r.array(lambda r2: r2.int32())]

    return tuple(tp for group in reader.array(topic) for tp in group)


def encode_subscription(subscription: Subscription, user_data: bytes | None = None) -> bytes:
    """``ConsumerProtocolSubscription`` v3: topics, user data, owned partitions, generation, rack."""
    writer = Writer().int16(CONSUMER_PROTOCOL_VERSION)
    writer.array(list(subscription.topics), lambda w, t: w.string(t))
    writer.bytes_(user_data)
    _write_partitions(writer, subscription.owned_partitions)
    writer.int32(subscription.generation)
    writer.string(subscription.rack_id)
    return writer.getvalue()


def decode_subscription(data: bytes, group_instance_id: str | None = None) -> tuple[Subscription, bytes | None]:
    """A member's subscription and user data; fields of versions it predates keep their defaults."""
    reader = Reader(data, "consumer protocol subscription")
    version = reader.int16()
    topics = tuple(t or "" for t in reader.array(lambda r: r.string()))
    user_data = reader.bytes_()
    owned = _read_partitions(reader) if version >= 1 else ()
    generation = reader.int32() if version >= 2 else DEFAULT_GENERATION
    rack = reader.string() if version >= 3 else None
    return Subscription(topics, owned, generation, group_instance_id, rack), user_data


def encode_assignment(assignment: Assignment) -> bytes:
    """``ConsumerProtocolAssignment`` v3: partitions grouped by topic, then user data."""
    writer = Writer().int16(CONSUMER_PROTOCOL_VERSION)
    _write_partitions(writer, assignment.partitions)
    writer.bytes_(assignment.user_data)
    return writer.getvalue()


def decode_assignment(data: bytes) -> Assignment:
    """The partitions in a SyncGroup assignment (empty bytes: nothing assigned)."""
    if not data:
        return Assignment(())
    reader = Reader(data, "consumer protocol assignment")
    reader.int16()
    partitions = _read_partitions(reader)
    return Assignment(partitions, reader.bytes_())


def encode_sticky_user_data(owned: Iterable[TopicPartition], generation: int) -> bytes:
    """``StickyAssignorUserData`` v1: the eager sticky assignor remembers its last assignment here."""
    writer = Writer()
    _write_partitions(writer, owned)
    writer.int32(generation)
    return writer.getvalue()


def decode_sticky_user_data(data: bytes) -> tuple[tuple[TopicPartition, ...], int]:
    """The previous assignment and generation a ``sticky`` member reported."""
    reader = Reader(data, "sticky assignor user data")
    owned = _read_partitions(reader)
    generation = reader.int32() if reader.remaining >= 4 else DEFAULT_GENERATION
    return owned, generation
