"""Retention by time and size, the log start offset, and truncation."""

from __future__ import annotations

from pathlib import Path

import pytest
from storage_helpers import T0, batch, read_all, topic_config

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log import PartitionLog

ONE = len(batch(b"x" * 40))


def open_log(tmp_path: Path, **overrides) -> PartitionLog:
    config = topic_config(**{"segment_bytes": 2 * ONE, **overrides})
    return PartitionLog.open(tmp_path / "events-0", config, 0, 0, False, T0, FileHandles())[0]


def fill(log: PartitionLog, count: int, epoch_every: int = 100) -> None:
    """``count`` one-record batches, the i-th stamped T0 + i * 1000 ms."""
    for i in range(count):
        log.append_as_leader(batch(b"x" * 40, timestamp=T0 + i * 1000), i // epoch_every, T0)


def test_retention_ms_deletes_old_closed_segments_and_moves_the_log_start(tmp_path: Path) -> None:
    log = open_log(tmp_path, retention_ms=5_000)
    fill(log, 9)
    result = log.delete_old_segments(now_ms=T0 + 9_500, high_watermark=log.log_end_offset)
    assert [(d.base_offset, d.next_offset, d.records, d.reason) for d in result.deleted] == [
        (0, 2, 2, "retention.ms"), (2, 4, 2, "retention.ms")]
    assert result.deleted[0].size_bytes == 2 * ONE and result.deleted[0].largest_timestamp == T0 + 1000
    assert (result.old_log_start_offset, result.new_log_start_offset, log.log_start_offset) == (0, 4, 4)
    assert not (tmp_path / "events-0" / "00000000000000000000.log").exists()
    assert [r.offset for r in read_all(log)] == list(range(4, 9))


def test_an_expired_and_committed_active_segment_is_rolled_and_deleted_so_the_log_empties(tmp_path: Path) -> None:
    # Kafka 3.9 UnifiedLog.deletableSegments / deleteSegments: the log rolls first, keeping one empty segment.
    log = open_log(tmp_path, retention_ms=1)
    fill(log, 5)
    result = log.delete_old_segments(now_ms=T0 + 10**9, high_watermark=log.log_end_offset)
    assert [d.base_offset for d in result.deleted] == [0, 2, 4]
    assert [(r.closed_base_offset, r.new_base_offset, r.reason) for r in result.rolled] == [(4, 5, "retention.ms")]
    assert [s.base_offset for s in log.segments()] == [5]
    assert (log.log_start_offset, log.log_end_offset) == (5, 5) and read_all(log) == []
    log.append_as_leader(batch(b"after"), 0, T0 + 10**9)
    assert [r.offset for r in read_all(log)] == [5]


def test_the_active_segment_stays_while_it_holds_uncommitted_records_or_nothing(tmp_path: Path) -> None:
    log = open_log(tmp_path, retention_ms=1)
    fill(log, 5)
    result = log.delete_old_segments(now_ms=T0 + 10**9, high_watermark=4)
    assert [d.base_offset for d in result.deleted] == [0, 2] and result.rolled == ()
    assert [s.base_offset for s in log.segments()] == [4]
    log.delete_old_segments(now_ms=T0 + 10**9, high_watermark=5)
    assert log.delete_old_segments(now_ms=T0 + 10**9, high_watermark=5).deleted == (), "an empty active segment stays"


def test_retention_bytes_deletes_oldest_while_over_the_limit(tmp_path: Path) -> None:
    log = open_log(tmp_path, retention_bytes=3 * ONE)
    fill(log, 9)
    result = log.delete_old_segments(now_ms=T0, high_watermark=log.log_end_offset)
    assert [(d.base_offset, d.reason) for d in result.deleted] == [(0, "retention.bytes"), (2, "retention.bytes"),
                                                                   (4, "retention.bytes")]
    assert log.size_in_bytes == 3 * ONE and log.log_start_offset == 6


def test_nothing_at_or_above_the_high_watermark_is_deleted(tmp_path: Path) -> None:
    log = open_log(tmp_path, retention_ms=1)
    fill(log, 9)
    result = log.delete_old_segments(now_ms=T0 + 10**9, high_watermark=3)
    assert [d.base_offset for d in result.deleted] == [0]
    assert log.log_start_offset == 2


def test_compact_only_topics_keep_old_segments(tmp_path: Path) -> None:
    log = open_log(tmp_path, retention_ms=1, cleanup_policy="compact")
    fill(log, 9)
    assert log.delete_old_segments(now_ms=T0 + 10**9, high_watermark=9).deleted == ()


def test_raising_the_log_start_offset_then_deletes_segments_below_it(tmp_path: Path) -> None:
    log = open_log(tmp_path, cleanup_policy="compact")
    fill(log, 9, epoch_every=3)
    assert log.maybe_increment_log_start_offset(5)
    assert not log.maybe_increment_log_start_offset(4)
    result = log.delete_old_segments(now_ms=T0, high_watermark=9)
    assert [(d.base_offset, d.reason) for d in result.deleted] == [(0, "log.start.offset"), (2, "log.start.offset")]
    assert log.log_start_offset == 5
    assert [(e.epoch, e.start_offset) for e in log.leader_epoch_cache.entries] == [(1, 5), (2, 6)]
    with pytest.raises(KafkaError) as info:
        log.read(4, 100)
    assert info.value.error is Errors.OFFSET_OUT_OF_RANGE
    with pytest.raises(KafkaError):
        log.maybe_increment_log_start_offset(10)


def test_truncate_to_removes_the_batch_holding_the_offset_and_later_segments(tmp_path: Path) -> None:
    log = open_log(tmp_path, segment_bytes=3 * ONE)
    fill(log, 4, epoch_every=1)
    log.append_as_leader(batch(b"y", b"y", b"y"), 7, T0)
    result = log.truncate_to(5, T0)
    assert (result.old_log_end_offset, result.new_log_end_offset) == (7, 4)
    assert result.deleted_segments == () and log.log_end_offset == 4
    result = log.truncate_to(2, T0)
    assert (result.new_log_end_offset, result.deleted_segments) == (2, (3,))
    assert [s.base_offset for s in log.segments()] == [0]
    assert [(e.epoch, e.start_offset) for e in log.leader_epoch_cache.entries] == [(0, 0), (1, 1)]
    assert [r.offset for r in read_all(log)] == [0, 1]
    assert log.append_as_leader(batch(b"z"), 8, T0).first_offset == 2


def test_truncate_beyond_the_end_only_trims_the_epoch_cache(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 2)
    log.leader_epoch_cache.assign(5, 2)
    result = log.truncate_to(10, T0)
    assert (result.old_log_end_offset, result.new_log_end_offset, result.bytes_removed) == (2, 2, 0)
    assert log.leader_epoch_cache.latest_epoch == 0


def test_truncate_fully_and_start_at(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 5)
    result = log.truncate_fully_and_start_at(100, T0)
    assert (result.old_log_end_offset, result.new_log_end_offset, result.deleted_segments) == (5, 100, (0, 2, 4))
    assert (log.log_start_offset, log.log_end_offset, log.leader_epoch_cache.entries) == (100, 100, ())
    assert log.append_as_leader(batch(b"n"), 3, T0).first_offset == 100
    assert [s.base_offset for s in log.segments()] == [100]
