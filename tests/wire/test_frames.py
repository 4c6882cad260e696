"""The request decoder and response encoder: every served version round-trips, nothing else gets through."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kio.serial import entity_reader

from kafkalab.errors import Errors
from kafkalab.wire.apis import SUPPORTED, request_schema, response_schema
from kafkalab.wire.build import materialize, topic_id_of, uuid_of
from kafkalab.wire.frames import DecodedRequest, FrameError, decode_request, encode_response, frame_size
from tests.wire.raw_client import frame

#: One valid request frame (without its size) of each served API at its newest version.
VALID_FRAMES = [frame(api.key, api.max_version, 7, materialize(request_schema(api.key, api.max_version), {}))[4:]
                for api in SUPPORTED.values()]


@pytest.mark.parametrize("api_key,version", [(api.key, v) for api in SUPPORTED.values()
                                             for v in range(api.min_version, api.max_version + 1)])
def test_every_served_version_decodes_and_every_response_encodes(api_key: int, version: int) -> None:
    body = materialize(request_schema(api_key, version), {})
    decoded = decode_request(frame(api_key, version, 42, body, client_id="me")[4:])
    assert (decoded.api_key, decoded.api_version, decoded.correlation_id, decoded.client_id) == \
        (api_key, version, 42, "me")
    response = encode_response(api_key, version, 42, {})
    assert struct.unpack(">i", response[:4])[0] == len(response) - 4
    schema = response_schema(api_key, version)
    header, header_size = entity_reader(schema.__header_schema__)(response, 4)
    assert header.correlation_id == 42
    _, body_size = entity_reader(schema)(response, 4 + header_size)
    assert 4 + header_size + body_size == len(response)


def test_frame_sizes_over_the_limit_or_negative_are_refused() -> None:
    assert frame_size(struct.pack(">i", 100), 100) == 100
    for size in (101, -1):
        with pytest.raises(FrameError, match=r"socket\.request\.max\.bytes"):
            frame_size(struct.pack(">i", size), 100)


def test_topic_ids_round_trip_between_kafka_s_text_and_uuids() -> None:
    topic_id = "LHSQc6bKQ0qhwWZp7h4XKw"
    assert topic_id_of(uuid_of(topic_id)) == topic_id
    assert topic_id_of(uuid_of("")) == ""


def test_errors_become_kafka_s_codes_in_responses() -> None:
    response = encode_response(10, 3, 1, {"error_code": Errors.NOT_COORDINATOR, "node_id": -1, "host": "",
                                          "port": -1})
    schema = response_schema(10, 3)
    _, header_size = entity_reader(schema.__header_schema__)(response, 4)
    body, _ = entity_reader(schema)(response, 4 + header_size)
    assert body.error_code.value == Errors.NOT_COORDINATOR.code


def _decodes_or_refuses(data: bytes) -> None:
    try:
        decoded = decode_request(data)
    except FrameError:
        return
    assert isinstance(decoded, DecodedRequest)
    assert SUPPORTED[decoded.api_key].supports(decoded.api_version)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_are_decoded_or_refused(data: bytes) -> None:
    _decodes_or_refuses(data)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(VALID_FRAMES), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
       st.integers(0, 10_000))
def test_mutated_requests_are_decoded_or_refused(valid: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(valid)
    for position, value in flips:
        if data:
            data[position % len(data)] = value
    _decodes_or_refuses(bytes(data[:max(0, len(data) - cut % (len(data) + 1))]))
