"""One replica's connections to the other quorum members (Kafka's ``RequestManager``).

At most one request is in flight to each node. A failed request (an error response, a
refused connection, a timeout) backs the connection off for
``controller.quorum.retry.backoff.ms``; a response whose request was forgotten (every
connection is reset when the replica changes state) is ignored.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence


class RequestManager:
    """Per-destination request state: ready, awaiting a response, or backing off.

    Two maps rather than an object per connection: every Fetch asks them several times
    (an observer without a leader sends one per round trip).
    """

    def __init__(self, retry_backoff_ms: float, rng: random.Random) -> None:
        self._retry_backoff_ms = retry_backoff_ms
        self._rng = rng
        #: The correlation id of the request in flight to each node that has one.
        self._in_flight: dict[int, int] = {}
        #: Until when each node that failed a request is backed off.
        self._backoff_until_ms: dict[int, float] = {}

    def is_ready(self, node: int, now_ms: float) -> bool:
        """No request in flight and not backing off."""
        return node not in self._in_flight and self._backoff_until_ms.get(node, -math.inf) <= now_ms

    def is_backing_off(self, node: int, now_ms: float) -> bool:
        return self._backoff_until_ms.get(node, -math.inf) > now_ms

    def remaining_backoff_ms(self, node: int, now_ms: float) -> float:
        """How long until ``node`` may be asked again (0 when ready; infinite while awaiting)."""
        if node in self._in_flight:
            return math.inf
        return max(0.0, self._backoff_until_ms.get(node, -math.inf) - now_ms)

    def has_in_flight(self) -> bool:
        return bool(self._in_flight)

    def on_request_sent(self, node: int, correlation_id: int) -> None:
        self._in_flight[node] = correlation_id

    def is_response_expected(self, node: int, correlation_id: int) -> bool:
        return self._in_flight.get(node) == correlation_id

    def on_response(self, node: int, success: bool, now_ms: float) -> None:
        """The in-flight request to ``node`` completed; back off after a failure."""
        self._in_flight.pop(node, None)
        if not success:
            self._backoff_until_ms[node] = now_ms + self._retry_backoff_ms

    def reset_all(self) -> None:
        """Forget every in-flight request and backoff (a state change: old answers no longer matter)."""
        self._in_flight.clear()
        self._backoff_until_ms.clear()

    def find_ready(self, nodes: Sequence[int], now_ms: float) -> int | None:
        """A ready node, trying them from a random start (``findReadyBootstrapServer``)."""
        if not nodes:
            return None
        count = len(nodes)
        start = self._rng.randrange(count)
        in_flight, backoff_until_ms = self._in_flight, self._backoff_until_ms
        for index in range(count):
            node = nodes[(start + index) % count]
            if node not in in_flight and backoff_until_ms.get(node, -math.inf) <= now_ms:  # is_ready, inline
                return node
        return None

    def backoff_before_available(self, nodes: Sequence[int], now_ms: float) -> float:
        """How long until one of ``nodes`` is ready (``backoffBeforeAvailableBootstrapServer``)."""
        return min((self.remaining_backoff_ms(node, now_ms) for node in nodes), default=math.inf)
