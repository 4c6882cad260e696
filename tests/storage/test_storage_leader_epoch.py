"""LeaderEpochFileCache, with the cases of Kafka's LeaderEpochFileCacheTest."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab.storage.leader_epoch import EpochEntry, LeaderEpochFileCache

UNDEFINED = (-1, -1)


@pytest.fixture
def cache(tmp_path: Path) -> LeaderEpochFileCache:
    return LeaderEpochFileCache.in_directory(tmp_path)


def entries(cache: LeaderEpochFileCache) -> list[tuple[int, int]]:
    return [(e.epoch, e.start_offset) for e in cache.entries]


def test_latest_epoch_returns_the_log_end_offset(cache) -> None:
    cache.assign(2, 10)
    assert cache.latest_epoch == 2
    assert cache.end_offset_for(2, 11) == (2, 11)


def test_undefined_epoch_is_undefined_even_with_entries(cache) -> None:
    cache.assign(2, 11)
    cache.assign(3, 12)
    assert cache.end_offset_for(-1, 0) == UNDEFINED


def test_an_epoch_start_never_moves_forward(cache) -> None:
    cache.assign(2, 9)
    assert not cache.assign(2, 10)
    assert entries(cache) == [(2, 9)]


def test_new_epoch_at_the_same_offset_replaces_the_old_one(cache) -> None:
    cache.assign(2, 9)
    cache.assign(3, 9)
    assert entries(cache) == [(3, 9)]


def test_empty_cache_answers_undefined(cache) -> None:
    assert cache.end_offset_for(0, 0) == UNDEFINED
    assert cache.end_offset_for(7, 0) == UNDEFINED
    assert cache.latest_epoch is None


def test_request_below_the_first_epoch_gets_the_first_start_offset(cache) -> None:
    for epoch, offset in [(5, 11), (6, 12), (7, 13)]:
        cache.assign(epoch, offset)
    assert cache.end_offset_for(4, 0) == (4, 11)


def test_same_epoch_at_an_earlier_offset_truncates(cache) -> None:
    for epoch, offset in [(5, 11), (6, 12), (7, 13), (7, 12)]:
        cache.assign(epoch, offset)
    assert cache.end_offset_for(5, 0) == (5, 12)
    assert cache.end_offset_for(6, 0) == (5, 12)


def test_previous_epoch_ends_where_the_next_starts(cache) -> None:
    for epoch, offset in [(1, 11), (1, 12), (2, 13), (2, 14), (3, 15), (3, 16)]:
        cache.assign(epoch, offset)
    assert cache.end_offset_for(2, 17) == (2, 15)


def test_missing_epoch_answers_with_the_one_below(cache) -> None:
    for epoch, offset in [(0, 10), (2, 13), (4, 17)]:
        cache.assign(epoch, offset)
    assert cache.end_offset_for(1, 0) == (0, 13)
    assert cache.end_offset_for(2, 0) == (2, 17)
    assert cache.end_offset_for(3, 0) == (2, 17)


def test_epoch_above_the_latest_is_undefined(cache) -> None:
    cache.assign(2, 100)
    assert cache.end_offset_for(3, 100) == UNDEFINED


def test_entries_persist_between_instances(tmp_path: Path, cache) -> None:
    cache.assign(2, 6)
    assert (tmp_path / "leader-epoch-checkpoint").read_text() == "0\n1\n2 6\n"
    assert LeaderEpochFileCache.in_directory(tmp_path).entries == (EpochEntry(2, 6),)


def test_older_epoch_at_a_later_offset_removes_the_newer_epochs(cache) -> None:
    cache.assign(1, 5)
    cache.assign(2, 6)
    cache.assign(1, 7)
    assert cache.latest_epoch == 1
    assert cache.end_offset_for(1, 8) == (1, 8)
    assert cache.end_offset_for(2, 8) == UNDEFINED
    assert entries(cache) == [(1, 7)]


def test_newer_epoch_at_an_earlier_offset_wins(cache) -> None:
    cache.assign(2, 6)
    cache.assign(3, 5)
    assert entries(cache) == [(3, 5)]


def test_epochs_tracked_as_leaders_change(cache) -> None:
    cache.assign(0, 0)
    cache.assign(1, 0)
    assert cache.end_offset_for(1, 0) == (1, 0)
    assert cache.end_offset_for(0, 0) == (0, 0)
    assert cache.end_offset_for(1, 5) == (1, 5)
    cache.assign(2, 5)
    assert cache.end_offset_for(2, 10) == (2, 10)
    assert cache.end_offset_for(1, 10) == (1, 5)
    assert cache.end_offset_for(0, 10) == (0, 0)


@pytest.mark.parametrize("offset, expected", [
    (8, [(2, 6)]),
    (9, [(2, 6), (3, 8)]),
    (-1, [(2, 6), (3, 8), (4, 11)]),
])
def test_truncate_from_end(cache, offset, expected) -> None:
    for epoch, start in [(2, 6), (3, 8), (4, 11)]:
        cache.assign(epoch, start)
    cache.truncate_from_end(offset)
    assert entries(cache) == expected


@pytest.mark.parametrize("offset, expected", [
    (8, [(3, 8), (4, 11)]),
    (9, [(3, 9), (4, 11)]),
    (1, [(2, 6), (3, 8), (4, 11)]),
    (6, [(2, 6), (3, 8), (4, 11)]),
    (11, [(4, 11)]),
    (15, [(4, 15)]),
    (-1, [(2, 6), (3, 8), (4, 11)]),
])
def test_truncate_from_start(cache, offset, expected) -> None:
    for epoch, start in [(2, 6), (3, 8), (4, 11)]:
        cache.assign(epoch, start)
    cache.truncate_from_start(offset)
    assert entries(cache) == expected


def test_truncating_from_the_first_entry_start_leaves_the_checkpoint_unwritten(tmp_path: Path) -> None:
    # Every log is loaded with its start offset, which the first epoch usually starts at: a start writes nothing.
    cache = LeaderEpochFileCache.in_directory(tmp_path)
    for epoch, start in [(2, 6), (3, 8)]:
        cache.assign(epoch, start)
    checkpoint = tmp_path / "leader-epoch-checkpoint"
    written = checkpoint.stat().st_ino
    cache.truncate_from_start(6)
    assert checkpoint.stat().st_ino == written
    cache.truncate_from_start(7)
    assert checkpoint.stat().st_ino != written
    assert entries(LeaderEpochFileCache.in_directory(tmp_path)) == [(2, 7), (3, 8)]


def test_clear_and_epoch_for_offset(cache) -> None:
    for epoch, start in [(1, 20), (5, 30)]:
        cache.assign(epoch, start)
    assert [cache.epoch_for_offset(o) for o in (5, 20, 25, 30, 50)] == [None, 1, 1, 5, 5]
    cache.clear()
    assert cache.entries == ()
