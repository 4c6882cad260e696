"""What every in-process client shares: a network node, bootstrap brokers and metadata.

Like Kafka's ``NetworkClient`` + ``Metadata``: metadata comes from any reachable broker,
is cached, and is refreshed when a request fails with a retriable error such as
NOT_LEADER_OR_FOLLOWER, so clients follow leaders as they move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from kafkalab.errors import Errors
from kafkalab.protocol.metadata import MetadataRequest, MetadataResponse, TopicMetadata
from kafkalab.protocol.types import Request, TopicPartition
from kafkalab.sim.network import Network
from kafkalab.sim.process import Future, Process
from kafkalab.sim.scheduler import TimerGroup

DEFAULT_REQUEST_TIMEOUT_MS = 30_000

R = TypeVar("R")


class ClientNode:
    """A client's place on the network and its view of the cluster."""

    def __init__(self, node: str, group: TimerGroup, network: Network, bootstrap: Callable[[], Sequence[int]],
                 request_timeout_ms: int = DEFAULT_REQUEST_TIMEOUT_MS) -> None:
        self.node = node
        self.group = group
        self.network = network
        self.bootstrap = bootstrap
        self.request_timeout_ms = request_timeout_ms
        self.metadata: MetadataResponse | None = None
        #: Whether Metadata requests may create the topics they name (the consumer's ``allow.auto.create.topics``).
        self.allow_auto_topic_creation = True
        self._next_bootstrap = 0

    @property
    def now_ms(self) -> float:
        return self.group.scheduler.now_ms

    def send(self, broker_id: int, request: Request[R], timeout_ms: float | None = None) -> Future[R | Errors]:
        """Send to one broker; the future holds its response or the transport Errors value."""
        future: Future[R | Errors] = Future()
        self.network.request(self.node, f"broker-{broker_id}", request,
                             lambda response, error: future.set_result(error if error is not None else response),
                             self.request_timeout_ms if timeout_ms is None else timeout_ms)
        return future

    def send_to_any(self, request: Request[R]) -> Process[R | Errors]:
        """Try the bootstrap brokers in turn until one answers; Errors if none does."""
        brokers = list(self.bootstrap())
        last = Errors.BROKER_NOT_AVAILABLE
        for attempt in range(len(brokers)):
            broker_id = brokers[(self._next_bootstrap + attempt) % len(brokers)]
            response = yield self.send(broker_id, request, timeout_ms=min(self.request_timeout_ms, 5000))
            if not isinstance(response, Errors):
                self._next_bootstrap = (self._next_bootstrap + attempt) % len(brokers)
                return response
            last = response
        return last

    def refresh_metadata(self, topics: tuple[str, ...] | None = None) -> Process[MetadataResponse | Errors]:
        """Fetch fresh metadata from any broker and cache it."""
        response = yield from self.send_to_any(MetadataRequest(topics, self.allow_auto_topic_creation, self.node))
        if isinstance(response, MetadataResponse):
            self.metadata = response
        return response

    def topic(self, name: str) -> TopicMetadata | None:
        """Cached metadata of ``name``, if known and existing."""
        if self.metadata is None:
            return None
        for topic in self.metadata.topics:
            if topic.name == name and topic.error == Errors.NONE:
                return topic
        return None

    def leader_of(self, tp: TopicPartition) -> int:
        """Cached leader of ``tp`` or -1."""
        topic = self.topic(tp.topic)
        if topic is None:
            return -1
        for partition in topic.partitions:
            if partition.partition == tp.partition:
                return partition.leader
        return -1
