"""Opening a log: the clean-shutdown fast path and crash recovery of a damaged tail."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_helpers import T0, batch, read_all, record_segment_reads, topic_config

from kafkalab.storage import segment as segment_module
from kafkalab.storage.cleaner import clean_log
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import encode_batch, iter_batch_headers

CONFIG = dict(segment_bytes=1200, index_interval_bytes=100)
EPOCH_FIELD = range(12, 16)


def open_log(directory: Path, recovery_point: int = 0, clean: bool = False, **overrides):
    return PartitionLog.open(directory, topic_config(**{**CONFIG, **overrides}), recovery_point, 0, clean, T0,
                             FileHandles())


def fill(log: PartitionLog, batches: int, records: int = 3) -> None:
    for i in range(batches):
        values = [(b"value-%d-%d" % (i, j)) * (1 + (i + j) % 4) for j in range(records)]
        log.append_as_leader(encode_batch([(b"k%d" % j, v, (), T0 + i) for j, v in enumerate(values)]), i // 7, T0 + i)


batch_values = st.lists(st.lists(st.binary(max_size=150), min_size=1, max_size=4), min_size=1, max_size=40)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch_values, st.integers(min_value=0, max_value=40), st.data())
def test_crash_recovery_keeps_every_intact_record_and_nothing_corrupt(values, flush_after, data) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "t-0"
        log, _ = open_log(directory)
        appended = []
        for i, batch_values_ in enumerate(values):
            if i == flush_after:
                log.flush(T0)
            info = log.append_as_leader(encode_batch([(b"k", v, (), T0 + i) for v in batch_values_]), 1, T0 + i)
            appended.append((info.first_offset, info.last_offset, batch_values_))
        recovery_point = log.recovery_point
        active = log.log_segments()[-1]
        layout = [(p, h.size_in_bytes, h.base_offset) for p, h in iter_batch_headers(active.read_bytes(0, active.size))]
        log.close_abruptly()

        unflushed = next((p for p, _, base in layout if base >= recovery_point), active.size)
        raw = bytearray(active.log_path.read_bytes())
        length = data.draw(st.integers(min_value=unflushed, max_value=len(raw)), label="truncate to")
        flips = data.draw(st.sets(st.integers(min_value=unflushed * 8, max_value=max(unflushed * 8, length * 8 - 1)),
                                  max_size=3) if length > unflushed else st.just(set()), label="bit flips")
        garbage = data.draw(st.binary(max_size=70), label="garbage tail")
        for bit in flips:
            raw[bit // 8] ^= 1 << (bit % 8)
        active.log_path.write_bytes(bytes(raw[:length]) + garbage)

        def damaged(position: int, size: int) -> bool:
            return position + size > length or any(
                position * 8 <= bit < (position + size) * 8 and (bit // 8 - position) not in EPOCH_FIELD for bit in flips)

        first_damaged = next((base for p, s, base in layout if damaged(p, s)), None)
        intact = [a for a in appended if first_damaged is None or a[0] < first_damaged]
        checkpoint = data.draw(st.sampled_from([recovery_point, 0]), label="checkpointed recovery point")
        recovered, report = open_log(directory, recovery_point=checkpoint)

        assert recovered.log_end_offset == (intact[-1][1] + 1 if intact else 0)
        assert [(r.offset, r.value) for r in read_all(recovered)] == [
            (first + i, v) for first, _, vs in intact for i, v in enumerate(vs)]
        assert report.log_end_offset == recovered.log_end_offset
        assert report.recovery_point <= recovered.log_end_offset
        if garbage or (first_damaged is not None and any(p < length < p + s for p, s, _ in layout)):
            assert report.truncation_reason is not None and report.bytes_truncated > 0
        recovered.append_as_leader(batch(b"after"), 2, T0)
        assert read_all(recovered)[-1].value == b"after"


def test_clean_restart_reads_only_the_tail_of_the_active_segment(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    log, _ = open_log(tmp_path / "t-0")
    fill(log, 40)
    before = (log.log_end_offset, log.size_in_bytes, log.segments())
    active = log.log_segments()[-1]
    last_indexed = active.offset_index.last_position
    log.close()

    reads = record_segment_reads(monkeypatch)
    reopened, report = open_log(tmp_path / "t-0", recovery_point=before[0], clean=True)
    assert reads == [(active.log_path, last_indexed, active.size - last_indexed)]
    assert report.clean_shutdown and report.segments_checked == 0
    assert (reopened.log_end_offset, reopened.size_in_bytes, reopened.segments()) == before
    assert len(before[2]) > 3
    assert reopened.delete_old_segments(T0, high_watermark=reopened.log_end_offset).deleted == ()


def test_clean_marker_with_an_inconsistent_recovery_point_falls_back_to_recovery(tmp_path: Path) -> None:
    log, _ = open_log(tmp_path / "t-0")
    fill(log, 40)
    end = log.log_end_offset
    log.close()
    reopened, report = open_log(tmp_path / "t-0", recovery_point=0, clean=True)
    assert not report.clean_shutdown and report.notes
    assert reopened.log_end_offset == end


def test_corruption_in_a_middle_segment_deletes_the_later_segments(tmp_path: Path) -> None:
    log, _ = open_log(tmp_path / "t-0")
    fill(log, 40)
    segments = log.segments()
    victim = log.log_segments()[1]
    log.close_abruptly()
    raw = bytearray(victim.log_path.read_bytes())
    raw[200] ^= 0x10
    victim.log_path.write_bytes(raw)
    recovered, report = open_log(tmp_path / "t-0", recovery_point=0)
    assert report.truncated_segment == segments[1].base_offset
    assert report.deleted_segments == tuple(s.base_offset for s in segments[2:])
    assert "CRC" in report.truncation_reason
    assert recovered.log_segments()[-1].base_offset == segments[1].base_offset
    assert [s.base_offset for s in recovered.segments()] == [s.base_offset for s in segments[:2]]
    assert report.offsets_lost_from == recovered.log_end_offset
    assert [r.offset for r in read_all(recovered)] == list(range(recovered.log_end_offset))


def test_segments_below_the_recovery_point_are_not_checked(tmp_path: Path) -> None:
    log, _ = open_log(tmp_path / "t-0")
    fill(log, 40)
    active_base = log.log_segments()[-1].base_offset
    first = log.log_segments()[0]
    log.close_abruptly()
    raw = bytearray(first.log_path.read_bytes())
    raw[100] ^= 1
    first.log_path.write_bytes(raw)
    _, report = open_log(tmp_path / "t-0", recovery_point=active_base)
    assert report.segments_checked == 1 and report.truncation_reason is None


def test_missing_index_is_rebuilt_from_the_log(tmp_path: Path) -> None:
    log, _ = open_log(tmp_path / "t-0")
    fill(log, 40)
    end = log.log_end_offset
    closed = log.log_segments()[1]
    expected = read_all(log)
    log.close()
    os.unlink(closed.offset_index.path)
    reopened, _ = open_log(tmp_path / "t-0", recovery_point=end, clean=True)
    assert not closed.offset_index.path.exists()
    assert read_all(reopened) == expected
    assert closed.offset_index.path.stat().st_size > 0


def test_leader_epochs_survive_a_crash_and_are_cut_at_the_recovered_end(tmp_path: Path) -> None:
    log, _ = open_log(tmp_path / "t-0")
    log.append_as_leader(batch(b"a"), 1, T0)
    log.append_as_leader(batch(b"b"), 2, T0)
    log.append_as_leader(batch(b"c"), 3, T0)
    active = log.log_segments()[-1]
    log.close_abruptly()
    active.log_path.write_bytes(active.log_path.read_bytes()[:-5])
    recovered, _ = open_log(tmp_path / "t-0")
    assert [(e.epoch, e.start_offset) for e in recovered.leader_epoch_cache.entries] == [(1, 0), (2, 1)]
    assert recovered.log_end_offset == 2


def test_interrupted_compaction_swap_is_completed_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log, _ = open_log(tmp_path / "t-0", cleanup_policy="compact")
    fill(log, 40)
    log.flush(T0)
    end = log.log_end_offset
    expected = {record.key: record.value for record in read_all(log)}

    def crash_while_deleting(self) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(segment_module.LogSegment, "delete", crash_while_deleting)
    with pytest.raises(RuntimeError):
        clean_log(log, None, T0, end)
    monkeypatch.undo()
    log.close_abruptly()
    assert any(name.endswith(".swap") for name in os.listdir(tmp_path / "t-0"))
    recovered, report = open_log(tmp_path / "t-0", recovery_point=end, cleanup_policy="compact")
    assert any("swap" in note for note in report.notes)
    assert not any(name.endswith((".swap", ".cleaned")) for name in os.listdir(tmp_path / "t-0"))
    survivors = read_all(recovered)
    assert {record.key: record.value for record in survivors} == expected
    assert len(survivors) < end and recovered.log_end_offset == end


@pytest.mark.parametrize("damage", ["torn", "zeroed", "garbage appended"])
def test_a_clean_shutdown_marker_does_not_hide_a_damaged_tail(tmp_path: Path, damage: str) -> None:
    log, _ = open_log(tmp_path / "t-0")
    fill(log, 40)
    end = log.log_end_offset
    active = log.log_segments()[-1]
    layout = [(p, h) for p, h in iter_batch_headers(active.read_bytes(0, active.size))]
    log.close()
    raw = active.log_path.read_bytes()
    last_position, last = layout[-1]
    if damage == "torn":
        raw = raw[:-7]
    elif damage == "zeroed":
        raw = raw[:last_position] + bytes(len(raw) - last_position)
    else:
        raw += b"\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x30 not a batch"
    active.log_path.write_bytes(raw)

    recovered, report = open_log(tmp_path / "t-0", recovery_point=end, clean=True)
    expected_end = end if damage == "garbage appended" else last.base_offset
    assert not report.clean_shutdown and report.segments_checked == 1
    assert recovered.log_end_offset == expected_end == report.log_end_offset
    assert any("does not end on a whole batch" in note for note in report.notes)
    assert [r.offset for r in read_all(recovered)] == list(range(expected_end))
    recovered.append_as_leader(batch(b"after"), 9, T0)
    assert read_all(recovered)[-1].offset == expected_end and recovered.log_end_offset == expected_end + 1
