"""The v2 record batch codec: round trips, CRC coverage, in-place patches and corrupt input."""

from __future__ import annotations

import gc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.compression import CompressionType
from kafkalab.storage.records import (
    BATCH_OVERHEAD,
    Header,
    Record,
    RecordsBuilder,
    TimestampType,
    all_records_have_keys,
    crc_matches,
    decode_batch,
    encode_batch,
    encode_retained_batch,
    iter_batch_headers,
    iter_record_keys,
    read_batch_header,
    set_log_append_time,
    set_offset_and_epoch,
)
from kafkalab.storage.varint import encode_varint, read_varint

optional_bytes = st.none() | st.binary(max_size=300)
headers = st.lists(st.builds(Header, st.text(max_size=10), optional_bytes), max_size=3)
timestamps = st.integers(min_value=0, max_value=2**50)
records = st.lists(st.tuples(optional_bytes, optional_bytes, headers, timestamps), min_size=1, max_size=20)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_varint_round_trips_any_long(value: int) -> None:
    encoded = encode_varint(value)
    assert read_varint(encoded + b"\xff", 0) == (value, len(encoded))


def test_varint_uses_zigzag_like_kafka() -> None:
    assert [encode_varint(v) for v in (0, -1, 1, -2, 63, -64, 64)] == [
        b"\x00", b"\x01", b"\x02", b"\x03", b"\x7e", b"\x7f", b"\x80\x01"]


@settings(max_examples=150, deadline=None)
@given(records, st.integers(min_value=0, max_value=2**40), st.integers(min_value=-1, max_value=2**31 - 1),
       st.integers(min_value=-1, max_value=2**40), st.integers(min_value=-1, max_value=2**15 - 1),
       st.integers(min_value=-1, max_value=2**31 - 100), st.sampled_from(list(CompressionType)[:2]))
def test_encode_decode_round_trips(items, base_offset, epoch, producer_id, producer_epoch, base_sequence, codec) -> None:
    data = encode_batch(items, base_offset=base_offset, partition_leader_epoch=epoch, producer_id=producer_id,
                        producer_epoch=producer_epoch, base_sequence=base_sequence, compression=codec)
    header, decoded = decode_batch(data)
    assert (header.base_offset, header.partition_leader_epoch, header.producer_id, header.producer_epoch,
            header.base_sequence, header.record_count, header.compression) == (
        base_offset, epoch, producer_id, producer_epoch, base_sequence, len(items), codec)
    assert header.size_in_bytes == len(data)
    assert header.next_offset == base_offset + len(items)
    assert header.max_timestamp == max(t for *_, t in items)
    assert crc_matches(data, 0, header)
    assert all_records_have_keys(data, 0, header) == all(key is not None for key, *_ in items)
    assert list(iter_record_keys(data, 0, header)) == [(base_offset + i, key) for i, (key, *_) in enumerate(items)]
    assert decoded == tuple(Record(base_offset + i, ts, key, value, tuple(hs))
                            for i, (key, value, hs, ts) in enumerate(items))


#: Lengths either side of where a varint grows a byte (63/64, 8191/8192) and past the encoder's table (16,383).
sized_bytes = st.builds(lambda n, fill: bytes([fill]) * n, st.sampled_from([0, 1, 63, 64, 100, 8191, 8192, 16383, 16384]),
                        st.integers(min_value=0, max_value=255))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(sized_bytes, sized_bytes), min_size=1, max_size=4), st.integers(min_value=0, max_value=200),
       timestamps)
def test_a_producers_usual_records_round_trip_across_varint_boundaries(items, more, timestamp) -> None:
    """Keyed records with the batch's timestamp and no headers (the encoder's table path), up to 200+ in a batch."""
    records = [(key, value, (), timestamp) for key, value in items] + [(b"k", b"v", (), timestamp)] * more
    _, decoded = decode_batch(encode_batch(records))
    assert decoded == tuple(Record(i, timestamp, key, value, ()) for i, (key, value, _, _) in enumerate(records))


def test_a_batch_being_built_holds_no_reference_to_its_records_keys_and_values() -> None:
    """Every young collection visits what a batch being filled refers to: the records' bytes, one copy, refer to nothing."""
    builder = RecordsBuilder(5)
    keys, values = [b"key-%d" % i for i in range(300)], [bytes([i % 256]) * 100 for i in range(300)]
    for key, value in zip(keys, values, strict=True):
        builder.append(key, value, (), 5)
    builder.append(b"late", None, (Header("h", b"x"),), 9)
    referred = {id(o) for r in gc.get_referents(builder) for o in (r, *gc.get_referents(r))}
    assert referred.isdisjoint(map(id, [*keys, *values]))
    _, decoded = decode_batch(builder.seal(CompressionType.NONE, base_offset=0, partition_leader_epoch=-1, attributes=0,
                                           last_offset_delta=300, producer_id=-1, producer_epoch=-1, base_sequence=-1))
    assert [(r.key, r.value) for r in decoded] == [*zip(keys, values, strict=True), (b"late", None)]


@settings(max_examples=60, deadline=None)
@given(records, st.data())
def test_crc_detects_every_single_bit_flip_in_the_covered_region(items, data) -> None:
    encoded = bytearray(encode_batch(items))
    bit = data.draw(st.integers(min_value=21 * 8, max_value=len(encoded) * 8 - 1))
    encoded[bit // 8] ^= 1 << (bit % 8)
    header = read_batch_header(encoded)
    assert not crc_matches(encoded, 0, header)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=50),
       st.sampled_from([bytes, bytearray, memoryview]))
def test_the_crc_of_a_small_or_large_batch_anywhere_in_any_buffer(value_size, before, kind) -> None:
    """A batch up to 4 KB is checksummed from a copy, a larger one through a view: the same check either way,
    and no view of a bytearray outlives it (the bytearray can still grow)."""
    batch = encode_batch([(b"k", b"v" * value_size, (), 5)])
    raw = bytearray(bytes(before) + batch + bytes(7))
    header = read_batch_header(raw, before)
    assert crc_matches(raw if kind is bytearray else kind(bytes(raw)), before, header)
    raw[before + len(batch) - 1] ^= 1
    assert not crc_matches(raw if kind is bytearray else kind(bytes(raw)), before, header)
    raw.extend(b"more")


def test_offset_and_epoch_rewrite_leaves_the_crc_valid() -> None:
    data = bytearray(encode_batch([(b"k", b"v", (), 5), (None, b"w", (), 6)]))
    stamped = set_offset_and_epoch(data, 0, read_batch_header(data), 1000, 7)
    header, decoded = decode_batch(bytes(data))
    assert stamped == header
    assert (header.base_offset, header.partition_leader_epoch) == (1000, 7)
    assert crc_matches(data, 0, header)
    assert [r.offset for r in decoded] == [1000, 1001]


def test_log_append_time_stamps_every_record_and_reseals_the_crc() -> None:
    data = bytearray(encode_batch([(b"k", b"v", (), 5), (b"k", b"w", (), 9)]))
    stamped = set_log_append_time(data, 0, read_batch_header(data), 123_456)
    header, decoded = decode_batch(bytes(data))
    assert stamped == header
    assert header.timestamp_type is TimestampType.LOG_APPEND_TIME
    assert crc_matches(data, 0, header)
    assert [r.timestamp for r in decoded] == [123_456, 123_456]


@settings(max_examples=100, deadline=None)
@given(records, st.binary(max_size=40), st.integers(min_value=0, max_value=2**62),
       st.integers(min_value=-1, max_value=2**31 - 1), st.none() | timestamps,
       st.sampled_from(list(CompressionType)[:2]))
def test_stamped_headers_read_as_the_stamped_bytes(items, before, base_offset, epoch, append_time, codec) -> None:
    data = bytearray(before + encode_batch(items, producer_id=3, producer_epoch=1, base_sequence=9, compression=codec))
    header = set_offset_and_epoch(data, len(before), read_batch_header(data, len(before)), base_offset, epoch)
    if append_time is not None:
        header = set_log_append_time(data, len(before), header, append_time)
    assert header == read_batch_header(data, len(before))
    assert crc_matches(data, len(before), header)


def test_retained_batch_keeps_offsets_producer_fields_and_sets_the_delete_horizon() -> None:
    original = encode_batch([(b"a", b"1", (), 10), (b"b", None, (), 11), (b"c", b"3", (), 12)], base_offset=40,
                            producer_id=9, producer_epoch=2, base_sequence=5, partition_leader_epoch=3)
    header, decoded = decode_batch(original)
    rewritten = encode_retained_batch(header, [decoded[1]], delete_horizon_ms=99_000)
    new_header, kept = decode_batch(rewritten)
    assert (new_header.base_offset, new_header.last_offset, new_header.producer_id, new_header.base_sequence,
            new_header.partition_leader_epoch) == (40, 42, 9, 5, 3)
    assert new_header.delete_horizon_ms == 99_000
    assert kept == (decoded[1],)
    empty_header, none = decode_batch(encode_retained_batch(header, [], None))
    assert (empty_header.record_count, empty_header.last_offset, none) == (0, 42, ())


def test_iter_batch_headers_walks_concatenated_batches_and_rejects_a_torn_tail() -> None:
    first, second = encode_batch([(b"k", b"v", (), 1)]), encode_batch([(b"k", b"w", (), 2)] * 3, base_offset=1)
    assert [(p, h.base_offset) for p, h in iter_batch_headers(first + second)] == [(0, 0), (len(first), 1)]
    with pytest.raises(KafkaError) as info:
        list(iter_batch_headers(first + second[:-1]))
    assert info.value.error is Errors.CORRUPT_MESSAGE


@pytest.mark.parametrize("damage, words", [
    (lambda b: b[:40], "header bytes"),
    (lambda b: b[:16] + b"\x01" + b[17:], "magic 1"),
    (lambda b: b[:8] + (20).to_bytes(4, "big") + b[12:], "smaller than the minimum"),
])
def test_malformed_headers_raise_corrupt_message(damage, words) -> None:
    with pytest.raises(KafkaError) as info:
        read_batch_header(damage(encode_batch([(b"k", b"v", (), 1)])))
    assert info.value.error is Errors.CORRUPT_MESSAGE and words in info.value.message


def test_unsupported_codec_is_rejected_with_a_sentence() -> None:
    data = bytearray(encode_batch([(b"k", b"v", (), 1)]))
    data[22] |= CompressionType.SNAPPY
    header = read_batch_header(data)
    with pytest.raises(KafkaError) as info:
        decode_batch(bytes(data))
    assert header.compression is CompressionType.SNAPPY
    assert info.value.error is Errors.CORRUPT_MESSAGE and "snappy" in info.value.message


def test_record_whose_length_lies_is_corrupt() -> None:
    data = bytearray(encode_batch([(b"key", b"value", (), 1)]))
    data[BATCH_OVERHEAD] = encode_varint(3)[0]
    with pytest.raises(KafkaError) as info:
        decode_batch(bytes(data))
    assert info.value.error is Errors.CORRUPT_MESSAGE
    data[BATCH_OVERHEAD] = encode_varint(300)[0]  # past the batch's end: even a reader of keys alone refuses it
    with pytest.raises(KafkaError) as info:
        list(iter_record_keys(bytes(data), 0, read_batch_header(bytes(data))))
    assert info.value.error is Errors.CORRUPT_MESSAGE
