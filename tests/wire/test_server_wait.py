"""The listener's wait on the engine thread: as short as the next timer asks, and still serving sockets."""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Iterator

import pytest

from kafkalab.wire.server import WireServer
from tests.wire.raw_client import api_versions, connect, read_frame


class _NoEngine:
    """ApiVersions is answered by the listener itself: only closes reach the engine."""

    def closed(self, conn: object) -> None:
        pass

    def rejected(self, address: str, reason: str) -> None:
        raise AssertionError(reason)


@pytest.fixture
def server() -> Iterator[WireServer]:
    wire = WireServer("127.0.0.1", {1: 0})
    wire.start(_NoEngine())  # type: ignore[arg-type]
    wire.set_serving(1, True)
    yield wire
    wire.close()


def _fastest(server: WireServer, timeout: float, times: int = 20) -> float:
    fastest = float("inf")
    for _ in range(times):
        began = time.perf_counter()
        server.wait(timeout)
        fastest = min(fastest, time.perf_counter() - began)
    return fastest


def test_a_wait_shorter_than_a_millisecond_is_not_rounded_up_to_one(server: WireServer) -> None:
    # epoll waits whole milliseconds: a simulated 0.5 ms network hop took 1 ms or more of the wall clock.
    # Load can only make a wait longer, so the fastest of 20 is what the wait itself costs.
    assert _fastest(server, 0.0002) < 0.0008


def _api_versions_answered(server: WireServer) -> None:
    with connect(server.addresses[1][1]) as sock:
        sock.sendall(api_versions(3, correlation_id=42))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            server.wait(0.0002)  # short waits only: the connection and its request are served through them
            sock.setblocking(False)
            try:
                sock.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                continue
            finally:
                sock.settimeout(10)
            reply = read_frame(sock)  # written with one send: all there
            assert reply is not None and struct.unpack(">i", reply[:4])[0] == 42
            return
    raise AssertionError("no answer through short waits")


def test_short_waits_accept_read_and_answer(server: WireServer) -> None:
    _api_versions_answered(server)


def test_without_select_for_the_epoll_descriptor_waits_are_whole_milliseconds(
        server: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise ValueError("filedescriptor out of range in select()")

    monkeypatch.setattr(select, "select", refuse)
    assert _fastest(server, 0.0002, times=3) >= 0.001
    _api_versions_answered(server)
