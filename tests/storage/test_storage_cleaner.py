"""Log compaction: latest value per key, unchanged offsets, tombstone horizons and cleanable bounds."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_helpers import T0, keyed_batch, read_all, topic_config

from kafkalab.storage.cleaner import clean_log
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import decode_batch

DAY = 86_400_000


def open_log(directory: Path, **overrides) -> PartitionLog:
    config = topic_config(**{"cleanup_policy": "compact", "segment_bytes": 600, "min_cleanable_dirty_ratio": 0.01,
                             **overrides})
    return PartitionLog.open(directory, config, 0, 0, False, T0, FileHandles())[0]


keys = st.sampled_from([b"a", b"b", b"c", b"d", b"e"])
values = st.none() | st.binary(min_size=1, max_size=40)
batches = st.lists(st.lists(st.tuples(keys, values), min_size=1, max_size=5), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches, st.integers(min_value=0, max_value=40))
def test_compaction_keeps_the_latest_value_per_key_at_its_offset(produced, high_watermark_at) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = open_log(Path(tmp) / "t-0")
        for pairs in produced:
            log.append_as_leader(keyed_batch(pairs), 0, T0)
        high_watermark = min(high_watermark_at * 3, log.log_end_offset)
        before = read_all(log)
        active = log.log_segments()[-1]
        active_bytes = active.read_bytes(0, active.size)
        result = clean_log(log, None, T0, high_watermark)

        after = read_all(log)
        offsets = [r.offset for r in after]
        assert offsets == sorted(set(offsets)) and set(offsets) <= {r.offset for r in before}
        assert {r.offset: r for r in before}.items() >= {r.offset: r for r in after}.items()
        latest = {}
        for record in before:
            latest[record.key] = record
        assert all(latest[key] in after for key in latest)
        cleaned_up_to = result.next_dirty_offset if result.skipped_reason is None else 0
        for record in before:
            if record.offset >= cleaned_up_to:
                assert record in after
        assert log.log_segments()[-1].read_bytes(0, active.size) == active_bytes
        assert log.log_end_offset == before[-1].offset + 1
        assert cleaned_up_to <= high_watermark


def test_superseded_records_are_removed_and_counted(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    for i in range(30):
        log.append_as_leader(keyed_batch([(b"k%d" % (i % 3), b"v%d" % i)]), 0, T0)
    result = clean_log(log, None, T0, log.log_end_offset)
    assert result.skipped_reason is None
    assert result.records_removed > 0 and result.bytes_after < result.bytes_before
    assert result.records_read - result.records_removed == len([r for r in read_all(log) if r.offset < result.next_dirty_offset])
    survivors = [(r.offset, r.key, r.value) for r in read_all(log)]
    assert {k: (o, v) for o, k, v in survivors} == {b"k0": (27, b"v27"), b"k1": (28, b"v28"), b"k2": (29, b"v29")}


def test_tombstones_are_kept_until_their_delete_horizon_then_dropped(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", delete_retention_ms=DAY)
    log.append_as_leader(keyed_batch([(b"gone", b"v1")]), 0, T0)
    log.append_as_leader(keyed_batch([(b"keep", b"v2")]), 0, T0)
    log.append_as_leader(keyed_batch([(b"gone", None)]), 0, T0)
    for _ in range(20):
        log.append_as_leader(keyed_batch([(b"filler", b"x" * 30)]), 0, T0)

    first = clean_log(log, None, T0 + 1000, log.log_end_offset)
    tombstone = [r for r in read_all(log) if r.key == b"gone"]
    assert [(r.offset, r.value) for r in tombstone] == [(2, None)]
    assert first.tombstones_removed == 0
    data = log.read(2, 10_000)
    header, _ = decode_batch(data)
    assert header.delete_horizon_ms == T0 + 1000 + DAY

    early = clean_log(log, None, T0 + DAY, log.log_end_offset)
    assert early.tombstones_removed == 0 and [r.key for r in read_all(log)].count(b"gone") == 1
    late = clean_log(log, None, T0 + 1000 + DAY, log.log_end_offset)
    assert late.tombstones_removed == 1
    assert b"gone" not in {r.key for r in read_all(log)}
    assert b"keep" in {r.key for r in read_all(log)}


def test_min_compaction_lag_leaves_young_segments_dirty(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", min_compaction_lag_ms=10_000)
    for i in range(30):
        log.append_as_leader(keyed_batch([(b"k", b"v%d" % i)], timestamp=T0 + i * 1000), 0, T0)
    young = [s.base_offset for s in log.segments() if s.largest_timestamp > T0 + 35_000 - 10_000]
    result = clean_log(log, None, T0 + 35_000, log.log_end_offset)
    assert result.next_dirty_offset <= young[0]
    assert [r.offset for r in read_all(log) if r.offset >= young[0]] == list(range(young[0], 30))


def test_a_clean_enough_log_is_skipped(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", min_cleanable_dirty_ratio=0.9)
    for i in range(30):
        log.append_as_leader(keyed_batch([(b"k%d" % i, b"v")]), 0, T0)
    first = clean_log(log, None, T0, log.log_end_offset)
    assert first.skipped_reason is None
    segments_after_first = log.segments()
    for i in range(3):
        log.append_as_leader(keyed_batch([(b"k%d" % i, b"w" * 200)]), 0, T0)
    second = clean_log(log, first.next_dirty_offset, T0, log.log_end_offset)
    assert second.skipped_reason is not None and "min.cleanable.dirty.ratio" in second.skipped_reason
    assert log.segments()[:len(segments_after_first) - 1] == segments_after_first[:-1]


def test_delete_only_topics_are_not_compacted(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", cleanup_policy="delete")
    for i in range(30):
        log.append_as_leader(keyed_batch([(b"k", b"v%d" % i)]), 0, T0)
    assert "compact" in clean_log(log, None, T0, 30).skipped_reason
    assert len(read_all(log)) == 30
