"""``__cluster_metadata-0`` on disk: batches and epochs, control records, snapshots, cleaning and recovery."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.raft import OffsetAndEpoch
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.divergence import FetchPosition
from kafkalab.raft.listeners import decode_committed
from kafkalab.raft.metadata_log import METADATA_PARTITION_DIR, MetadataLog
from kafkalab.raft.snapshots import decode_snapshot, encode_snapshot, parse_snapshot_path, snapshot_file_name
from kafkalab.storage.control_records import (
    ControlRecordType,
    LeaderChangeMessage,
    SnapshotFooter,
    SnapshotHeader,
    decode_control_record,
    encode_control_value,
)
from kafkalab.storage.records import Record, decode_batch, iter_batch_headers

CONFIG = QuorumConfig.build()


def open_log(path: Path, config: QuorumConfig = CONFIG) -> MetadataLog:
    return MetadataLog.open(path, config, now_ms=0)[0]


def filled(path: Path, epochs: list[int], config: QuorumConfig = CONFIG) -> MetadataLog:
    """A log with one single-record batch per entry of ``epochs``, committed."""
    log = open_log(path, config)
    for index, epoch in enumerate(epochs):
        log.append_as_leader([b"r%d" % index], epoch, now_ms=index)
    log.high_watermark = log.end_offset
    return log


def test_the_log_lives_where_kafka_puts_it_with_its_topic_id(tmp_path: Path) -> None:
    log = filled(tmp_path, [1])
    assert log.directory == tmp_path / METADATA_PARTITION_DIR
    assert (log.directory / "partition.metadata").read_text() == "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n"
    assert (log.directory / "00000000000000000000.log").exists()


def test_a_leader_change_is_a_control_batch_with_kafkas_message(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    log.initialize_leader_epoch(3)
    log.append_control(LeaderChangeMessage(2, (1, 2, 3), (2, 3)), epoch=3, now_ms=7)
    (batch,) = decode_committed(log.read(0, 1 << 20))
    assert batch.is_control and batch.epoch == 3 and batch.records == ()
    assert batch.control_records == (LeaderChangeMessage(2, (1, 2, 3), (2, 3)),)
    assert log.last_fetched_epoch == 3 and log.end_offset == 1


def test_leader_change_bytes_are_kafkas_flexible_version_zero_encoding() -> None:
    # Version 0, LeaderId 2, Voters [1, 2], GrantingVoters [2]: compact arrays carry length + 1
    # and every struct ends with an empty tagged-field section.
    assert encode_control_value(LeaderChangeMessage(2, (1, 2), (2,))) == bytes.fromhex(
        "0000" "00000002" "03" "0000000100" "0000000200" "02" "0000000200" "00")
    assert encode_control_value(SnapshotHeader(5)) == bytes.fromhex("0000" "0000000000000005" "00")
    assert encode_control_value(SnapshotFooter()) == bytes.fromhex("0000" "00")


@given(st.integers(0, 2**31 - 1), st.lists(st.integers(0, 2**31 - 1), max_size=9),
       st.lists(st.integers(0, 2**31 - 1), max_size=9))
def test_leader_change_messages_round_trip(leader: int, voters: list[int], granting: list[int]) -> None:
    message = LeaderChangeMessage(leader, tuple(voters), tuple(granting))
    record = Record(0, 0, bytes.fromhex("00000002"), encode_control_value(message))
    assert decode_control_record(record) == (ControlRecordType.LEADER_CHANGE, message)


def test_a_truncated_control_record_is_corrupt() -> None:
    record = Record(4, 0, bytes.fromhex("00000002"), encode_control_value(LeaderChangeMessage(1, (1, 2), ()))[:7])
    with pytest.raises(KafkaError) as raised:
        decode_control_record(record)
    assert raised.value.error is Errors.CORRUPT_MESSAGE


def test_epochs_come_from_the_batches(tmp_path: Path) -> None:
    log = filled(tmp_path, [1, 1, 2, 4, 4])
    assert log.end_offset_and_epoch() == OffsetAndEpoch(5, 4)
    assert log.validate_offset_and_epoch(3, 2).kind is FetchPosition.VALID
    diverging = log.validate_offset_and_epoch(3, 3)
    assert diverging.kind is FetchPosition.DIVERGING and diverging.offset_and_epoch == OffsetAndEpoch(3, 2)


def test_truncation_follows_the_leaders_diverging_epoch_but_never_passes_the_high_watermark(tmp_path: Path) -> None:
    log = filled(tmp_path, [1, 1, 2, 2, 2])
    log.high_watermark = 2
    result = log.truncate_to_end_offset(OffsetAndEpoch(3, 2), now_ms=0)
    assert (result.new_log_end_offset, log.last_fetched_epoch) == (3, 2)
    with pytest.raises(KafkaError, match="below the current high watermark"):
        log.truncate_to(1, now_ms=0)


def test_the_committed_read_stops_at_the_high_watermark(tmp_path: Path) -> None:
    log = filled(tmp_path, [1, 1, 1])
    log.high_watermark = 2
    assert [b.base_offset for b in decode_committed(log.read(0, 1 << 20, committed_only=True))] == [0, 1]


# -- snapshots --------------------------------------------------------------------------------


def test_a_snapshot_is_header_records_footer_in_kafkas_file_name(tmp_path: Path) -> None:
    log = filled(tmp_path, [1, 1, 2, 2])
    snapshot_id = OffsetAndEpoch(3, 2)
    size = log.create_snapshot(snapshot_id, [b"a", b"b"], last_contained_log_timestamp=42, now_ms=100)
    path = log.directory / "00000000000000000003-0000000002.checkpoint"
    assert path.exists() and size == path.stat().st_size
    data = path.read_bytes()
    header, records = decode_batch(data)
    assert header.is_control and header.base_offset == 0 and header.partition_leader_epoch == 2
    assert decode_control_record(records[0]) == (ControlRecordType.SNAPSHOT_HEADER, SnapshotHeader(42))
    contents = log.read_snapshot(snapshot_id)
    assert contents.records == (b"a", b"b") and contents.last_contained_log_timestamp == 42


def test_a_snapshot_must_be_committed_and_a_position_of_the_log(tmp_path: Path) -> None:
    log = filled(tmp_path, [1, 1, 2, 2])
    log.high_watermark = 2
    with pytest.raises(ValueError, match="greater than the high watermark"):
        log.create_snapshot(OffsetAndEpoch(3, 2), [], 0, 0)
    log.high_watermark = 4
    with pytest.raises(ValueError, match="not valid"):
        log.create_snapshot(OffsetAndEpoch(3, 1), [], 0, 0)
    assert log.create_snapshot(OffsetAndEpoch(2, 1), [], 0, 0) is not None
    assert log.create_snapshot(OffsetAndEpoch(2, 1), [], 0, 0) is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=40))
def test_snapshots_round_trip(records: list[bytes]) -> None:
    snapshot_id = OffsetAndEpoch(17, 3)
    assert decode_snapshot(snapshot_id, encode_snapshot(snapshot_id, records, 5, 9)).records == tuple(records)


def test_a_snapshot_without_its_footer_is_corrupt() -> None:
    snapshot_id = OffsetAndEpoch(1, 1)
    data = encode_snapshot(snapshot_id, [b"x"], 0, 0)
    footer_position = list(iter_batch_headers(data))[-1][0]
    with pytest.raises(KafkaError, match="SnapshotFooter") as raised:
        decode_snapshot(snapshot_id, data[:footer_position])
    assert raised.value.error is Errors.CORRUPT_MESSAGE


@pytest.mark.parametrize(("name", "expected"), [
    ("00000000000000000042-0000000003.checkpoint", (OffsetAndEpoch(42, 3), False, False)),
    ("00000000000000000042-0000000003.checkpoint.part", (OffsetAndEpoch(42, 3), True, False)),
    ("00000000000000000042-0000000003-123.checkpoint.part", (OffsetAndEpoch(42, 3), True, False)),
    ("00000000000000000042-0000000003.checkpoint.deleted", (OffsetAndEpoch(42, 3), False, True)),
    ("00000000000000000042.log", None), ("quorum-state", None)])
def test_snapshot_file_names(name: str, expected: tuple[OffsetAndEpoch, bool, bool] | None) -> None:
    found = parse_snapshot_path(Path(name))
    assert (None if found is None else (found.snapshot_id, found.partial, found.deleted)) == expected
    if expected is not None and not expected[1] and not expected[2]:
        assert snapshot_file_name(expected[0]) == name


def test_reopening_deletes_half_written_snapshots_and_keeps_frozen_ones(tmp_path: Path) -> None:
    log = filled(tmp_path, [1, 1, 1])
    log.create_snapshot(OffsetAndEpoch(2, 1), [b"s"], 0, 0)
    (log.directory / "00000000000000000003-0000000001.checkpoint.part").write_bytes(b"half")
    log.close()
    reopened = open_log(tmp_path)
    assert reopened.snapshot_ids == (OffsetAndEpoch(2, 1),)
    assert not (reopened.directory / "00000000000000000003-0000000001.checkpoint.part").exists()
    assert reopened.end_offset == 3 and reopened.high_watermark is None


def test_a_downloaded_snapshot_past_the_log_empties_it(tmp_path: Path) -> None:
    leader = filled(tmp_path / "leader", [1, 1, 2, 2, 2])
    leader.create_snapshot(OffsetAndEpoch(4, 2), [b"state"], 0, 0)
    data = leader.snapshot_bytes(OffsetAndEpoch(4, 2))
    assert data is not None
    follower = filled(tmp_path / "follower", [1])
    assert follower.begin_fetching_snapshot(OffsetAndEpoch(4, 2))
    follower.append_fetched_snapshot(data[:10])
    follower.append_fetched_snapshot(data[10:])
    assert follower.freeze_fetched_snapshot(now_ms=0) == OffsetAndEpoch(4, 2)
    assert (follower.start_offset, follower.end_offset, follower.last_fetched_epoch) == (4, 4, 2)
    assert follower.high_watermark == 4
    assert follower.read_snapshot(OffsetAndEpoch(4, 2)).records == (b"state",)


def test_cleaning_deletes_the_oldest_snapshot_and_the_segments_before_the_next(tmp_path: Path) -> None:
    config = QuorumConfig.build({"metadata.log.segment.bytes": 200, "metadata.log.segment.min.bytes": 100,
                                 "metadata.max.retention.bytes": 1})
    log = filled(tmp_path, [1] * 12, config)
    log.create_snapshot(OffsetAndEpoch(4, 1), [b"first"], 0, 0)
    log.create_snapshot(OffsetAndEpoch(9, 1), [b"second"], 0, 0)
    segments_before = len(list(log.directory.glob("*.log")))
    deleted = log.maybe_clean(now_ms=0, snapshot_timestamp={})
    assert [d.snapshot_id for d in deleted] == [OffsetAndEpoch(4, 1)]
    assert "metadata.max.retention.bytes" in deleted[0].reason
    assert log.snapshot_ids == (OffsetAndEpoch(9, 1),) and log.start_offset == 9
    assert len(list(log.directory.glob("*.log"))) < segments_before
    assert not (log.directory / snapshot_file_name(OffsetAndEpoch(4, 1))).exists()
    validity = log.validate_offset_and_epoch(3, 1)
    assert validity.kind is FetchPosition.SNAPSHOT and validity.offset_and_epoch == OffsetAndEpoch(9, 1)
    log.close()
    assert open_log(tmp_path, config).start_offset <= 9


def test_cleaning_by_age_keeps_the_newest_snapshot(tmp_path: Path) -> None:
    config = QuorumConfig.build({"metadata.max.retention.ms": 1000})
    log = filled(tmp_path, [1] * 6, config)
    log.create_snapshot(OffsetAndEpoch(2, 1), [], 0, 0)
    log.create_snapshot(OffsetAndEpoch(5, 1), [], 0, 0)
    timestamps = {OffsetAndEpoch(2, 1): 0, OffsetAndEpoch(5, 1): 0}
    assert log.maybe_clean(now_ms=500, snapshot_timestamp=timestamps) == []
    assert [d.snapshot_id for d in log.maybe_clean(now_ms=5000, snapshot_timestamp=timestamps)] == [OffsetAndEpoch(2, 1)]
    assert log.maybe_clean(now_ms=9000, snapshot_timestamp=timestamps) == []


def test_a_log_start_without_a_snapshot_refuses_to_open(tmp_path: Path) -> None:
    config = QuorumConfig.build({"metadata.log.segment.bytes": 200, "metadata.log.segment.min.bytes": 100,
                                 "metadata.max.retention.bytes": 1})
    log = filled(tmp_path, [1] * 12, config)
    log.create_snapshot(OffsetAndEpoch(4, 1), [], 0, 0)
    log.create_snapshot(OffsetAndEpoch(9, 1), [], 0, 0)
    log.maybe_clean(0, {})
    log.close()
    (log.directory / snapshot_file_name(OffsetAndEpoch(9, 1))).unlink()
    with pytest.raises(KafkaError, match="no snapshot covers") as raised:
        open_log(tmp_path, config)
    assert raised.value.error is Errors.KAFKA_STORAGE_ERROR


def test_segment_bytes_below_kafkas_minimum_are_refused() -> None:
    with pytest.raises(KafkaError, match=r"metadata\.log\.segment\.min\.bytes") as raised:
        QuorumConfig.build({"metadata.log.segment.bytes": 1024})
    assert raised.value.error is Errors.INVALID_CONFIG
    with pytest.raises(KafkaError, match=r"Did you mean controller\.quorum\.election\.timeout\.ms"):
        QuorumConfig.build({"controller.quorum.election.timeout": 5})
