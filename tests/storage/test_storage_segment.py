"""LogSegment: indexed reads, truncation and the reasons recovery gives for cutting a segment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storage_helpers import T0, topic_config

from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.records import encode_batch, iter_batch_headers, read_batch_header
from kafkalab.storage.segment import CorruptSegmentError, LogSegment

BASE = 100


def make_segment(tmp_path: Path, batches: int = 50, interval: int = 200, gap: int = 0) -> LogSegment:
    segment = LogSegment.create(tmp_path, BASE, handles=FileHandles(), index_interval_bytes=interval, now_ms=T0)
    offset = BASE
    for i in range(batches):
        data = encode_batch([(b"k", b"v%03d" % i * 10, (), T0 + i)] * 2, base_offset=offset, partition_leader_epoch=i // 20)
        segment.append(data, list(iter_batch_headers(data)))
        offset += 2 + (gap if i == 10 else 0)
    return segment


def test_find_batch_starts_from_the_index_floor_not_the_segment_start(tmp_path: Path, monkeypatch) -> None:
    segment = make_segment(tmp_path)
    positions = []
    original = LogSegment.read_bytes
    monkeypatch.setattr(LogSegment, "read_bytes", lambda self, p, n: positions.append(p) or original(self, p, n))
    _, header = segment.find_batch(BASE + 91)
    assert header.base_offset <= BASE + 91 <= header.last_offset
    assert positions and min(positions) > segment.size // 2
    # The walk starts at the index floor, or later when the batch is among the latest appended.
    assert segment.offset_index.lookup(BASE + 91)[1] <= positions[0]


@pytest.mark.parametrize("newest", [1, 3])
def test_a_read_of_the_newest_batches_reads_the_file_once(tmp_path: Path, monkeypatch, newest: int) -> None:
    """What a follower or a consumer at the tail asks for: the block the search read holds it all, headers and data."""
    segment = make_segment(tmp_path, batches=5)
    positions = []
    original = LogSegment.read_bytes
    monkeypatch.setattr(LogSegment, "read_bytes", lambda self, p, n: positions.append(p) or original(self, p, n))
    data = segment.read(BASE + 10 - 2 * newest, 10_000, None, True, segment.next_offset)
    assert len(positions) == 1
    assert [h.base_offset for _, h in iter_batch_headers(data)] == [BASE + 10 - 2 * n for n in range(newest, 0, -1)]
    assert data == original(segment, positions[0], segment.size - positions[0])


def test_a_fetch_of_more_than_a_block_reads_the_file_once(tmp_path: Path, monkeypatch) -> None:
    """A follower's fetch carries several 16 KB batches, more than the 64 KB a header walk reads at a time."""
    segment = LogSegment.create(tmp_path, BASE, handles=FileHandles(), index_interval_bytes=4096, now_ms=T0)
    for i in range(6):
        data = encode_batch([(b"k", bytes([i]) * 16_000, (), T0)], base_offset=BASE + i)
        segment.append(data, list(iter_batch_headers(data)))
    positions = []
    original = LogSegment.read_bytes
    monkeypatch.setattr(LogSegment, "read_bytes", lambda self, p, n: positions.append(p) or original(self, p, n))
    data = segment.read(BASE + 1, 1_048_576, None, True, segment.next_offset)
    assert [h.base_offset for _, h in iter_batch_headers(data)] == [BASE + n for n in range(1, 6)]
    assert len(positions) == 1
    assert segment.read(BASE + 1, 40_000, None, True, segment.next_offset) == data[:2 * len(data) // 5]


def test_read_returns_whole_batches_within_max_bytes(tmp_path: Path) -> None:
    segment = make_segment(tmp_path)
    one = segment.find_batch(BASE)[1].size_in_bytes
    data = segment.read(BASE + 1, 3 * one + 5, None, True, segment.next_offset)
    assert [h.base_offset for _, h in iter_batch_headers(data)] == [BASE, BASE + 2, BASE + 4]
    assert segment.read(BASE + 100, 1000, None, True, segment.next_offset) is None


def test_a_batch_whose_damage_claims_offsets_past_the_log_end_is_reported_not_waited_on(tmp_path: Path) -> None:
    """A flipped bit in lastOffsetDelta (inside the CRC) made a batch look not yet committed, forever."""
    segment = make_segment(tmp_path, batches=5)
    position, _ = segment.find_batch(BASE + 4)
    with open(segment.log_path, "r+b") as file:
        file.seek(position + 23)  # lastOffsetDelta's high byte
        file.write(b"\x10")
    high_watermark = segment.next_offset
    with pytest.raises(CorruptSegmentError, match=r"offsets 104-\d+ failed its CRC32C check"):
        segment.read(BASE + 4, 10_000, high_watermark, True, high_watermark)
    # The batches before it are served as they were.
    data = segment.read(BASE, 10_000, high_watermark, True, high_watermark)
    assert [h.base_offset for _, h in iter_batch_headers(data)] == [BASE, BASE + 2]


def flip(segment: LogSegment, position: int, mask: int) -> None:
    """Flip bits of one byte of the segment's log in place, as a failing disk would."""
    with open(segment.log_path, "r+b") as file:
        file.seek(position)
        byte = file.read(1)[0]
        file.seek(position)
        file.write(bytes([byte ^ mask]))


@pytest.mark.parametrize("at, mask, words", [(40, 0x08, "failed its CRC32C check"), (0, 0x80, "was written there")])
def test_a_damaged_batch_ends_a_read_and_a_read_from_it_names_the_file_and_position(tmp_path: Path, at, mask,
                                                                                     words) -> None:
    """A damaged record or base offset (which lies outside the CRC) is never served; the batches before it are."""
    segment = make_segment(tmp_path, batches=5)
    positions = [position for position, _ in segment.headers()]
    flip(segment, positions[3] + at, mask)
    end = segment.next_offset
    data = segment.read(BASE + 4, 10_000, None, True, end)
    assert [h.base_offset for _, h in iter_batch_headers(data)] == [BASE + 4]
    with pytest.raises(CorruptSegmentError, match=words) as raised:
        segment.read(BASE + 6, 10_000, None, True, end)
    assert (raised.value.log_path, raised.value.position) == (segment.log_path, positions[3])
    assert [h.base_offset for _, h in iter_batch_headers(segment.read(BASE + 8, 10_000, None, True, end))] == [BASE + 8]


def test_an_index_entry_that_points_at_another_batch_is_rebuilt_from_the_log(tmp_path: Path) -> None:
    segment = make_segment(tmp_path, batches=100)
    segment.flush()
    entries = list(segment.offset_index.entries())
    raw = bytearray(segment.offset_index.path.read_bytes())
    raw[5 * 8 + 4:5 * 8 + 8] = raw[6 * 8 + 4:6 * 8 + 8]  # entry 5 holds entry 6's position
    segment.offset_index.path.write_bytes(raw)
    reopened = LogSegment.open_existing(tmp_path, BASE, handles=FileHandles(), index_interval_bytes=200, now_ms=T0)
    data = reopened.read(entries[5][0], 10_000, None, True, segment.next_offset)
    assert read_batch_header(data).last_offset == entries[5][0]
    assert list(reopened.offset_index.entries()) == entries


@pytest.mark.parametrize("batches, less, min_one_batch, served", [(3, 0, True, 3), (3, 1, True, 2), (1, 1, True, 1),
                                                                   (1, 1, False, 0)])
def test_max_bytes_counts_whole_batches_and_min_one_batch_takes_the_first_alone(tmp_path: Path, batches, less,
                                                                               min_one_batch, served) -> None:
    """KIP-74: whole batches within ``max_bytes``, or the first batch alone when it is larger and the fetch allows."""
    segment = make_segment(tmp_path, batches=5)
    size = segment.find_batch(BASE)[1].size_in_bytes  # every batch of make_segment is this long
    data = segment.read(BASE + 2, batches * size - less, None, min_one_batch, segment.next_offset)
    assert [h.base_offset for _, h in iter_batch_headers(data)] == [BASE + 2 + 2 * n for n in range(served)]


def test_truncate_to_cuts_at_the_batch_holding_the_offset(tmp_path: Path) -> None:
    segment = make_segment(tmp_path)
    largest = segment.largest_timestamp
    removed = segment.truncate_to(BASE + 41)
    assert segment.next_offset == BASE + 40
    assert removed > 0 and segment.size == sum(h.size_in_bytes for _, h in segment.headers())
    assert segment.largest_timestamp == T0 + 19 < largest
    assert all(offset < BASE + 41 for offset, _ in segment.offset_index.entries())


@pytest.mark.parametrize("position, mask, words", [
    (16, 0x01, "magic 3"),
    (6, 0x40, "was expected next"),
    (40, 0x08, "CRC"),
])
def test_recovery_names_the_first_bad_batch(tmp_path: Path, position: int, mask: int, words: str) -> None:
    segment = make_segment(tmp_path)
    victim = [p for p, _ in segment.headers()][30]
    raw = bytearray(segment.log_path.read_bytes())
    raw[victim + position] ^= mask
    segment.log_path.write_bytes(raw)
    result = segment.recover(contiguous_offsets=True, observe=lambda *_: None)
    assert words in result.problem and result.valid_bytes == victim
    assert result.next_offset == BASE + 60 and segment.size == victim
    assert result.epoch_starts == ((0, BASE), (1, BASE + 40))


def test_recovery_cuts_a_torn_header(tmp_path: Path) -> None:
    segment = make_segment(tmp_path, batches=3)
    size = segment.size
    with open(segment.log_path, "ab") as file:
        file.write(b"\x00" * 30)
    reopened = LogSegment.open_existing(tmp_path, BASE, handles=FileHandles(), index_interval_bytes=200, now_ms=T0)
    result = reopened.recover(contiguous_offsets=True, observe=lambda *_: None)
    assert (result.valid_bytes, result.bytes_truncated, result.next_offset) == (size, 30, BASE + 6)
    assert "header bytes" in result.problem


@pytest.mark.parametrize("contiguous, problem, next_offset", [(True, "was expected next", BASE + 22), (False, None, BASE + 105)])
def test_only_compacted_segments_may_have_offset_gaps(tmp_path: Path, contiguous, problem, next_offset) -> None:
    result = make_segment(tmp_path, gap=5).recover(contiguous_offsets=contiguous, observe=lambda *_: None)
    assert (problem is None) == (result.problem is None) and (problem or "") in (result.problem or "")
    assert result.next_offset == next_offset


def test_time_waited_for_roll_uses_the_first_batch_timestamp(tmp_path: Path) -> None:
    segment = make_segment(tmp_path, batches=2)
    assert segment.first_batch_timestamp == T0
    assert segment.time_waited_for_roll(now_ms=0, message_timestamp=T0 + 500) == 500
    empty = LogSegment.create(tmp_path, 999, handles=FileHandles(), index_interval_bytes=200, now_ms=T0)
    assert empty.time_waited_for_roll(now_ms=T0 + 70, message_timestamp=0) == 70


def test_an_append_the_os_writes_in_parts_is_written_whole(tmp_path: Path, monkeypatch) -> None:
    """``pwrite`` may write less than asked (a signal, a full disk): the rest follows at its place."""
    real_pwrite = os.pwrite
    calls = []

    def short_pwrite(fd: int, data, position: int) -> int:
        calls.append(position)
        return real_pwrite(fd, bytes(data)[:7], position)

    segment = make_segment(tmp_path, batches=2)
    before = segment.size
    data = encode_batch([(b"k", b"v" * 30, (), T0)], base_offset=BASE + 4)
    monkeypatch.setattr(os, "pwrite", short_pwrite)
    assert segment.append(data, list(iter_batch_headers(data))) == BASE + 5
    monkeypatch.undo()
    assert calls == list(range(before, before + len(data), 7))
    assert segment.read_bytes(before, len(data)) == data and segment.size == before + len(data)


def test_a_truncation_frees_index_room_for_the_roll_check(tmp_path: Path) -> None:
    segment = LogSegment.create(tmp_path, BASE, handles=FileHandles(), index_interval_bytes=1, now_ms=T0)
    for i in range(7):  # an offset-index entry for every batch after the first, one time-index entry
        data = encode_batch([(b"k", b"v", (), T0)], base_offset=BASE + i)
        segment.append(data, list(iter_batch_headers(data)))
    config = topic_config(segment_index_bytes=48)  # six offset-index entries, three time-index entries
    header = read_batch_header(encode_batch([(b"k", b"v", (), T0)], base_offset=BASE + 7))
    assert segment.roll_reason(0, header, T0, config) == "segment.index.bytes"
    segment.truncate_to(BASE + 4)
    assert segment.roll_reason(0, header, T0, config) is None
    for i in range(4, 8):  # the first after the truncation is indexed by none (Kafka resets the byte count too)
        data = encode_batch([(b"k", b"v", (), T0)], base_offset=BASE + i)
        segment.append(data, list(iter_batch_headers(data)))
    assert segment.roll_reason(0, header, T0, config) == "segment.index.bytes"
