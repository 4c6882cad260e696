"""Request frames in, response frames out: Kafka's size-prefixed framing and request headers.

A frame is a 4-byte big-endian size and that many bytes: a request header (API key,
version, correlation id, client id; tagged fields in flexible versions) and the body.
What Kafka's ``RequestContext.parseRequest`` rejects is rejected here the same way: an
unknown API key, a version not served or a body that does not parse close the
connection, except ApiVersions at a version not served, which gets a v0-encoded
UNSUPPORTED_VERSION answer listing what is served (KIP-511), so the client can pick.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from kio.serial import entity_reader, entity_writer
from kio.serial.errors import SerialError

from kafkalab.wire.apis import API_VERSIONS, FETCH, PRODUCE, SUPPORTED, api_name, request_schema, response_schema
from kafkalab.wire.build import materialize
from kafkalab.wire.record_responses import encode_fetch_response, encode_produce_response

_INT32 = struct.Struct(">i")
_FIXED_HEADER = struct.Struct(">hhi")
#: The responses written without kio (``record_responses``): the ones every record waits for.
_DIRECT_WRITERS = {PRODUCE: encode_produce_response, FETCH: encode_fetch_response}
#: Kafka's ``socket.request.max.bytes`` default: a larger frame closes the connection.
DEFAULT_MAX_REQUEST_BYTES = 104_857_600
#: A request header's or body's reader: the entity and the offset after it.
Reader = Callable[[bytes, int], tuple[Any, int]]
#: The header and body readers of each (API key, version) met so far, all served: one lookup per request instead
#: of the range check, the schema cache and two reader look-ups.
_READERS: dict[tuple[int, int], tuple[Reader, Reader]] = {}


class FrameError(Exception):
    """A frame Kafka would not serve: the connection is closed (``reply``, if any, is sent first)."""

    def __init__(self, message: str, reply: bytes | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class DecodedRequest(NamedTuple):
    """One request as the client sent it: header fields and the kio body of its version.

    A named tuple, immutable without a frozen dataclass's ``object.__setattr__`` per field: one per request.
    """

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str
    body: Any
    size: int


def frame_size(prefix: bytes, max_bytes: int) -> int:
    """The size a 4-byte prefix announces; FrameError if it is negative or over ``max_bytes``."""
    size = _INT32.unpack(prefix)[0]
    if size < 0 or size > max_bytes:
        # Kafka's NetworkReceive: "Invalid receive (size = N larger than M)", and the channel is closed.
        raise FrameError(f"Invalid receive (size = {size} larger than {max_bytes}); socket.request.max.bytes "
                         f"limits a request")
    return size


def decode_request(frame: bytes) -> DecodedRequest:
    """The request in ``frame`` (without its size prefix); FrameError when Kafka would close the connection."""
    if len(frame) < _FIXED_HEADER.size:
        raise FrameError(f"A request header needs at least {_FIXED_HEADER.size} bytes, the frame has {len(frame)}")
    api_key, api_version, correlation_id = _FIXED_HEADER.unpack_from(frame)
    readers = _READERS.get((api_key, api_version))
    if readers is None:
        readers = _served_readers(api_key, api_version, correlation_id)
    read_header, read_body = readers
    try:
        header, offset = read_header(frame, 0)
        body, _ = read_body(frame, offset)
    # kio's native decoder reports malformed input as SerialError, ValueError (an over-long varint),
    # UnicodeDecodeError (a string that is not UTF-8) or OverflowError, and a tagged field it does not
    # know as KeyError (Kafka would skip it; no client sends one today). Each closes the connection.
    except (SerialError, ValueError, OverflowError, KeyError) as exc:
        raise FrameError(f"Error reading {api_name(api_key)} v{api_version}: {exc}") from None
    return DecodedRequest(api_key, api_version, correlation_id, header.client_id or "", body, len(frame))


def _served_readers(api_key: int, api_version: int, correlation_id: int) -> tuple[Reader, Reader]:
    """The header and body readers of a served API version, kept for the next request; FrameError if not served."""
    api = SUPPORTED.get(api_key)
    if api is None:
        raise FrameError(f"Unknown API key {api_key}")
    if not api.supports(api_version):
        if api_key == API_VERSIONS:
            raise FrameError(f"ApiVersions v{api_version} is not served", unsupported_api_versions(correlation_id))
        raise FrameError(f"{api.name} v{api_version} is not served (v{api.min_version}-v{api.max_version} are)")
    schema = request_schema(api_key, api_version)
    readers = _READERS[(api_key, api_version)] = (entity_reader(schema.__header_schema__), entity_reader(schema))
    return readers


def encode_response(api_key: int, api_version: int, correlation_id: int, tree: Any) -> bytes:
    """A size-prefixed response frame of ``tree`` (a plain tree or a kio entity) at the request's version."""
    schema = response_schema(api_key, api_version)
    # The response header: the correlation id, then (header v1, flexible versions) an empty tagged-field count.
    # Which header a version has is kio's (``__header_schema__``): ApiVersions keeps v0 in flexible versions.
    correlation = _INT32.pack(correlation_id)
    header = correlation + b"\0" if schema.__header_schema__.__flexible__ else correlation
    write_directly = _DIRECT_WRITERS.get(api_key)
    if write_directly is not None and not isinstance(tree, schema):
        body = write_directly(api_version, tree)
        if body is not None:
            return _INT32.pack(len(header) + len(body)) + header + body
    out = io.BytesIO()
    out.write(b"\0\0\0\0")
    out.write(header)
    entity_writer(schema)(out, tree if isinstance(tree, schema) else materialize(schema, tree))
    data = out.getbuffer()
    _INT32.pack_into(data, 0, len(data) - 4)
    return bytes(data)


def api_versions_table() -> list[dict[str, int]]:
    """Every served API with its version range, as ApiVersions lists them."""
    return [{"api_key": api.key, "min_version": api.min_version, "max_version": api.max_version}
            for api in sorted(SUPPORTED.values(), key=lambda a: a.key)]


def unsupported_api_versions(correlation_id: int) -> bytes:
    """The v0 UNSUPPORTED_VERSION reply to an ApiVersions request at a version not served."""
    return encode_response(API_VERSIONS, 0, correlation_id, {"error_code": 35, "api_keys": api_versions_table()})
