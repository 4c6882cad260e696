"""Hand-built Kafka frames over a plain socket, for tests of what the listener does with bad input."""

from __future__ import annotations

import io
import socket
import struct
from typing import Any

from kio.serial import entity_reader, entity_writer

from kafkalab.wire.apis import request_schema, response_schema


def frame(api_key: int, version: int, correlation_id: int, body: Any, client_id: str = "raw") -> bytes:
    """A size-prefixed request frame of ``body`` (a kio request of that version)."""
    schema = request_schema(api_key, version)
    out = io.BytesIO()
    header = schema.__header_schema__(request_api_key=api_key, request_api_version=version,  # type: ignore[call-arg]
                                      correlation_id=correlation_id, client_id=client_id)
    entity_writer(schema.__header_schema__)(out, header)
    entity_writer(schema)(out, body)
    data = out.getvalue()
    return struct.pack(">i", len(data)) + data


def api_versions(version: int = 3, correlation_id: int = 1) -> bytes:
    """An ApiVersions request frame."""
    schema = request_schema(18, version)
    body = schema(client_software_name="raw", client_software_version="1") if version >= 3 else schema()
    return frame(18, version, correlation_id, body)


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_frame(sock: socket.socket) -> bytes | None:
    """The next response frame (without its size), or None when the server closed the connection."""
    head = _read_exactly(sock, 4)
    if head is None:
        return None
    return _read_exactly(sock, struct.unpack(">i", head)[0])


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def decode_api_versions(data: bytes, version: int) -> Any:
    """The ApiVersions response in ``data`` (its header is always v0: a correlation id)."""
    return entity_reader(response_schema(18, version))(data, 4)[0]


def closed(sock: socket.socket) -> bool:
    """True once the server has closed the connection (reads return nothing)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
