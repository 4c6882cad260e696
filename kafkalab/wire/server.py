"""The sockets of the Kafka listener, served on the engine thread without ever blocking it.

One listening socket per broker; connections are read and written without blocking. Like
Kafka's ``SocketServer`` processors, a connection's next request is taken only once the
previous one is answered, so responses leave in request order and a client never has more
than one request in the engine. Kafka mutes the channel meanwhile; here bytes that arrive
while a request is in the engine are still read into the connection's buffer, up to
``_RECV_BYTES``, and only a client that sends more than that is muted: a client pipelining
its requests (librdkafka keeps five in flight) would otherwise cost two selector changes,
two system calls, per request. A frame is collected as its bytes arrive, never allocated
from the size a client announces, so a slow or lying client costs only what it sent. The
engine thread's driver waits in ``wait`` (a select over every socket) instead of on its own
queue: a request is handed to the gateway and its answer written the moment it exists, with
no hand-over between threads (two threads sharing the interpreter lock cost a client's
request milliseconds each way). Other threads only ``wake`` it. Sockets live in real time,
so idle connections are timed on the wall clock (``connections.max.idle.ms``), not on the
engine's virtual clock.
"""

from __future__ import annotations

import collections
import errno
import functools
import re
import select
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kafkalab.errors import Errors, KafkaError
from kafkalab.wire.adapters.base import Tree
from kafkalab.wire.apis import API_VERSIONS, api_name
from kafkalab.wire.connections import ConnectionInfo, PortInUse
from kafkalab.wire.frames import (
    DEFAULT_MAX_REQUEST_BYTES,
    DecodedRequest,
    FrameError,
    api_versions_table,
    decode_request,
    encode_response,
    frame_size,
)
from kafkalab.wire.gateway import ConnectionRef, Gateway

#: Kafka's ``connections.max.idle.ms`` default.
DEFAULT_IDLE_MS = 600_000
#: Read at most this much at once, and buffer at most about this much while a request is in the engine.
_RECV_BYTES = 262_144
#: How often idle connections are closed and the connection list is republished.
PUBLISH_SECONDS = 0.5
#: epoll waits in whole milliseconds (Python rounds a shorter timeout up to 1 ms): shorter waits go through
#: ``select``, whose timeout is in microseconds.
EPOLL_RESOLUTION_SECONDS = 0.001
#: KIP-511: what ApiVersions v3+ accepts as a client software name or version.
_SOFTWARE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?")
#: ApiVersions v3 (KIP-511) carries the client's software name and version.
SOFTWARE_VERSION = 3


@dataclass(eq=False)
class _Connection:
    conn_id: int
    sock: socket.socket
    broker_id: int
    peer: tuple[str, int]
    last_active: float
    inbox: bytearray = field(default_factory=bytearray)
    expected: int | None = None
    busy: bool = False
    outbox: bytearray = field(default_factory=bytearray)
    close_after_write: bool = False
    #: The client's end was read while its request was in the engine (read again once it is answered).
    peer_closed: bool = False
    interest: int = 0
    client_id: str = ""
    software: tuple[str, str] = ("", "")
    #: Requests per API key (named when the connection list is published, not per request).
    requests: collections.Counter[int] = field(default_factory=collections.Counter)
    #: The connection as the gateway knows it, built once: every request is handed over with it.
    ref: ConnectionRef = field(init=False)

    def __post_init__(self) -> None:
        self.ref = ConnectionRef(self.conn_id, f"wire-{self.conn_id}", self.broker_id, f"/{self.peer[0]}")

    @property
    def node(self) -> str:
        return self.ref.node

    @property
    def address(self) -> str:
        return f"{self.peer[0]}:{self.peer[1]}"


class WireServer:
    """Listens for every broker; binds at construction so a port in use is reported before anything starts."""

    def __init__(self, host: str, ports: dict[int, int], max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                 idle_ms: int = DEFAULT_IDLE_MS) -> None:
        self.host = host
        self.max_request_bytes = max_request_bytes
        self.idle_seconds = idle_ms / 1000.0
        self._selector = selectors.DefaultSelector()
        #: Whether waits under a millisecond go through ``select`` on the epoll descriptor (``wait``).
        self._short_waits = isinstance(self._selector, selectors.EpollSelector)
        self._listeners: dict[int, socket.socket] = {}
        try:
            for broker_id, port in sorted(ports.items()):
                self._listeners[broker_id] = self._bind(host, port, broker_id)
        except BaseException:
            self._close_listeners()
            raise
        self._waker_in, self._waker_out = socket.socketpair()
        self._waker_in.setblocking(False)
        self._waker_out.setblocking(False)
        self._connections: dict[int, _Connection] = {}
        self._serving: set[int] = set()
        self._next_id = 1
        self._lock = threading.Lock()
        self._snapshot: tuple[ConnectionInfo, ...] = ()
        self._engine: Gateway | None = None
        self._last_publish = time.monotonic()
        #: Connections whose next request can be read, met while another connection's was (no recursion).
        self._pending: set[int] = set()
        self._processing = False

    @staticmethod
    def _bind(host: str, port: int, broker_id: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
        except OSError as exc:
            listener.close()
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(host, port, broker_id) from None
            raise KafkaError(Errors.INVALID_ARGUMENT, f"cannot listen on {host}:{port} (broker {broker_id}): "
                                                      f"{exc.strerror}") from None
        listener.listen(128)
        listener.setblocking(False)
        return listener

    @property
    def addresses(self) -> dict[int, tuple[str, int]]:
        """Each broker's listening host and port (the real port when 0 was asked for)."""
        return {broker_id: (self.host, sock.getsockname()[1]) for broker_id, sock in self._listeners.items()}

    def bootstrap(self, host: str | None = None) -> str:
        """``host:port,host:port,...`` of every broker, for a client's ``bootstrap.servers``."""
        return ",".join(f"{host or h}:{p}" for _, (h, p) in sorted(self.addresses.items()))

    # -- any thread ----------------------------------------------------------------------

    def wake(self) -> None:
        """Make a ``wait`` in progress return (work was handed to the engine thread)."""
        try:
            self._waker_out.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # the waker is already full (the wait will return) or closed (the server stopped)

    # -- engine thread ---------------------------------------------------------------------

    def start(self, engine: Gateway) -> None:
        """Serve: requests, refusals and closes go to ``engine``; call ``wait`` from the engine thread from now on."""
        self._engine = engine
        for broker_id, listener in self._listeners.items():
            self._selector.register(listener, selectors.EVENT_READ, ("listen", broker_id))
        self._selector.register(self._waker_in, selectors.EVENT_READ, ("wake", 0))

    def close(self) -> None:
        """Close every socket (on the engine thread, or once it has stopped)."""
        for conn in list(self._connections.values()):
            self._drop(conn)
        self._close_listeners()
        self._selector.close()
        self._waker_in.close()
        self._waker_out.close()

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for sockets (or a ``wake``), and serve what is ready.

        The driver asks for waits shorter than a millisecond when the next timer is a simulated
        network hop (0.5 ms by default): epoll would round each up to a whole millisecond, so a hop
        would take twice its latency or more on the wall clock. An epoll descriptor is itself readable
        while any socket it watches is ready, so a short wait selects on that one descriptor (no limit
        on how many sockets there are) and then collects what is ready without waiting. ``select``
        refuses a descriptor numbered past its fixed set size (a process with thousands of segment
        files open): then waits are whole milliseconds again.
        """
        if 0.0 < timeout < EPOLL_RESOLUTION_SECONDS and self._short_waits:
            try:
                select.select([self._selector.fileno()], [], [], timeout)
                timeout = 0.0
            except ValueError:
                self._short_waits = False
        for key, mask in self._selector.select(timeout=timeout):
            kind, value = key.data
            if kind == "listen":
                self._accept(key.fileobj, value)  # type: ignore[arg-type]
            elif kind == "wake":
                self._drain_waker()
            else:
                conn = self._connections.get(value)
                if conn is not None:
                    self._guarded(conn, functools.partial(self._on_ready, conn, mask))
        now = time.monotonic()
        if now - self._last_publish >= PUBLISH_SECONDS:
            self._last_publish = now
            self._close_idle(now)
            self._publish()

    def connections(self) -> tuple[ConnectionInfo, ...]:
        """The open connections now (safe from any thread)."""
        with self._lock:
            return self._snapshot

    def respond(self, conn_id: int, request: DecodedRequest, tree: Tree | None) -> None:
        """Send ``tree`` as the response to ``request`` (None: no response) and read the next request."""
        conn = self._connections.get(conn_id)
        if conn is not None:
            self._guarded(conn, functools.partial(self._answer, conn, request, tree))

    def close_connection(self, conn_id: int) -> None:
        """Close a connection, as Kafka does when its broker goes away."""
        conn = self._connections.get(conn_id)
        if conn is not None:
            self._drop(conn)

    def set_serving(self, broker_id: int, serving: bool) -> None:
        """Open (or shut) a broker's listener to clients: a stopped broker resets its connections."""
        if serving:
            self._serving.add(broker_id)
            return
        self._serving.discard(broker_id)
        for conn in [c for c in self._connections.values() if c.broker_id == broker_id]:
            self._drop(conn)

    def _on_ready(self, conn: _Connection, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._write(conn)
        if mask & selectors.EVENT_READ and conn.conn_id in self._connections:
            self._read(conn)

    def _guarded(self, conn: _Connection, work: Callable[[], None]) -> None:
        """Run ``work`` for one connection; a failure closes that connection only, and is reported."""
        try:
            work()
        except Exception as exc:  # a listener bug must cost one connection, never the listener
            self._report(conn.address, f"the listener failed on this connection ({exc!r})")
            self._drop(conn)

    def _drain_waker(self) -> None:
        try:
            while self._waker_in.recv(4096):
                pass
        except BlockingIOError:
            pass

    def _accept(self, listener: socket.socket, broker_id: int) -> None:
        while True:
            try:
                sock, peer = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # out of file descriptors and the like: the client retries
            if broker_id not in self._serving:
                sock.close()  # the broker is down: its listener is as good as closed
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(self._next_id, sock, broker_id, (str(peer[0]), int(peer[1])), time.monotonic())
            self._next_id += 1
            self._connections[conn.conn_id] = conn
            self._update_interest(conn)

    def _read(self, conn: _Connection) -> None:
        try:
            data = conn.sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(conn)
            return
        if not data:
            if conn.busy:
                # Closed while its request is in the engine: answered first, as a muted channel would be,
                # then the end is read again.
                conn.peer_closed = True
                self._update_interest(conn)
                return
            self._drop(conn)  # the client closed (or vanished mid-request: its partial frame is dropped)
            return
        conn.last_active = time.monotonic()
        conn.inbox += data
        self._serve(conn)

    def _serve(self, conn: _Connection) -> None:
        """Hand over the connection's next complete request; one met while handing over another waits its turn.

        An answer can come back while its request is being handed over (the engine answers some at
        once): reading the next request from inside would recurse once per request a client pipelined.
        """
        if self._processing:
            self._pending.add(conn.conn_id)
            return
        self._processing = True
        try:
            self._process(conn)
            while self._pending:
                waiting = self._connections.get(self._pending.pop())
                if waiting is not None:
                    self._guarded(waiting, functools.partial(self._process, waiting))
        finally:
            self._processing = False

    def _process(self, conn: _Connection) -> None:
        """Decode and hand over the next complete request, unless one is in the engine already."""
        while not conn.busy and not conn.close_after_write:
            if conn.expected is None:
                if len(conn.inbox) < 4:
                    break
                try:
                    conn.expected = frame_size(bytes(conn.inbox[:4]), self.max_request_bytes)
                except FrameError as exc:
                    self._reject(conn, str(exc), None)
                    return
                del conn.inbox[:4]
            if len(conn.inbox) < conn.expected:
                break
            frame = bytes(conn.inbox[:conn.expected])
            del conn.inbox[:conn.expected]
            conn.expected = None
            self._handle(conn, frame)
            if conn.conn_id not in self._connections:
                return
        self._update_interest(conn)

    def _handle(self, conn: _Connection, frame: bytes) -> None:
        try:
            request = decode_request(frame)
        except FrameError as exc:
            self._reject(conn, str(exc), exc.reply)
            return
        conn.client_id = request.client_id
        conn.requests[request.api_key] += 1
        if request.api_key == API_VERSIONS:
            self._api_versions(conn, request)
            return
        conn.busy = True
        assert self._engine is not None
        self._engine.dispatch(conn.ref, request)

    def _api_versions(self, conn: _Connection, request: DecodedRequest) -> None:
        """Answered by the listener itself, as Kafka's network layer does, without touching partitions."""
        error = Errors.NONE
        if request.api_version >= SOFTWARE_VERSION:
            name, version = request.body.client_software_name, request.body.client_software_version
            if _SOFTWARE.fullmatch(name) and _SOFTWARE.fullmatch(version):
                conn.software = (name, version)
            else:
                error = Errors.INVALID_REQUEST
        tree = {"error_code": error, "api_keys": api_versions_table()}
        conn.outbox += encode_response(API_VERSIONS, request.api_version, request.correlation_id, tree)
        self._write(conn)

    def _reject(self, conn: _Connection, reason: str, reply: bytes | None) -> None:
        """Close after ``reply`` (if any), as Kafka closes a connection that sent what it cannot parse."""
        self._report(conn.address, reason)
        if reply is None:
            self._drop(conn)
            return
        conn.outbox += reply
        conn.close_after_write = True
        conn.inbox.clear()
        self._write(conn)

    def _answer(self, conn: _Connection, request: DecodedRequest, tree: Tree | None) -> None:
        if tree is not None:
            conn.outbox += encode_response(request.api_key, request.api_version, request.correlation_id, tree)
        conn.busy = False
        self._write(conn)
        if conn.conn_id in self._connections:
            self._serve(conn)

    def _write(self, conn: _Connection) -> None:
        while conn.outbox:
            try:
                sent = conn.sock.send(conn.outbox)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self._drop(conn)
                return
            del conn.outbox[:sent]
        if not conn.outbox and conn.close_after_write:
            self._drop(conn)
            return
        self._update_interest(conn)

    def _update_interest(self, conn: _Connection) -> None:
        if conn.conn_id not in self._connections:
            return
        wanted = 0
        if not conn.close_after_write and (not conn.busy or (len(conn.inbox) < _RECV_BYTES and not conn.peer_closed)):
            wanted |= selectors.EVENT_READ
        if conn.outbox:
            wanted |= selectors.EVENT_WRITE
        if wanted == conn.interest:
            return
        if conn.interest == 0:
            self._selector.register(conn.sock, wanted, ("conn", conn.conn_id))
        elif wanted == 0:
            self._selector.unregister(conn.sock)
        else:
            self._selector.modify(conn.sock, wanted, ("conn", conn.conn_id))
        conn.interest = wanted

    def _close_idle(self, now: float) -> None:
        for conn in [c for c in self._connections.values()
                     if not c.busy and not c.outbox and now - c.last_active > self.idle_seconds]:
            self._drop(conn)

    def _report(self, address: str, reason: str) -> None:
        if self._engine is not None:
            self._engine.rejected(address, reason)

    def _drop(self, conn: _Connection) -> None:
        if self._connections.pop(conn.conn_id, None) is None:
            return
        if self._engine is not None:
            self._engine.closed(conn.ref)
        if conn.interest:
            try:
                self._selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass  # the selector was closed with the server
        conn.sock.close()

    def _close_listeners(self) -> None:
        for listener in self._listeners.values():
            listener.close()

    def _publish(self) -> None:
        snapshot = tuple(ConnectionInfo(c.conn_id, c.node, c.broker_id, c.address, c.client_id, c.software[0],
                                        c.software[1], tuple(sorted((api_name(key), count)
                                                                    for key, count in c.requests.items())))
                         for c in self._connections.values())
        with self._lock:
            self._snapshot = snapshot
