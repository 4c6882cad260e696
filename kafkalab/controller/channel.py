"""The controller's connections to brokers (Kafka's ``ControllerChannelManager``).

As in Kafka 3.9 (``core/src/main/scala/kafka/controller/ControllerChannelManager.scala``),
each broker gets its own sender, Kafka's ``RequestSendThread``: it sends the queued
requests one at a time, in order, and retries a failed one every ``RETRY_BACKOFF_MS``
until it gets an answer. ``removeBroker`` shuts that sender down and closes its
connection; a broker that comes back gets a new sender. Nothing of the old sender (its
queue, its request in flight, its retry timer) can then reach the new one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from kafkalab.errors import Errors
from kafkalab.protocol.controller_api import (
    LeaderAndIsrRequest,
    StopReplicaRequest,
    UpdateMetadataRequest,
)
from kafkalab.sim.network import Network
from kafkalab.sim.scheduler import Timer, TimerGroup

#: Kafka's ``RequestSendThread`` backs off 100 ms before it sends a failed request again.
RETRY_BACKOFF_MS = 100.0
#: Called with a request's response once the broker answered it (Kafka's ``QueueItem`` callback).
ResponseCallback = Callable[[Any], None]
#: The names of the requests only the controller sends to brokers (Kafka's control requests).
CONTROL_REQUEST_KINDS = frozenset(kind.__name__ for kind in (LeaderAndIsrRequest, UpdateMetadataRequest,
                                                             StopReplicaRequest))


def broker_node(broker_id: int) -> str:
    """The network name of broker ``broker_id``."""
    return f"broker-{broker_id}"


class BrokerSender:
    """One broker's FIFO queue of controller requests, sent one at a time with retry (``RequestSendThread``)."""

    def __init__(self, source: str, broker_id: int, group: TimerGroup, network: Network, timeout_ms: float) -> None:
        self._source = source
        self._destination = broker_node(broker_id)
        self._group = group
        self._network = network
        self._timeout_ms = timeout_ms
        self._queue: deque[tuple[Any, ResponseCallback | None]] = deque()
        self._in_flight: int | None = None  # the network's message id of the head request
        self._retry: Timer | None = None
        self._stopped = False

    def send(self, request: Any, on_response: ResponseCallback | None = None) -> None:
        """Queue ``request``; it goes out once everything queued before it was answered."""
        self._queue.append((request, on_response))
        if self._in_flight is None and self._retry is None:
            self._send_head()

    def stop(self) -> None:
        """Drop the queue, the retry timer and the request in flight (Kafka closes the connection)."""
        self._stopped = True
        self._queue.clear()
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._in_flight is not None:
            self._network.cancel(self._in_flight)
            self._in_flight = None

    def _send_head(self) -> None:
        self._retry = None
        if self._stopped or not self._queue:
            return
        self._in_flight = self._network.request(self._source, self._destination, self._queue[0][0],
                                                self._on_response, self._timeout_ms)

    def _on_response(self, response: Any, error: Errors | None) -> None:
        self._in_flight = None
        if self._stopped:
            return
        if error is not None:
            self._retry = self._group.call_later(RETRY_BACKOFF_MS, self._send_head)
            return
        _, on_response = self._queue.popleft()
        self._send_head()
        if on_response is not None:
            on_response(response)


class ControllerChannel:
    """The active controller's senders, one per live broker."""

    def __init__(self, source: str, group: TimerGroup, network: Network, timeout_ms: float) -> None:
        self._source = source
        self._group = group
        self._network = network
        self._timeout_ms = timeout_ms
        self._senders: dict[int, BrokerSender] = {}

    def send(self, broker_id: int, request: Any, on_response: ResponseCallback | None = None) -> None:
        """Queue ``request`` for ``broker_id``, starting a sender for it if it has none (Kafka's ``addBroker``)."""
        sender = self._senders.get(broker_id)
        if sender is None:
            sender = self._senders[broker_id] = BrokerSender(self._source, broker_id, self._group, self._network,
                                                             self._timeout_ms)
        sender.send(request, on_response)

    def remove_broker(self, broker_id: int) -> None:
        """Stop the sender of a broker that left the cluster, dropping what was queued for it."""
        sender = self._senders.pop(broker_id, None)
        if sender is not None:
            sender.stop()

    def shutdown(self) -> None:
        """Stop every sender (the controller resigned)."""
        for broker_id in list(self._senders):
            self.remove_broker(broker_id)
