"""Divergence by epochs: a follower that truncates where the leader says ends as a prefix of the leader's log."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.protocol.raft import OffsetAndEpoch
from kafkalab.raft.divergence import (
    FetchPosition,
    LogEpochs,
    end_offset_for_epoch,
    truncation_offset,
    validate_offset_and_epoch,
)
from kafkalab.storage.leader_epoch import LeaderEpochFileCache


def history(directory: Path, name: str, epochs: list[int]) -> LeaderEpochFileCache:
    """The epoch cache of a log whose record at offset i has epoch ``epochs[i]``."""
    cache = LeaderEpochFileCache(directory / name)
    for offset, epoch in enumerate(epochs):
        if offset == 0 or epochs[offset - 1] != epoch:
            cache.assign(epoch, offset)
    return cache


def view(epochs: list[int], cache: LeaderEpochFileCache, start: int = 0,
         snapshots: tuple[OffsetAndEpoch, ...] = ()) -> LogEpochs:
    return LogEpochs(start, len(epochs), epochs[-1] if epochs else 0, cache,
                     snapshots[0] if snapshots else None, snapshots[-1] if snapshots else None)


def runs(draw: st.DrawFn, first_epoch: int, epochs: list[int], max_runs: int) -> list[int]:
    """Records in ascending epochs drawn from ``epochs`` (each at least ``first_epoch``)."""
    chosen = sorted(set(draw(st.lists(st.sampled_from(epochs), max_size=max_runs)))) if epochs else []
    out: list[int] = []
    for epoch in chosen:
        if epoch >= first_epoch:
            out += [epoch] * draw(st.integers(1, 4))
    return out


@st.composite
def diverged_logs(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    """A leader's and a follower's epochs per offset that agree on a common prefix and then differ.

    Past the prefix the two logs hold disjoint epochs, as Raft guarantees: each epoch has
    one leader, so two replicas holding the same epoch at the same offset agree up to it.
    """
    prefix = runs(draw, 1, list(range(1, 6)), 3)
    last = prefix[-1] if prefix else 1
    later = list(range(last + 1, last + 12))
    leader_epochs = draw(st.lists(st.sampled_from(later), max_size=4, unique=True)) if later else []
    follower_epochs = [e for e in later if e not in leader_epochs]
    leader = prefix + runs(draw, last, sorted(leader_epochs), 4)
    follower = prefix + runs(draw, last, follower_epochs, 4)
    return leader, follower, len(prefix)


@settings(max_examples=300, deadline=None)
@given(diverged_logs())
def test_truncating_by_diverging_epochs_ends_in_the_common_prefix_and_never_below(
        logs: tuple[list[int], list[int], int]) -> None:
    leader, follower, common = logs
    with tempfile.TemporaryDirectory() as tmp:
        leader_cache = history(Path(tmp), "leader", leader)
        follower_cache = history(Path(tmp), "follower", follower)
        rounds = 0
        while True:
            answer = validate_offset_and_epoch(view(leader, leader_cache), len(follower),
                                               follower[-1] if follower else 0)
            if answer.kind is FetchPosition.VALID:
                break
            assert answer.kind is FetchPosition.DIVERGING
            new_end = truncation_offset(view(follower, follower_cache), answer.offset_and_epoch)
            assert common <= new_end < len(follower) or (new_end == len(follower) and follower == leader[:new_end])
            follower = follower[:new_end]
            follower_cache.truncate_from_end(new_end)
            rounds += 1
            assert rounds <= len(set(leader + follower)) + 2
        assert len(follower) >= common
        assert follower == leader[:len(follower)]


def test_a_follower_behind_on_the_same_epoch_is_valid(tmp_path: Path) -> None:
    leader = [1, 1, 2, 2, 2]
    answer = validate_offset_and_epoch(view(leader, history(tmp_path, "l", leader)), 3, 2)
    assert answer.kind is FetchPosition.VALID and answer.offset_and_epoch == OffsetAndEpoch(3, 2)


def test_a_follower_with_records_of_an_epoch_the_leader_ended_earlier_diverges_there(tmp_path: Path) -> None:
    leader = [1, 1, 3, 3]
    answer = validate_offset_and_epoch(view(leader, history(tmp_path, "l", leader)), 4, 1)
    assert answer.kind is FetchPosition.DIVERGING and answer.offset_and_epoch == OffsetAndEpoch(2, 1)


def test_an_empty_follower_of_an_empty_log_is_valid(tmp_path: Path) -> None:
    answer = validate_offset_and_epoch(view([], history(tmp_path, "l", [])), 0, 0)
    assert answer.kind is FetchPosition.VALID


def test_a_follower_before_the_log_start_fetches_the_latest_snapshot(tmp_path: Path) -> None:
    leader = [1] * 10 + [2] * 10
    cache = history(tmp_path, "l", leader)
    cache.truncate_from_start(10)
    snapshots = (OffsetAndEpoch(10, 1), OffsetAndEpoch(15, 2))
    leader_view = view(leader, cache, start=10, snapshots=snapshots)
    for offset, epoch in [(4, 1), (10, 2), (12, 0)]:
        answer = validate_offset_and_epoch(leader_view, offset, epoch)
        assert answer.kind is FetchPosition.SNAPSHOT and answer.offset_and_epoch == OffsetAndEpoch(15, 2)
    assert validate_offset_and_epoch(leader_view, 10, 1).kind is FetchPosition.VALID


def test_an_epoch_older_than_the_log_answers_with_the_oldest_snapshot(tmp_path: Path) -> None:
    leader = [1] * 10 + [3] * 10
    cache = history(tmp_path, "l", leader)
    cache.truncate_from_start(10)
    assert end_offset_for_epoch(view(leader, cache, 10, (OffsetAndEpoch(10, 1),)), 1) == OffsetAndEpoch(10, 1)


def test_an_epoch_unknown_to_the_log_ends_at_its_end(tmp_path: Path) -> None:
    leader = [1, 1, 2]
    assert end_offset_for_epoch(view(leader, history(tmp_path, "l", leader)), 7) == OffsetAndEpoch(3, 2)
