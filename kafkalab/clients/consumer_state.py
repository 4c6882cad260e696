"""What a consumer is reading and where it is: subscription, assignment, positions (Kafka's ``SubscriptionState``).

A consumer either subscribes to topics (the group assigns it partitions) or assigns
itself partitions by hand, never both. Each assigned partition has a position: the
offset of the next record poll() will return, or None until it is fetched from the
group's committed offset or chosen by ``auto.offset.reset``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.records import Header

#: A pending reset: "earliest" (log start offset) or "latest" (high watermark).
ResetStrategy = str


@dataclass(frozen=True, slots=True)
class ConsumerRecord:
    """A record as poll() returns it."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()


@dataclass(frozen=True)
class OffsetAndMetadata:
    """A committed offset: the next record to read, with optional metadata text."""

    offset: int
    metadata: str = ""
    leader_epoch: int = -1


class PartitionState:
    """One assigned partition: position, pause flag, pending reset and the last fetched high watermark."""

    __slots__ = ("high_watermark", "paused", "position", "reset", "reset_reason")

    def __init__(self) -> None:
        self.position: int | None = None
        self.paused = False
        self.reset: ResetStrategy | None = None
        self.reset_reason = ""
        self.high_watermark = -1


class SubscriptionState:
    """The consumer's subscription or manual assignment and per-partition state."""

    def __init__(self) -> None:
        self.topics: tuple[str, ...] = ()
        self.manual = False
        self.assigned: dict[TopicPartition, PartitionState] = {}

    @property
    def subscribed(self) -> bool:
        """True when the group assigns the partitions (``subscribe``)."""
        return bool(self.topics) and not self.manual

    def subscribe(self, topics: tuple[str, ...]) -> bool:
        """Switch to group assignment of ``topics``; returns whether the subscription changed."""
        if self.manual and self.assigned:
            raise KafkaError(Errors.ILLEGAL_STATE,
                             "Subscription to topics, partitions and pattern are mutually exclusive: this consumer "
                             "already assigned partitions with assign(); call unsubscribe() first.")
        changed = topics != self.topics
        self.topics, self.manual = topics, False
        return changed

    def assign_manually(self, partitions: Iterable[TopicPartition]) -> None:
        """Take exactly ``partitions`` (keeping positions of those already held)."""
        if self.subscribed:
            raise KafkaError(Errors.ILLEGAL_STATE,
                             "Subscription to topics, partitions and pattern are mutually exclusive: this consumer "
                             "already subscribed with subscribe(); call unsubscribe() first.")
        self.manual = True
        self.topics = ()
        self.set_assignment(partitions)

    def set_assignment(self, partitions: Iterable[TopicPartition]) -> None:
        """The partitions now owned; kept ones keep their position, new ones start without one."""
        wanted = list(dict.fromkeys(partitions))
        self.assigned = {tp: self.assigned.get(tp) or PartitionState() for tp in wanted}

    def unsubscribe(self) -> None:
        self.topics, self.manual, self.assigned = (), False, {}

    def state(self, tp: TopicPartition, action: str) -> PartitionState:
        """The partition's state; ILLEGAL_STATE (Kafka's wording) if it is not assigned."""
        state = self.assigned.get(tp)
        if state is None:
            raise KafkaError(Errors.ILLEGAL_STATE, f"No current assignment for partition {tp}: cannot {action} it.")
        return state

    def consumed(self) -> dict[TopicPartition, int]:
        """Positions of every partition that has one: what a commit of "everything returned so far" stores."""
        return {tp: s.position for tp, s in self.assigned.items() if s.position is not None}

    def fetchable(self) -> list[TopicPartition]:
        """Partitions with a position that are not paused."""
        return [tp for tp, s in self.assigned.items() if s.position is not None and not s.paused and s.reset is None]
