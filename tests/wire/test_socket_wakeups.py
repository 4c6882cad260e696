"""The socket thread is woken once per engine pass, however many answers the pass produced."""

from __future__ import annotations

import pytest

from kafkalab.wire.frames import decode_request
from kafkalab.wire.server import WireServer
from tests.wire.raw_client import api_versions


def test_answers_of_one_engine_pass_wake_the_socket_thread_once(monkeypatch: pytest.MonkeyPatch) -> None:
    server = WireServer("127.0.0.1", {1: 0})
    wakes: list[None] = []
    monkeypatch.setattr(server, "_wake", lambda: wakes.append(None))
    request = decode_request(api_versions()[4:])
    try:
        server.defer_wakes()
        for conn_id in range(5):
            server.respond(conn_id, request, None)
        assert wakes == []  # answered during the pass: nothing wakes the socket thread yet
        server.flush()  # the end of the pass
        server.flush()  # a wake-up is already on its way
        assert len(wakes) == 1
    finally:
        server.close()


def test_without_a_pass_hook_each_answer_wakes_the_socket_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    server = WireServer("127.0.0.1", {1: 0})
    wakes: list[None] = []
    monkeypatch.setattr(server, "_wake", lambda: wakes.append(None))
    try:
        server.respond(1, decode_request(api_versions()[4:]), None)
        assert len(wakes) == 1
    finally:
        server.close()
