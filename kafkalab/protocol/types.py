"""Small value types shared by every API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class TopicPartition:
    """A partition of a topic, printed as Kafka prints it: ``orders-0``."""

    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"


#: Kafka's sentinel for "no leader" in metadata and partition state.
NO_LEADER = -1

