"""PartitionLog appends (leader and follower), rolling, and reads through the index."""

from __future__ import annotations

from pathlib import Path

import pytest
from storage_helpers import T0, batch, keyed_batch, read_all, topic_config

from kafkalab.config import BrokerConfig
from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.compression import CompressionType
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import Header, TimestampType, encode_batch, iter_batch_headers, read_batch_header


def open_log(tmp_path: Path, **overrides) -> PartitionLog:
    log, _ = PartitionLog.open(tmp_path / "orders-0", topic_config(**overrides), 0, 0, False, T0, FileHandles())
    return log


def test_leader_assigns_offsets_and_epoch_without_reencoding(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    produced = batch(b"a", b"b", b"c")
    first = log.append_as_leader(produced, leader_epoch=4, now_ms=T0)
    second = log.append_as_leader(batch(b"d"), leader_epoch=4, now_ms=T0)
    assert (first.first_offset, first.last_offset, second.first_offset, log.log_end_offset) == (0, 2, 3, 4)
    stored = log.read(0, 10_000)
    header = read_batch_header(stored)
    assert (header.base_offset, header.partition_leader_epoch) == (0, 4)
    assert stored[21:header.size_in_bytes] == produced[21:]
    assert [r.value for r in read_all(log)] == [b"a", b"b", b"c", b"d"]
    assert [(e.epoch, e.start_offset) for e in first.epochs_started] == [(4, 0)]
    assert second.epochs_started == ()
    assert second._asdict() == {"first_offset": 3, "last_offset": 3, "log_append_time": -1, "log_start_offset": 0,
                                "record_count": 1, "rolled": (), "epochs_started": (), "flushed": False,
                                "producer_batches": False}


def test_log_append_time_replaces_the_producer_timestamps(tmp_path: Path) -> None:
    log = open_log(tmp_path, message_timestamp_type="LogAppendTime")
    info = log.append_as_leader(batch(b"a", b"b", timestamp=5), 0, now_ms=T0 + 77)
    assert info.log_append_time == T0 + 77
    assert [r.timestamp for r in read_all(log)] == [T0 + 77, T0 + 77]
    assert read_batch_header(log.read(0, 1000)).timestamp_type is TimestampType.LOG_APPEND_TIME


@pytest.mark.parametrize("overrides, produced, error, words", [
    ({"max_message_bytes": 100}, batch(b"x" * 200), Errors.MESSAGE_TOO_LARGE, "maximum configured value of 100"),
    ({"segment_bytes": 150}, batch(b"x" * 120), Errors.RECORD_LIST_TOO_LARGE, "segment size of 150"),
    ({"cleanup_policy": "compact"}, batch(b"v", key=None), Errors.INVALID_RECORD,
     "Compacted topic cannot accept message without key"),
    ({}, encode_batch([(b"k", b"v", (), T0)], base_offset=7), Errors.INVALID_RECORD, "should be 0"),
    ({}, batch(b"v")[:-1], Errors.CORRUPT_MESSAGE, "truncated"),
    ({}, batch(b"v")[:-1] + b"w", Errors.CORRUPT_MESSAGE, "crc"),
])
def test_leader_rejects_bad_batches_and_writes_nothing(tmp_path: Path, overrides, produced, error, words) -> None:
    log = open_log(tmp_path, **overrides)
    log.append_as_leader(batch(b"ok", b"ok"), 0, T0)
    size = log.size_in_bytes
    with pytest.raises(KafkaError) as info:
        log.append_as_leader(batch(b"fine") + produced, 0, T0)
    assert info.value.error is error and words in info.value.message
    assert (log.log_end_offset, log.size_in_bytes) == (2, size)


def test_follower_appends_the_leaders_bytes_and_learns_its_epochs(tmp_path: Path) -> None:
    leader = open_log(tmp_path / "leader")
    leader.append_as_leader(batch(b"a", b"b"), 1, T0)
    leader.append_as_leader(batch(b"c"), 3, T0)
    follower = open_log(tmp_path / "follower")
    data = leader.read(0, 100_000)
    info = follower.append_as_follower(data, T0)
    assert (info.first_offset, info.last_offset, follower.log_end_offset) == (0, 2, 3)
    assert follower.read(0, 100_000) == data
    assert [(e.epoch, e.start_offset) for e in follower.leader_epoch_cache.entries] == [(1, 0), (3, 2)]


def test_follower_must_continue_at_its_log_end_offset(tmp_path: Path) -> None:
    leader = open_log(tmp_path / "leader")
    for value in (b"a", b"b", b"c"):
        leader.append_as_leader(batch(value), 0, T0)
    follower = open_log(tmp_path / "follower")
    with pytest.raises(KafkaError) as info:
        follower.append_as_follower(leader.read(1, 100_000), T0)
    assert "next offset is 0" in info.value.message and follower.log_end_offset == 0


def test_rolls_when_the_next_batch_would_not_fit(tmp_path: Path) -> None:
    one = len(batch(b"x" * 50))
    log = open_log(tmp_path, segment_bytes=3 * one)
    rolls = [log.append_as_leader(batch(b"x" * 50), 0, T0).rolled for _ in range(7)]
    assert [r[0].new_base_offset for r in rolls if r] == [3, 6]
    assert {r[0].reason for r in rolls if r} == {"segment.bytes"}
    assert [(s.base_offset, s.next_offset, s.size_bytes, s.is_active) for s in log.segments()] == [
        (0, 3, 3 * one, False), (3, 6, 3 * one, False), (6, 7, one, True)]
    assert log.recovery_point == 6


def test_rolls_by_record_time_since_the_first_batch(tmp_path: Path) -> None:
    log = open_log(tmp_path, segment_ms=1000)
    assert not log.append_as_leader(batch(b"a", timestamp=T0), 0, T0).rolled
    assert not log.append_as_leader(batch(b"b", timestamp=T0 + 1000), 0, T0).rolled
    rolled = log.append_as_leader(batch(b"c", timestamp=T0 + 1001), 0, T0).rolled
    assert [(r.closed_base_offset, r.new_base_offset, r.reason) for r in rolled] == [(0, 2, "segment.ms")]


def test_rolls_when_an_index_is_full(tmp_path: Path) -> None:
    # An entry for every batch after the first; 24 bytes hold one time-index entry besides the one a roll adds.
    log = open_log(tmp_path, segment_index_bytes=24, index_interval_bytes=1)
    assert not log.append_as_leader(batch(b"a"), 0, T0).rolled
    assert not log.append_as_leader(batch(b"b"), 0, T0).rolled
    rolled = log.append_as_leader(batch(b"c"), 0, T0).rolled
    assert [(r.closed_base_offset, r.new_base_offset, r.reason) for r in rolled] == [(0, 2, "segment.index.bytes")]


def test_rolls_before_an_offset_the_index_could_not_hold(tmp_path: Path) -> None:
    # A compacted follower takes the leader's gaps; an index entry holds an offset as 32 bits above the base.
    follower = open_log(tmp_path, cleanup_policy="compact")
    far = encode_batch([(b"k", b"v", (), T0)], base_offset=2**31)
    info = follower.append_as_follower(encode_batch([(b"k", b"v", (), T0)]) + far, T0)
    assert [(r.closed_base_offset, r.new_base_offset, r.reason) for r in info.rolled] == [(0, 2**31, "offset overflow")]
    assert follower.log_end_offset == 2**31 + 1


def test_follower_append_spanning_segments_rolls_between_batches(tmp_path: Path) -> None:
    leader = open_log(tmp_path / "leader")
    for value in range(6):
        leader.append_as_leader(batch(b"%d" % value), 0, T0)
    one = len(batch(b"0"))
    follower = open_log(tmp_path / "follower", segment_bytes=2 * one)
    info = follower.append_as_follower(leader.read(0, 100_000), T0)
    assert [r.new_base_offset for r in info.rolled] == [2, 4]
    assert [r.value for r in read_all(follower)] == [b"%d" % v for v in range(6)]


def test_reads_find_offsets_through_the_index_across_segments(tmp_path: Path) -> None:
    log = open_log(tmp_path, segment_bytes=2000, index_interval_bytes=150)
    for i in range(60):
        log.append_as_leader(keyed_batch([(b"k%d" % i, b"v%d" % (3 * i + j)) for j in range(3)]), 0, T0)
    assert len(log.segments()) > 3
    for offset in (0, 1, 2, 3, 50, 91, 179):
        data = log.read(offset, 1)
        header = read_batch_header(data)
        assert header.base_offset <= offset <= header.last_offset and len(data) == header.size_in_bytes
    assert [r.offset for r in read_all(log)] == list(range(180))


def test_read_respects_max_bytes_max_offset_and_kip74(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    for value in (b"a" * 100, b"b", b"c"):
        log.append_as_leader(batch(value), 0, T0)
    big = len(batch(b"a" * 100))
    assert len(log.read(0, 10)) == big
    assert log.read(0, 10, min_one_message=False) == b""
    assert [h.base_offset for _, h in iter_batch_headers(log.read(0, 10_000, max_offset=2))] == [0, 1]
    assert log.read(1, 10_000, max_offset=1) == b""
    assert log.read(3, 10_000) == b""


@pytest.mark.parametrize("offset", [-1, 4])
def test_read_outside_the_log_is_offset_out_of_range(tmp_path: Path, offset: int) -> None:
    log = open_log(tmp_path)
    log.append_as_leader(batch(b"a", b"b", b"c"), 0, T0)
    with pytest.raises(KafkaError) as info:
        log.read(offset, 100)
    assert info.value.error is Errors.OFFSET_OUT_OF_RANGE


def test_flush_messages_forces_a_flush(tmp_path: Path) -> None:
    log = open_log(tmp_path, flush_messages=3)
    assert not log.append_as_leader(batch(b"a", b"b"), 0, T0).flushed
    assert log.append_as_leader(batch(b"c"), 0, T0).flushed
    assert log.recovery_point == 3


def test_descriptors_stay_bounded_with_many_logs(tmp_path: Path) -> None:
    handles = FileHandles(capacity=8)
    logs = [PartitionLog.open(tmp_path / f"t-{p}", topic_config(), 0, 0, False, T0, handles)[0] for p in range(40)]
    for log in logs:
        log.append_as_leader(batch(b"x"), 0, T0)
    assert handles.open_count == 8
    assert all(read_all(log)[0].value == b"x" for log in logs)


@pytest.mark.parametrize(("topic_codec", "producer_codec", "stored_codec"), [
    ("gzip", CompressionType.NONE, CompressionType.GZIP),
    ("uncompressed", CompressionType.GZIP, CompressionType.NONE),
    ("producer", CompressionType.GZIP, CompressionType.GZIP),
    ("gzip", CompressionType.GZIP, CompressionType.GZIP),
])
def test_a_topic_compression_type_recompresses_what_the_producer_sent(tmp_path: Path, topic_codec, producer_codec,
                                                                      stored_codec) -> None:
    # Kafka's LogValidator: the topic's codec wins unless it is "producer"; producer fields survive.
    log = open_log(tmp_path, compression_type=topic_codec)
    headers = (Header("trace", b"t-1"),)
    produced = encode_batch([(b"k1", b"v1", headers, T0), (None, b"v2", (), T0 + 5)], producer_id=7, producer_epoch=1,
                            base_sequence=10, compression=producer_codec)
    log.append_as_leader(produced, leader_epoch=2, now_ms=T0)
    header = read_batch_header(log.read(0, 10_000))
    assert header.compression is stored_codec
    assert (header.producer_id, header.producer_epoch, header.base_sequence, header.partition_leader_epoch) == (7, 1, 10, 2)
    assert [(r.offset, r.key, r.value, r.headers, r.timestamp) for r in read_all(log)] == [
        (0, b"k1", b"v1", headers, T0), (1, None, b"v2", (), T0 + 5)]


def test_a_changed_timestamp_type_and_codec_apply_from_the_next_append(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    log.append_as_leader(batch(b"a", timestamp=T0), 0, now_ms=T0)
    log.update_config(topic_config(message_timestamp_type="LogAppendTime", compression_type="gzip"))
    info = log.append_as_leader(batch(b"b", timestamp=5), 0, now_ms=T0 + 9)
    assert info.log_append_time == T0 + 9
    headers = [h for _, h in iter_batch_headers(log.read(0, 10_000))]
    assert [(h.timestamp_type, h.compression) for h in headers] == [
        (TimestampType.CREATE_TIME, CompressionType.NONE), (TimestampType.LOG_APPEND_TIME, CompressionType.GZIP)]
    assert [r.timestamp for r in read_all(log)] == [T0, T0 + 9]


@pytest.mark.parametrize(("key", "value"), [("compression.type", "snappy"), ("compression.type", "zstd")])
def test_kafka_values_kafkalab_does_not_implement_are_refused_not_ignored(key, value) -> None:
    with pytest.raises(KafkaError) as raised:
        BrokerConfig.from_overrides({key: value})
    assert raised.value.error is Errors.INVALID_CONFIG and "kafkalab does not implement" in raised.value.message
