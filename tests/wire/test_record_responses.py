"""The hand-written Produce and Fetch responses and response headers: byte for byte kio's, at every served version."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kio.serial import entity_writer

from kafkalab.errors import Errors
from kafkalab.wire.apis import FETCH, PRODUCE, SUPPORTED, response_schema
from kafkalab.wire.build import materialize, topic_id_of
from kafkalab.wire.frames import encode_response
from kafkalab.wire.record_responses import encode_fetch_response, encode_produce_response

PRODUCE_VERSIONS = range(SUPPORTED[PRODUCE].min_version, SUPPORTED[PRODUCE].max_version + 1)
FETCH_VERSIONS = range(SUPPORTED[FETCH].min_version, SUPPORTED[FETCH].max_version + 1)


def kio_frame(api_key: int, version: int, correlation_id: int, tree: Any) -> bytes:
    """The response frame as kio alone writes it: the tree materialized, header and body through kio's writers."""
    schema = response_schema(api_key, version)
    out = io.BytesIO()
    header_schema = schema.__header_schema__
    entity_writer(header_schema)(out, materialize(header_schema, {"correlation_id": correlation_id}))
    entity_writer(schema)(out, materialize(schema, tree))
    body = out.getvalue()
    return struct.pack(">i", len(body)) + body


int32 = st.integers(-(2**31), 2**31 - 1)
int64 = st.integers(-(2**63), 2**63 - 1)
#: Kafka's errors as the adapter passes them, and raw codes, known to kio or not.
error_codes = st.one_of(st.sampled_from(list(Errors)), st.integers(-(2**15), 2**15 - 1))
partitions = st.fixed_dictionaries({}, optional={
    "index": int32, "error_code": error_codes, "base_offset": int64, "log_start_offset": int64,
    "error_message": st.none() | st.text(max_size=40)})
topics = st.fixed_dictionaries({}, optional={
    "name": st.none() | st.text(max_size=30), "partition_responses": st.lists(partitions, max_size=4)})
trees = st.fixed_dictionaries({"responses": st.lists(topics, max_size=3)})

aborted = st.fixed_dictionaries({}, optional={"producer_id": int64, "first_offset": int64})
fetched = st.fixed_dictionaries({}, optional={
    "partition_index": int32, "error_code": error_codes, "high_watermark": int64, "last_stable_offset": int64,
    "log_start_offset": int64, "aborted_transactions": st.none() | st.lists(aborted, max_size=3),
    "records": st.none() | st.binary(max_size=300)})
fetched_topics = st.fixed_dictionaries({}, optional={
    "topic": st.none() | st.text(max_size=30), "topic_id": st.just("") | st.uuids().map(topic_id_of),
    "partitions": st.lists(fetched, max_size=4)})
fetch_trees = st.fixed_dictionaries({}, optional={
    "error_code": error_codes, "session_id": int32, "responses": st.lists(fetched_topics, max_size=3)})


@settings(max_examples=300, deadline=None)
@given(trees, st.sampled_from(PRODUCE_VERSIONS), int32)
def test_produce_responses_are_written_as_kio_writes_them(tree: dict[str, Any], version: int,
                                                          correlation_id: int) -> None:
    assert encode_produce_response(version, tree) is not None  # the hand-written path, not kio's
    assert encode_response(PRODUCE, version, correlation_id, tree) == kio_frame(PRODUCE, version, correlation_id, tree)


@settings(max_examples=300, deadline=None)
@given(fetch_trees, st.sampled_from(FETCH_VERSIONS), int32)
def test_fetch_responses_are_written_as_kio_writes_them(tree: dict[str, Any], version: int,
                                                        correlation_id: int) -> None:
    assert encode_fetch_response(version, tree) is not None
    assert encode_response(FETCH, version, correlation_id, tree) == kio_frame(FETCH, version, correlation_id, tree)


def test_the_adapter_s_answer_takes_the_hand_written_path() -> None:
    tree = {"responses": [{"name": "orders", "partition_responses": [
        {"index": 3, "error_code": Errors.NONE, "base_offset": 1_234, "log_start_offset": 0, "error_message": None},
        {"index": 4, "error_code": Errors.NOT_LEADER_OR_FOLLOWER, "base_offset": -1, "log_start_offset": -1,
         "error_message": "This server is not the leader for that topic-partition."}]}]}
    for version in PRODUCE_VERSIONS:
        assert encode_produce_response(version, tree) is not None
        assert encode_response(PRODUCE, version, 9, tree) == kio_frame(PRODUCE, version, 9, tree)


@pytest.mark.parametrize("tree", [
    {"responses": [], "throttle_time": 100},
    {"responses": [{"name": "t", "partition_responses": [{"index": 0, "record_errors": [{"batch_index": 2}]}]}]},
    {"responses": [{"name": "t", "partition_responses": [{"index": 0, "log_append_time": 1_700_000_000_000}]}]},
    {"responses": [{"name": "t", "partition_responses": [{"index": 0, "current_leader": {"leader_id": 2,
                                                                                          "leader_epoch": 5}}]}]},
])
def test_fields_the_adapter_does_not_set_are_left_to_kio(tree: dict[str, Any]) -> None:
    for version in PRODUCE_VERSIONS:
        assert encode_produce_response(version, tree) is None
        assert encode_response(PRODUCE, version, 1, tree) == kio_frame(PRODUCE, version, 1, tree)


@pytest.mark.parametrize("tree", [
    {"responses": [], "throttle_time": 100},
    {"responses": [{"topic": "t", "partitions": [{"partition_index": 0, "preferred_read_replica": 2}]}]},
    {"responses": [{"topic": "t", "partitions": [{"partition_index": 0, "aborted_transactions": [
        {"producer_id": 1, "first_offset": 0, "unknown": 1}]}]}]},
])
def test_fetch_fields_the_adapter_does_not_set_are_left_to_kio(tree: dict[str, Any]) -> None:
    for version in FETCH_VERSIONS:
        assert encode_fetch_response(version, tree) is None


@pytest.mark.parametrize("api_key,version", [(api.key, v) for api in SUPPORTED.values()
                                             for v in range(api.min_version, api.max_version + 1)])
def test_every_response_header_is_written_as_kio_writes_it(api_key: int, version: int) -> None:
    # ApiVersions keeps header v0 in its flexible versions; every other flexible response has v1 (a tag count).
    assert encode_response(api_key, version, -7, {}) == kio_frame(api_key, version, -7, {})
