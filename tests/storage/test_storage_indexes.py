"""The sparse offset and time indexes: floor lookups, truncation, lazy loading and persistence."""

from __future__ import annotations

import bisect
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.storage.offset_index import OffsetIndex
from kafkalab.storage.sparse_index import CorruptIndexError
from kafkalab.storage.time_index import TimeIndex

BASE = 1000
increasing = st.lists(st.integers(min_value=1, max_value=50), min_size=0, max_size=60).map(
    lambda steps: [BASE + sum(steps[:i + 1]) for i in range(len(steps))])


def _offset_index(directory: Path, offsets: list[int]) -> OffsetIndex:
    index = OffsetIndex(directory / "00000000000000001000.index", BASE, on_disk=False)
    for i, offset in enumerate(offsets):
        index.append(offset, i * 100)
    return index


@settings(max_examples=80, deadline=None)
@given(increasing, st.integers(min_value=BASE - 10, max_value=BASE + 3500))
def test_offset_lookup_is_the_floor_entry_and_survives_a_reload(offsets, target) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        index = _offset_index(Path(tmp), offsets)
        slot = bisect.bisect_right(offsets, target) - 1
        expected = (BASE, 0) if slot < 0 else (offsets[slot], slot * 100)
        assert index.lookup(target) == expected
        index.write()
        reloaded = OffsetIndex(index.path, BASE, on_disk=True)
        assert reloaded.lookup(target) == expected
        assert list(reloaded.entries()) == [(o, i * 100) for i, o in enumerate(offsets)]


@settings(max_examples=80, deadline=None)
@given(increasing, st.integers(min_value=BASE, max_value=BASE + 3500))
def test_offset_truncation_removes_entries_at_or_above_the_offset_on_disk_too(offsets, target) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        index = _offset_index(Path(tmp), offsets)
        index.write()
        index.truncate_to(target)
        kept = [o for o in offsets if o < target]
        assert [o for o, _ in index.entries()] == kept
        assert index.path.stat().st_size == 8 * len(kept)


@settings(max_examples=80, deadline=None)
@given(increasing, st.integers(min_value=0, max_value=5000))
def test_time_lookup_is_the_floor_timestamp(offsets, target) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        index = TimeIndex(Path(tmp) / "00000000000000001000.timeindex", BASE, on_disk=False)
        for offset in offsets:
            index.maybe_append(offset - BASE + 7, offset)
        stamps = [o - BASE + 7 for o in offsets]
        slot = bisect.bisect_right(stamps, target) - 1
        assert index.lookup(target) == ((-1, BASE) if slot < 0 else (stamps[slot], offsets[slot]))
        assert index.last_entry() == ((stamps[-1], offsets[-1]) if offsets else (-1, BASE))


def test_time_index_appends_only_when_the_timestamp_grows(tmp_path: Path) -> None:
    index = TimeIndex(tmp_path / "x.timeindex", 0, on_disk=False)
    index.maybe_append(10, 5)
    index.maybe_append(10, 6)
    index.maybe_append(9, 7)
    index.maybe_append(12, 8)
    assert list(index.entries()) == [(10, 5), (12, 8)]
    index.truncate_to(8)
    assert list(index.entries()) == [(10, 5)]


def test_index_is_read_from_disk_only_when_first_needed(tmp_path: Path) -> None:
    index = _offset_index(tmp_path, [1001, 1005])
    index.write()
    index.path.write_bytes(index.path.read_bytes() + b"\x00\x00\x00\x09\x00\x00\x01\x00")
    lazy = OffsetIndex(index.path, BASE, on_disk=True)
    index.path.unlink()
    with pytest.raises(CorruptIndexError):
        lazy.lookup(1003)


def test_an_index_whose_size_is_not_a_multiple_of_the_entry_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "00000000000000001000.index"
    path.write_bytes(b"\x00" * 12)
    with pytest.raises(CorruptIndexError, match="not a multiple of 8"):
        OffsetIndex(path, BASE, on_disk=True).load()


def test_only_new_entries_are_written(tmp_path: Path) -> None:
    index = _offset_index(tmp_path, [1001])
    index.write()
    index.path.write_bytes(b"\xff" * 8)
    index.append(1002, 100)
    index.write()
    assert index.path.read_bytes()[:8] == b"\xff" * 8
    assert len(index.path.read_bytes()) == 16
