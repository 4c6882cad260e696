"""What every adapter shares: the request's context, the plan it returns and the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from kafkalab.protocol.types import TopicPartition

#: A response as a tree of plain values (see ``kafkalab.wire.build``); None sends nothing back.
Tree = Mapping[str, Any]
Finish = Callable[[Sequence[Any]], Tree | None]


class RequestContext(NamedTuple):
    """Who asked what, and the topic ids the receiving broker knows (read on the engine thread).

    Named tuples, this and ``Plan``: immutable without a frozen dataclass's ``object.__setattr__`` per field,
    and every network request builds one of each.
    """

    api_version: int
    client_id: str
    #: The client's address as Kafka writes it in group metadata (``/127.0.0.1``).
    client_host: str
    broker_id: int
    topic_ids: Mapping[str, str]

    def topic_named(self, topic_id: str) -> str | None:
        """The topic with this id, or None (UNKNOWN_TOPIC_ID)."""
        for name, known in self.topic_ids.items():
            if known == topic_id:
                return name
        return None


class Plan(NamedTuple):
    """The engine requests to send to the broker (in order) and how their answers become the response."""

    calls: tuple[Any, ...]
    finish: Finish
    #: False when the broker does not answer (acks=0 produce): the client's next request is read at once.
    replies: bool = True


Adapter = Callable[[Any, RequestContext], Plan]
ADAPTERS: dict[int, Adapter] = {}


def adapts(*api_keys: int) -> Callable[[Adapter], Adapter]:
    """Register the decorated function as the adapter of ``api_keys``."""

    def register(adapter: Adapter) -> Adapter:
        for key in api_keys:
            ADAPTERS[key] = adapter
        return adapter

    return register


def answer(tree: Tree | None) -> Plan:
    """A plan that needs no engine request: the adapter knows the answer already."""
    return Plan((), lambda results: tree)


def by_topic(items: Iterable[tuple[TopicPartition, Any]], partition_entry: Callable[[int, Any], dict[str, Any]],
             topic_entry: Callable[[str], dict[str, Any]], partitions_key: str = "partitions") -> list[dict[str, Any]]:
    """Per-partition results grouped per topic, in first-seen order, as Kafka's responses nest them."""
    topics: dict[str, dict[str, Any]] = {}
    for tp, value in items:
        entry = topics.get(tp.topic)
        if entry is None:
            entry = topics[tp.topic] = {**topic_entry(tp.topic), partitions_key: []}
        entry[partitions_key].append(partition_entry(tp.partition, value))
    return list(topics.values())
