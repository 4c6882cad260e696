"""The in-process network every broker, the coordination service and the clients share.

Messages are Kafka-shaped request/response objects delivered through the scheduler
after the link's latency. Links between any two nodes can be cut (messages are lost
and the sender times out, like a network partition) or slowed. A node that crashes
closes its connections: requests waiting on it fail at once with NETWORK_EXCEPTION,
as a real client sees a reset TCP connection when a broker process dies.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kafkalab.errors import Errors
from kafkalab.sim.scheduler import Place, Scheduler, Timer

Responder = Callable[[Any], None]
RequestHandler = Callable[[str, Any, Responder], None]
ResponseCallback = Callable[[Any, Errors | None], None]

#: One way between two nodes: brokers on a local network, slow enough for a learner to see requests in flight.
DEFAULT_LATENCY_MS = 0.5
#: One way between brokers on one host, as ``kafkalab serve``'s are (every broker listens on a port of this
#: machine): loopback TCP takes 10-15 us one way (a Python ping-pong over 127.0.0.1 measured 20-29 us round
#: trip), and a Kafka broker hands a request and its answer between its network and request threads on each
#: side (``SocketServer``'s processor, ``RequestChannel``, the fetcher thread's poll), some tens of
#: microseconds more. The handling itself is not in it: that costs kafkalab's engine its own CPU time.
ONE_HOST_LATENCY_MS = 0.05
#: A timeout queue drops its finished requests once it holds this many and they are most of it.
COMPACT_TIMEOUTS_AT = 256


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


def _answered(response: Any, error: Errors | None) -> None:
    """What a finished request holds instead of its callback."""


@dataclass(eq=False, slots=True)
class _Pending:
    message_id: int
    source: str
    destination: str
    kind: str
    callback: ResponseCallback
    #: Where its REQUEST_TIMED_OUT stands in the order of events (taken when it was sent).
    timeout_place: Place
    timeouts: _Timeouts
    done: bool = False


@dataclass(eq=False)
class _Timeouts:
    """The requests sent with one timeout, oldest first, and one timer for the oldest still waiting.

    A timer per request would be pushed on the heap and cancelled for nearly every request
    (answers come in milliseconds, timeouts after seconds). Requests with the same timeout
    time out in the order they were sent, so one timer stands at the place the oldest
    waiting request's own timer would have taken and moves on when that request finishes:
    a timeout fires exactly where it did with a timer each.
    """

    scheduler: Scheduler
    expire: Callable[[_Pending], None]
    queue: deque[_Pending] = field(default_factory=deque)
    #: How many requests in ``queue`` still wait (the others are finished and dropped when they reach the front).
    waiting: int = 0
    timer: Timer | None = None
    timer_place: Place | None = None

    def add(self, pending: _Pending) -> None:
        queue = self.queue
        if len(queue) > COMPACT_TIMEOUTS_AT and len(queue) > 2 * self.waiting:
            # Behind a request that waits long (a cut link) finished ones pile up: drop them, in order.
            queue = self.queue = deque(waiting for waiting in queue if not waiting.done)
        queue.append(pending)
        self.waiting += 1
        if len(queue) == 1:
            self._arm()

    def finished(self, pending: _Pending) -> None:
        """``pending`` was answered, failed or cancelled: the timer moves on if it stood for it."""
        self.waiting -= 1
        if self.queue and self.queue[0] is pending:
            self._arm()

    def _arm(self) -> None:
        """Put the timer at the oldest waiting request's place (or cancel it when none waits)."""
        queue = self.queue
        while queue and queue[0].done:
            queue.popleft()
        timer = self.timer
        if not queue:
            if timer is not None:
                timer.cancel()
            self.timer = self.timer_place = None
            return
        place = queue[0].timeout_place
        if place == self.timer_place and timer is not None and timer.pending:
            return
        if timer is None or not self.scheduler.move_to(timer, place):
            self.timer = self.scheduler.call_at_place(place, self._fire)
        self.timer_place = place

    def _fire(self) -> None:
        pending = self.queue.popleft()
        self.timer_place = None
        self.expire(pending)
        self._arm()


class Network:
    """Delivers requests and responses between named nodes, honouring cuts and latency."""

    def __init__(self, scheduler: Scheduler, default_latency_ms: float = DEFAULT_LATENCY_MS) -> None:
        self.scheduler = scheduler
        self._default_latency_ms = default_latency_ms
        self._handlers: dict[str, RequestHandler] = {}
        self._incarnations: dict[str, int] = {}
        self._cut: set[frozenset[str]] = set()
        self._latency: dict[frozenset[str], float] = {}
        #: Each directed pair's latency as delivering a message reads it (``latency`` is the rule), kept until a
        #: latency is set or forgotten: every message is delivered after its link's latency, and a ``link_key`` is
        #: a new frozenset to hash.
        self._pair_latency: dict[tuple[str, str], float] = {}
        self._pending: dict[int, _Pending] = {}
        self._timeouts: dict[float, _Timeouts] = {}
        self._ids = itertools.count(1)
        self.messages_sent = 0
        self.messages_dropped = 0

    # -- nodes ---------------------------------------------------------------------

    @property
    def default_latency_ms(self) -> float:
        """One-way latency of every link without one of its own."""
        return self._default_latency_ms

    @default_latency_ms.setter
    def default_latency_ms(self, latency_ms: float) -> None:
        self._default_latency_ms = latency_ms
        self._pair_latency.clear()

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
                self._deliver_later(pending.source, node, self._fail, message_id, Errors.NETWORK_EXCEPTION)

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
        self._pair_latency.clear()

    def forget_links(self, node: str) -> None:
        """Drop every cut and latency set on ``node``'s links (a client connection that closed)."""
        self._cut = {link for link in self._cut if node not in link}
        self._latency = {link: ms for link, ms in self._latency.items() if node not in link}
        self._pair_latency.clear()

    def latency(self, a: str, b: str) -> float:
        """One-way latency between ``a`` and ``b``."""
        return self._latency.get(link_key(a, b), self._default_latency_ms)

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
        timeouts = self._timeouts.get(timeout_ms)
        if timeouts is None:
            timeouts = self._timeouts[timeout_ms] = _Timeouts(self.scheduler, self._time_out)
        pending = _Pending(message_id, source, destination, type(request).__name__, callback,
                           self.scheduler.place_later(timeout_ms), timeouts)
        self._pending[message_id] = pending
        timeouts.add(pending)
        self.messages_sent += 1
        if self._cut and self._lost(source, destination):
            return message_id
        if destination not in self._handlers:
            self._deliver_later(source, destination, self._fail, message_id, Errors.NETWORK_EXCEPTION)
        else:
            self._deliver_later(source, destination, self._arrive, message_id, request)
        return message_id

    def cancel(self, message_id: int) -> None:
        """Forget a request, as a client that closes its connection does: its callback never runs."""
        self._finish(message_id)

    def _deliver_later(self, source: str, destination: str, action: Callable[[str, str, int, Any], None],
                       message_id: int, payload: Any) -> None:
        """Run ``action(source, destination, message_id, payload)`` once a message from ``source`` reaches ``destination``.

        The action is the timer's own callback and its arguments travel as they are, not in a closure nor
        through a landing step: every message is delivered through here. Each action begins with the check
        that the link is not cut by the time the message lands (``_lost``).
        """
        if self._latency:  # some link was slowed (every network client's is set to 0): the pair's kept value
            latency = self._pair_latency.get((source, destination))
            if latency is None:  # a pair not seen since the latencies last changed
                latency = self._pair_latency[(source, destination)] = self.latency(source, destination)
        else:  # the usual case in process: no link was slowed, so no key to build per message
            latency = self._default_latency_ms
        self.scheduler.call_later(latency, action, source, destination, message_id, payload)

    def _lost(self, source: str, destination: str) -> bool:
        """True (and the message counted as dropped) when the link it travels is cut: called only while any is."""
        if link_key(source, destination) in self._cut:
            self.messages_dropped += 1
            return True
        return False

    def _arrive(self, source: str, destination: str, message_id: int, request: Any) -> None:
        if self._cut and self._lost(source, destination):
            return
        pending = self._pending.get(message_id)
        if pending is None:
            return
        handler = self._handlers.get(pending.destination)
        if handler is None:
            self._deliver_later(pending.source, pending.destination, self._fail, message_id, Errors.NETWORK_EXCEPTION)
            return
        incarnation = self._incarnations[pending.destination]
        answered = False

        def respond(response: Any) -> None:
            nonlocal answered
            if answered or self._incarnations.get(pending.destination) != incarnation:
                return
            answered = True
            self.messages_sent += 1
            if self._cut and self._lost(pending.source, pending.destination):
                return
            self._deliver_later(pending.destination, pending.source, self._succeed, message_id, response)

        try:
            handler(pending.source, request, respond)
        except ConnectionRefused:
            self._deliver_later(pending.destination, pending.source, self._fail, message_id, Errors.NETWORK_EXCEPTION)

    def _succeed(self, source: str, destination: str, message_id: int, response: Any) -> None:
        if self._cut and self._lost(source, destination):
            return
        callback = self._finish(message_id)
        if callback is not None:
            callback(response, None)

    def _fail(self, source: str, destination: str, message_id: int, error: Errors) -> None:
        if self._cut and self._lost(source, destination):
            return
        self._fail_now(message_id, error)

    def _fail_now(self, message_id: int, error: Errors) -> None:
        callback = self._finish(message_id)
        if callback is not None:
            callback(None, error)

    def _time_out(self, pending: _Pending) -> None:
        self._fail_now(pending.message_id, Errors.REQUEST_TIMED_OUT)

    def _finish(self, message_id: int) -> ResponseCallback | None:
        """Forget a request; its callback, if it was still waiting."""
        pending = self._pending.pop(message_id, None)
        if pending is None:
            return None
        callback = pending.callback
        # It may wait in its timeout queue behind an older request a while yet: keep nothing alive meanwhile.
        pending.callback = _answered
        pending.done = True
        pending.timeouts.finished(pending)
        return callback
