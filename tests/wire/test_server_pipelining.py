"""The listener's sockets in-process: pipelined requests are taken one at a time, in order, without selector churn."""

from __future__ import annotations

import selectors
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from kafkalab.wire.apis import METADATA, request_schema
from kafkalab.wire.build import materialize
from kafkalab.wire.frames import DecodedRequest
from kafkalab.wire.gateway import ConnectionRef
from kafkalab.wire.server import _RECV_BYTES, WireServer
from tests.wire.raw_client import frame, read_frame


class Engine:
    """Stands in for the gateway: keeps each request it is handed until the test answers it."""

    def __init__(self) -> None:
        self.requests: list[tuple[ConnectionRef, DecodedRequest]] = []

    def dispatch(self, conn: ConnectionRef, request: DecodedRequest) -> None:
        self.requests.append((conn, request))

    def closed(self, conn: ConnectionRef) -> None:
        pass

    def rejected(self, address: str, reason: str) -> None:
        pass


class CountingSelector:
    """The server's selector, counting the changes of what it watches (each one a system call)."""

    def __init__(self, inner: selectors.BaseSelector) -> None:
        self.inner = inner
        self.changes = 0

    def register(self, *args: Any) -> Any:
        self.changes += 1
        return self.inner.register(*args)

    def modify(self, *args: Any) -> Any:
        self.changes += 1
        return self.inner.modify(*args)

    def unregister(self, *args: Any) -> Any:
        self.changes += 1
        return self.inner.unregister(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def server() -> Iterator[tuple[WireServer, Engine, CountingSelector]]:
    wire = WireServer("127.0.0.1", {1: 0})
    selector = CountingSelector(wire._selector)
    wire._selector = selector  # type: ignore[assignment]
    engine = Engine()
    wire.set_serving(1, True)
    wire.start(engine)  # type: ignore[arg-type]
    yield wire, engine, selector
    wire.close()


def metadata(correlation_id: int) -> bytes:
    return frame(METADATA, 12, correlation_id, materialize(request_schema(METADATA, 12), {}))


def serve_until(wire: WireServer, done: Any, rounds: int = 200) -> None:
    for _ in range(rounds):
        if done():
            return
        wire.wait(0.01)
    raise AssertionError("the server did not get there")


def test_pipelined_requests_are_answered_in_order_without_changing_the_selector(
        server: tuple[WireServer, Engine, CountingSelector]) -> None:
    wire, engine, selector = server
    client = socket.create_connection(wire.addresses[1], timeout=10)
    client.sendall(b"".join(metadata(correlation_id) for correlation_id in (1, 2, 3)))
    serve_until(wire, lambda: engine.requests)
    changes = selector.changes  # the new connection registered for reading
    for _ in range(5):
        wire.wait(0.01)
    assert [request.correlation_id for _, request in engine.requests] == [1]  # one request in the engine at a time
    for answered in range(3):
        conn, request = engine.requests[answered]
        wire.respond(conn.conn_id, request, {})
        if answered < 2:  # the next request was read already: taken at once, no wait for the socket
            assert [r.correlation_id for _, r in engine.requests] == [1, 2, 3][:answered + 2]
    replies = [read_frame(client) for _ in range(3)]
    assert [struct.unpack_from(">i", reply)[0] for reply in replies if reply is not None] == [1, 2, 3]
    assert selector.changes == changes
    client.close()


def test_a_client_that_closes_while_its_request_is_in_the_engine_gets_its_answer_first(
        server: tuple[WireServer, Engine, CountingSelector]) -> None:
    wire, engine, _ = server
    client = socket.create_connection(wire.addresses[1], timeout=10)
    client.sendall(metadata(7))
    client.shutdown(socket.SHUT_WR)
    serve_until(wire, lambda: engine.requests)
    for _ in range(5):
        wire.wait(0.01)
    assert len(wire._connections) == 1
    conn, request = engine.requests[0]
    wire.respond(conn.conn_id, request, {})
    reply = read_frame(client)
    assert reply is not None and struct.unpack_from(">i", reply)[0] == 7
    serve_until(wire, lambda: not wire._connections)
    assert read_frame(client) is None
    client.close()


def test_a_client_flooding_while_its_request_is_in_the_engine_is_muted_with_bounded_memory(
        server: tuple[WireServer, Engine, CountingSelector]) -> None:
    wire, engine, _ = server
    client = socket.create_connection(wire.addresses[1], timeout=10)
    client.sendall(metadata(1))
    serve_until(wire, lambda: engine.requests)
    client.setblocking(False)
    flood, sent = b"\0" * (8 * _RECV_BYTES), 0  # more than the server buffers; the kernel's buffers hold the rest
    for _ in range(200):
        try:
            sent += client.send(flood[sent:])
        except BlockingIOError:
            pass
        wire.wait(0.005)
    (conn,) = wire._connections.values()
    assert sent > 2 * _RECV_BYTES
    assert len(conn.inbox) < 2 * _RECV_BYTES
    assert not conn.interest & selectors.EVENT_READ
    client.close()
