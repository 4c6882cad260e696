"""Small value types shared by every API, and the base of every request."""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

#: The response type a request is answered with.
R_co = TypeVar("R_co", covariant=True)


class Request(Generic[R_co]):
    """A request answered by an ``R_co``: senders get a future of that type (or of a transport error)."""

    __slots__ = ()


class TopicPartition(NamedTuple):
    """A partition of a topic, printed as Kafka prints it: ``orders-0``.

    A named tuple rather than a dataclass: it keys most dictionaries of the engine, and a
    tuple hashes and compares in C, which a dataclass's generated methods do not.
    """

    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"


#: Kafka's sentinel for "no leader" in metadata and partition state.
NO_LEADER = -1

