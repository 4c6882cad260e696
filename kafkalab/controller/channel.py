"""The controller's connections to brokers (Kafka's ``ControllerChannelManager``).

Requests to one broker go out in order, one at a time; a request that fails (the link is
cut, the broker is slow) is retried until it succeeds or the broker leaves the live set.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from kafkalab.errors import Errors
from kafkalab.sim.network import Network
from kafkalab.sim.scheduler import TimerGroup

RETRY_BACKOFF_MS = 100.0


def broker_node(broker_id: int) -> str:
    """The network name of broker ``broker_id``."""
    return f"broker-{broker_id}"


class ControllerChannel:
    """Per-broker FIFO queues of controller requests with retry."""

    def __init__(self, source: str, group: TimerGroup, network: Network, timeout_ms: float,
                 is_live: Callable[[int], bool]) -> None:
        self._source = source
        self._group = group
        self._network = network
        self._timeout_ms = timeout_ms
        self._is_live = is_live
        self._queues: dict[int, deque[Any]] = {}
        self._busy: set[int] = set()

    def send(self, broker_id: int, request: Any) -> None:
        """Queue ``request`` for ``broker_id``."""
        self._queues.setdefault(broker_id, deque()).append(request)
        if broker_id not in self._busy:
            self._send_next(broker_id)

    def remove_broker(self, broker_id: int) -> None:
        """Drop everything queued for a broker that left the cluster."""
        self._queues.pop(broker_id, None)
        self._busy.discard(broker_id)

    def _send_next(self, broker_id: int) -> None:
        queue = self._queues.get(broker_id)
        if not queue or self._group.closed:
            self._busy.discard(broker_id)
            return
        self._busy.add(broker_id)
        request = queue[0]

        def on_response(response: Any, error: Errors | None) -> None:
            if self._group.closed or self._queues.get(broker_id) is not queue:
                return
            if error is not None and self._is_live(broker_id):
                self._group.call_later(RETRY_BACKOFF_MS, self._send_next, broker_id)
                return
            queue.popleft()
            self._send_next(broker_id)

        self._network.request(self._source, broker_node(broker_id), request, on_response, self._timeout_ms)
