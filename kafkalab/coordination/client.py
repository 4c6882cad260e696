"""A broker's session with the coordination service, like Kafka's ``ZooKeeperClient``.

The client pings every third of the session timeout. If it hears nothing for two
thirds of it, it considers itself disconnected and keeps trying to reconnect to the
same session; if the service says the session expired meanwhile, it opens a new one
and tells its owner, who must re-register (Kafka's broker re-creates ``/brokers/ids/N``).
Operations issued while disconnected wait for the connection and are then retried.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from kafkalab.coordination import protocol as p
from kafkalab.coordination.protocol import EventType, WatchEvent, WatchType, ZkCode, ZkException
from kafkalab.coordination.server import COORDINATOR_NODE
from kafkalab.errors import Errors
from kafkalab.sim.failures import register_domain_error
from kafkalab.sim.network import Network, Responder
from kafkalab.sim.process import Future, Process
from kafkalab.sim.scheduler import TimerGroup

register_domain_error(ZkException)

#: How long a request answered with CONNECTION_LOSS waits before it is sent again.
CONNECTION_LOSS_BACKOFF_MS = 1000

Watcher = Callable[[WatchEvent], None]


def expired_session(error: BaseException) -> bool:
    """True for the error a ZooKeeper call fails with when the caller's session expired under it.

    Work bound to a session ends with it and the owner redoes it in its next session (Kafka
    re-registers and re-elects on ``Expire``); the expiry itself is journaled (``SessionExpired``),
    so such an ending is no failure to report.
    """
    return isinstance(error, ZkException) and error.code == ZkCode.SESSION_EXPIRED


def session_bound(process: Process[None]) -> Process[None]:
    """Run ``process``, ending quietly if the ZooKeeper session it works in expires (see ``expired_session``)."""
    try:
        yield from process
    except ZkException as exc:
        if not expired_session(exc):
            raise


class SessionState(Enum):
    """Where the client's session stands."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class CoordinationClient:
    """One network node's session with ``zk``: operations return futures, watches call back."""

    def __init__(self, node: str, group: TimerGroup, network: Network, session_timeout_ms: int,
                 on_new_session: Callable[[], None]) -> None:
        self.node = node
        self.group = group
        self.network = network
        self.requested_timeout_ms = session_timeout_ms
        self.session_timeout_ms = session_timeout_ms
        self.session_id = 0
        self.state = SessionState.CONNECTING
        self._on_new_session = on_new_session
        self._last_heard_ms = group.scheduler.now_ms
        self._waiting: list[Callable[[], None]] = []
        self._watchers: dict[tuple[WatchType, str], list[Watcher]] = {}
        self._last_notification_seq = 0
        self._connecting = False

    # -- session -------------------------------------------------------------------

    def start(self) -> None:
        """Open the first session and start the ping loop."""
        self._connect()
        self.group.every(self.requested_timeout_ms / 3, self._tick)

    def _connect(self) -> None:
        if self._connecting:
            return
        self._connecting = True
        request = p.ConnectRequest(self.requested_timeout_ms, self.session_id)
        self.network.request(self.node, COORDINATOR_NODE, request, self._on_connect, self.requested_timeout_ms / 3)

    def _on_connect(self, response: Any, error: Errors | None) -> None:
        self._connecting = False
        if self.group.closed or error is not None:
            return
        if response.code == ZkCode.SESSION_EXPIRED:
            # Our old session is gone: its ephemerals and watches went with it.
            self.session_id = 0
            self._watchers.clear()
            self._last_notification_seq = 0
            self._connect()
            return
        new_session = response.session_id != self.session_id
        self.session_id = response.session_id
        self.session_timeout_ms = response.session_timeout_ms
        self._heard()
        self.state = SessionState.CONNECTED
        waiting, self._waiting = self._waiting, []
        for resume in waiting:
            resume()
        # A resumed operation may have been the owner's last (a shutdown's close that found its
        # session expired): a stopped owner must not be told to register again.
        if new_session and not self.group.closed:
            self._on_new_session()

    def _tick(self) -> None:
        silence = self.group.scheduler.now_ms - self._last_heard_ms
        if self.state == SessionState.CONNECTED and silence > self.session_timeout_ms * 2 / 3:
            self.state = SessionState.DISCONNECTED
        if self.state != SessionState.CONNECTED:
            self._connect()
            return
        self.network.request(self.node, COORDINATOR_NODE, p.PingRequest(self.session_id), self._on_ping,
                             self.session_timeout_ms / 3)

    def _on_ping(self, response: Any, error: Errors | None) -> None:
        if error is None and response.code == ZkCode.OK:
            self._heard()
        elif error is None and response.code == ZkCode.SESSION_EXPIRED:
            self.state = SessionState.DISCONNECTED
            self._connect()

    def _heard(self) -> None:
        self._last_heard_ms = self.group.scheduler.now_ms

    @property
    def connected(self) -> bool:
        """True while the session is believed alive and reachable."""
        return self.state == SessionState.CONNECTED

    # -- notifications -------------------------------------------------------------

    def handle_notifications(self, batch: p.WatchNotifications, respond: Responder) -> None:
        """Deliver pushed watch events once each, in order, then acknowledge them."""
        if batch.session_id != self.session_id:
            return
        self._heard()
        for index, event in enumerate(batch.events):
            if batch.first_seq + index <= self._last_notification_seq:
                continue
            self._last_notification_seq = batch.first_seq + index
            self._dispatch(event)
        respond(p.NotificationsAck(self._last_notification_seq))

    def _dispatch(self, event: WatchEvent) -> None:
        if event.event_type == EventType.NODE_CHILDREN_CHANGED:
            kinds = [WatchType.CHILDREN]
        elif event.event_type == EventType.NODE_DELETED:
            kinds = [WatchType.DATA, WatchType.CHILDREN]
        else:
            kinds = [WatchType.DATA]
        for kind in kinds:
            for watcher in self._watchers.pop((kind, event.path), []):
                watcher(event)

    def close(self) -> Future[p.ZkResponse]:
        """Close the session now, deleting its ephemeral znodes (Kafka does this on clean shutdown)."""
        return self._call(lambda: p.CloseSessionRequest(self.session_id))

    # -- operations ----------------------------------------------------------------

    def create(self, path: str, data: str, ephemeral: bool = False, sequential: bool = False,
               guard: tuple[str, int] | None = None) -> Future[p.ZkResponse]:
        """Create a znode; fails with ZkException(NODE_EXISTS) and the like."""
        return self._call(lambda: p.CreateRequest(self.session_id, path, data, ephemeral, sequential, guard))

    def delete(self, path: str, version: int = -1, guard: tuple[str, int] | None = None) -> Future[p.ZkResponse]:
        """Delete a childless znode."""
        return self._call(lambda: p.DeleteRequest(self.session_id, path, version, guard))

    def set_data(self, path: str, data: str, version: int = -1,
                 guard: tuple[str, int] | None = None) -> Future[p.ZkResponse]:
        """Replace a znode's data if its version matches (-1: any)."""
        return self._call(lambda: p.SetDataRequest(self.session_id, path, data, version, guard))

    def get_data(self, path: str, watcher: Watcher | None = None) -> Future[p.ZkResponse]:
        """Read a znode, optionally leaving a one-shot data watch."""
        return self._call(lambda: p.GetDataRequest(self.session_id, path, watcher is not None),
                          (WatchType.DATA, path, watcher))

    def get_children(self, path: str, watcher: Watcher | None = None) -> Future[p.ZkResponse]:
        """List a znode's children, optionally leaving a one-shot children watch."""
        return self._call(lambda: p.GetChildrenRequest(self.session_id, path, watcher is not None),
                          (WatchType.CHILDREN, path, watcher))

    def exists(self, path: str, watcher: Watcher | None = None) -> Future[p.ZkResponse]:
        """Check a znode (code NO_NODE if absent, not an error), optionally watching it."""
        return self._call(lambda: p.ExistsRequest(self.session_id, path, watcher is not None),
                          (WatchType.DATA, path, watcher), allowed=(ZkCode.NO_NODE,))

    def _call(self, build: Callable[[], Any], watch: tuple[WatchType, str, Watcher | None] | None = None,
              allowed: tuple[ZkCode, ...] = ()) -> Future[p.ZkResponse]:
        result: Future[p.ZkResponse] = Future()
        session_at_start = self.session_id
        if watch is not None and watch[2] is not None:
            self._watchers.setdefault((watch[0], watch[1]), []).append(watch[2])

        def attempt() -> None:
            if self.group.closed:
                return
            if session_at_start and self.session_id != session_at_start:
                result.set_error(ZkException(ZkCode.SESSION_EXPIRED))
                return
            if not self.connected:
                self._waiting.append(attempt)
                return
            self.network.request(self.node, COORDINATOR_NODE, build(), on_response, self.session_timeout_ms * 2 / 3)

        def on_response(response: Any, error: Errors | None) -> None:
            if self.group.closed:
                return
            if error is not None:
                self.state = SessionState.DISCONNECTED
                self._waiting.append(attempt)
                self._connect()
                return
            self._heard()
            if response.code == ZkCode.CONNECTION_LOSS:
                # Kafka's ZooKeeperClient retries a request that lost its connection until it goes through.
                self.group.call_later(CONNECTION_LOSS_BACKOFF_MS, attempt)
                return
            if response.code == ZkCode.OK or response.code in allowed:
                result.set_result(response)
            else:
                result.set_error(ZkException(response.code, response.path))

        attempt()
        return result
