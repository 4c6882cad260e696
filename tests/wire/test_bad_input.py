"""Bad input on the wire: each offending connection is answered or closed as Kafka does, others are served."""

from __future__ import annotations

import socket
import struct
import time

from kio.schema.errors import ErrorCode

from kafkalab.wire.apis import request_schema
from tests.wire.raw_client import api_versions, closed, connect, decode_api_versions, frame, read_frame
from tests.wire.serve_process import ServeProcess


def _still_served(serve: ServeProcess) -> None:
    """A well-behaved client is answered, and the cluster's own actions still work."""
    with connect(serve.ports[0]) as sock:
        sock.sendall(api_versions(3, correlation_id=99))
        reply = read_frame(sock)
        assert reply is not None and struct.unpack(">i", reply[:4])[0] == 99
        assert decode_api_versions(reply, 3).error_code == ErrorCode.none
    assert serve.act("describe_topic: __consumer_offsets").get("error") in (None, "UNKNOWN_TOPIC_OR_PARTITION")


def test_api_versions_lists_what_is_served_and_an_unknown_version_gets_the_v0_answer(serve: ServeProcess) -> None:
    with connect(serve.ports[0]) as sock:
        sock.sendall(api_versions(3))
        table = decode_api_versions(read_frame(sock) or b"", 3)
        served = {api.api_key: (api.min_version, api.max_version) for api in table.api_keys}
        assert served[0] == (3, 11) and served[1] == (4, 17) and served[3] == (0, 12) and served[18] == (0, 4)
    with connect(serve.ports[1]) as sock:
        # ApiVersions v9 does not exist: Kafka answers in v0 with UNSUPPORTED_VERSION and its table, then closes.
        sock.sendall(struct.pack(">i", 12) + struct.pack(">hhi", 18, 9, 7) + b"\0\0" + b"\0\0")
        reply = read_frame(sock)
        assert reply is not None and struct.unpack(">i", reply[:4])[0] == 7
        answer = decode_api_versions(reply, 0)
        assert answer.error_code == ErrorCode.unsupported_version
        assert {api.api_key for api in answer.api_keys} >= {0, 1, 3, 18}
        assert closed(sock)
    _still_served(serve)


def test_unknown_api_unserved_version_and_garbage_close_the_connection(serve: ServeProcess) -> None:
    metadata_v12 = request_schema(3, 12)(topics=None, allow_auto_topic_creation=False,
                                         include_topic_authorized_operations=False)
    valid = frame(3, 12, 5, metadata_v12)
    unserved_version = valid[:6] + struct.pack(">h", 13) + valid[8:]
    bad_frames = [
        struct.pack(">i", 8) + struct.pack(">hhi", 999, 0, 1),  # an API key Kafka does not have
        unserved_version,  # Metadata v13 is newer than Kafka 3.9 serves
        struct.pack(">i", 12) + struct.pack(">hhi", 3, 12, 1) + b"\xff\xff\xff\xff",  # a body that does not parse
        struct.pack(">i", 2) + b"\0\0",  # shorter than a request header
        struct.pack(">i", -5),  # a negative size
    ]
    for data in bad_frames:
        with connect(serve.ports[0]) as sock:
            sock.sendall(data)
            assert closed(sock), data
    serve.wait_for(lambda: sum("Closed the connection from" in line for line in serve.narration) >= len(bad_frames),
                   what="each rejected connection narrated")
    _still_served(serve)


def test_a_frame_over_socket_request_max_bytes_is_refused_before_it_is_read(serve: ServeProcess) -> None:
    with connect(serve.ports[2]) as sock:
        sock.sendall(struct.pack(">i", 104_857_601))  # one byte over Kafka's 100 MiB default
        assert closed(sock)
    serve.wait_for(lambda: any("socket.request.max.bytes" in line for line in serve.narration),
                   what="the refusal narrated")
    _still_served(serve)


def test_a_client_vanishing_mid_request_and_a_slow_client_leave_the_others_served(serve: ServeProcess) -> None:
    data = api_versions(3, correlation_id=5)
    with connect(serve.ports[0]) as vanishing:
        vanishing.sendall(data[:7])
    slow = connect(serve.ports[0])
    for byte in data[:-1]:
        slow.sendall(bytes([byte]))
        time.sleep(0.02)
    _still_served(serve)  # answered while the slow client's request is still incomplete
    slow.sendall(data[-1:])
    reply = read_frame(slow)
    assert reply is not None and struct.unpack(">i", reply[:4])[0] == 5
    slow.close()


def test_a_thousand_idle_connections_do_not_stop_the_others(serve: ServeProcess) -> None:
    idle: list[socket.socket] = []
    try:
        for i in range(1000):
            idle.append(connect(serve.ports[i % 3]))
        started = time.monotonic()
        _still_served(serve)
        assert time.monotonic() - started < 5
        for sock in idle[:10]:
            sock.sendall(api_versions(3, correlation_id=11))
            reply = read_frame(sock)
            assert reply is not None and struct.unpack(">i", reply[:4])[0] == 11
    finally:
        for sock in idle:
            sock.close()
