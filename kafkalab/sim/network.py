"""The in-process network every broker, the coordination service and the clients share.

Messages are Kafka-shaped request/response objects delivered through the scheduler
after the link's latency. Links between any two nodes can be cut (messages are lost
and the sender times out, like a network partition) or slowed. A node that crashes
closes its connections: requests waiting on it fail at once with NETWORK_EXCEPTION,
as a real client sees a reset TCP connection when a broker process dies.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kafkalab.errors import Errors
from kafkalab.sim.scheduler import Scheduler, Timer

Responder = Callable[[Any], None]
RequestHandler = Callable[[str, Any, Responder], None]
ResponseCallback = Callable[[Any, Errors | None], None]

DEFAULT_LATENCY_MS = 0.5


def link_key(a: str, b: str) -> frozenset[str]:
    """The undirected link between nodes ``a`` and ``b``."""
    return frozenset((a, b))


class ConnectionRefused(Exception):
    """Raised by a request handler whose node is up but not listening yet: the sender sees NETWORK_EXCEPTION
    (a refused connection), as it does when the node is down, and may try again."""


@dataclass(frozen=True)
class PendingRequest:
    """A request waiting for its answer: who asked whom for what (the request's type name)."""

    message_id: int
    source: str
    destination: str
    kind: str


@dataclass(eq=False)
class _Pending:
    source: str
    destination: str
    kind: str
    callback: ResponseCallback
    timeout: Timer | None = None
    done: bool = False


class Network:
    """Delivers requests and responses between named nodes, honouring cuts and latency."""

    def __init__(self, scheduler: Scheduler, default_latency_ms: float = DEFAULT_LATENCY_MS) -> None:
        self.scheduler = scheduler
        self.default_latency_ms = default_latency_ms
        self._handlers: dict[str, RequestHandler] = {}
        self._incarnations: dict[str, int] = {}
        self._cut: set[frozenset[str]] = set()
        self._latency: dict[frozenset[str], float] = {}
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self.messages_sent = 0
        self.messages_dropped = 0

    # -- nodes ---------------------------------------------------------------------

    def attach(self, node: str, handler: RequestHandler) -> None:
        """Bring ``node`` up: from now on requests to it reach ``handler``."""
        self._handlers[node] = handler
        self._incarnations[node] = self._incarnations.get(node, 0) + 1

    def detach(self, node: str) -> None:
        """Take ``node`` down (a crash): its own requests are forgotten, peers see resets."""
        self._handlers.pop(node, None)
        self._incarnations[node] = self._incarnations.get(node, 0) + 1
        for message_id, pending in list(self._pending.items()):
            if pending.source == node:
                self._finish(message_id)
            elif pending.destination == node and self.link_up(pending.source, node):
                # The peer's kernel resets the connection: the client learns at once.
                self._deliver_later(pending.source, node,
                                    functools.partial(self._fail, message_id, Errors.NETWORK_EXCEPTION))

    def is_up(self, node: str) -> bool:
        """True while ``node`` is attached."""
        return node in self._handlers

    # -- links ---------------------------------------------------------------------

    def cut(self, a: str, b: str) -> None:
        """Cut the link between ``a`` and ``b``: messages either way are lost."""
        self._cut.add(link_key(a, b))

    def heal(self, a: str, b: str) -> None:
        """Restore the link between ``a`` and ``b``."""
        self._cut.discard(link_key(a, b))

    def set_latency(self, a: str, b: str, latency_ms: float) -> None:
        """Make messages between ``a`` and ``b`` take ``latency_ms`` each way."""
        self._latency[link_key(a, b)] = max(0.0, latency_ms)

    def forget_links(self, node: str) -> None:
        """Drop every cut and latency set on ``node``'s links (a client connection that closed)."""
        self._cut = {link for link in self._cut if node not in link}
        self._latency = {link: ms for link, ms in self._latency.items() if node not in link}

    def latency(self, a: str, b: str) -> float:
        """One-way latency between ``a`` and ``b``."""
        if not self._latency:  # the usual case: no link was slowed, so no key to build per message
            return self.default_latency_ms
        return self._latency.get(link_key(a, b), self.default_latency_ms)

    def link_up(self, a: str, b: str) -> bool:
        """True unless the link between ``a`` and ``b`` is cut."""
        return not self._cut or link_key(a, b) not in self._cut

    def cut_links(self) -> list[tuple[str, str]]:
        """Every cut link as a sorted pair."""
        return sorted(tuple(sorted(link)) for link in self._cut)  # type: ignore[misc]

    def latencies(self) -> dict[tuple[str, str], float]:
        """Every link with a latency set explicitly."""
        return {tuple(sorted(link)): ms for link, ms in self._latency.items()}  # type: ignore[misc]

    def can_reach(self, source: str, destination: str) -> bool:
        """True when ``destination`` is up and the link from ``source`` is not cut."""
        return self.is_up(destination) and self.link_up(source, destination)

    def pending_requests(self) -> list[PendingRequest]:
        """Requests sent and not yet answered, failed or cancelled, oldest first."""
        return [PendingRequest(message_id, p.source, p.destination, p.kind) for message_id, p in self._pending.items()]

    # -- requests ------------------------------------------------------------------

    def request(self, source: str, destination: str, request: Any, callback: ResponseCallback,
                timeout_ms: float) -> int:
        """Send ``request``; ``callback(response, None)`` or ``callback(None, error)`` follows.

        The error is NETWORK_EXCEPTION when the destination is down (connection refused
        or reset) and REQUEST_TIMED_OUT when nothing came back in ``timeout_ms``. The
        returned message id lets the sender ``cancel`` the request.
        """
        message_id = next(self._ids)
        pending = _Pending(source, destination, type(request).__name__, callback)
        self._pending[message_id] = pending
        pending.timeout = self.scheduler.call_later(timeout_ms, self._fail, message_id, Errors.REQUEST_TIMED_OUT)
        self.messages_sent += 1
        if not self.link_up(source, destination):
            self.messages_dropped += 1
        elif not self.is_up(destination):
            self._deliver_later(source, destination,
                                lambda: self._fail(message_id, Errors.NETWORK_EXCEPTION))
        else:
            self._deliver_later(source, destination, lambda: self._arrive(message_id, request))
        return message_id

    def cancel(self, message_id: int) -> None:
        """Forget a request, as a client that closes its connection does: its callback never runs."""
        self._finish(message_id)

    def _deliver_later(self, source: str, destination: str, action: Callable[[], None]) -> None:
        self.scheduler.call_later(self.latency(source, destination), self._land, source, destination, action)

    def _land(self, source: str, destination: str, action: Callable[[], None]) -> None:
        if not self.link_up(source, destination):
            self.messages_dropped += 1
            return
        action()

    def _arrive(self, message_id: int, request: Any) -> None:
        pending = self._pending.get(message_id)
        if pending is None:
            return
        handler = self._handlers.get(pending.destination)
        if handler is None:
            self._deliver_later(pending.source, pending.destination,
                                lambda: self._fail(message_id, Errors.NETWORK_EXCEPTION))
            return
        incarnation = self._incarnations[pending.destination]
        answered = False

        def respond(response: Any) -> None:
            nonlocal answered
            if answered or self._incarnations.get(pending.destination) != incarnation:
                return
            answered = True
            self.messages_sent += 1
            if not self.link_up(pending.source, pending.destination):
                self.messages_dropped += 1
                return
            self._deliver_later(pending.destination, pending.source, lambda: self._succeed(message_id, response))

        try:
            handler(pending.source, request, respond)
        except ConnectionRefused:
            self._deliver_later(pending.destination, pending.source,
                                lambda: self._fail(message_id, Errors.NETWORK_EXCEPTION))

    def _succeed(self, message_id: int, response: Any) -> None:
        pending = self._finish(message_id)
        if pending is not None:
            pending.callback(response, None)

    def _fail(self, message_id: int, error: Errors) -> None:
        pending = self._finish(message_id)
        if pending is not None:
            pending.callback(None, error)

    def _finish(self, message_id: int) -> _Pending | None:
        pending = self._pending.pop(message_id, None)
        if pending is None:
            return None
        if pending.timeout is not None:
            pending.timeout.cancel()
        return pending
