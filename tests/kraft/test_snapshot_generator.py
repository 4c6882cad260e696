"""When a controller snapshots: after enough bytes, or after the interval once records arrive (``SnapshotGenerator``)."""

from __future__ import annotations

from kafkalab.kraft.snapshot_generator import SnapshotGenerator
from kafkalab.raft.config import QuorumConfig


def generator(**overrides: int) -> SnapshotGenerator:
    config = QuorumConfig.build({"metadata.log.max.record.bytes.between.snapshots": 1000,
                                 "metadata.log.max.snapshot.interval.ms": 60_000, **overrides})
    return SnapshotGenerator(config, now_ms=0)


def test_bytes_add_up_to_a_snapshot_and_a_snapshot_starts_the_count_again() -> None:
    snapshots = generator()
    assert not snapshots.committed(600, now_ms=10)
    assert snapshots.committed(400, now_ms=20)
    snapshots.reset(now_ms=20)
    assert not snapshots.committed(999, now_ms=30)


def test_the_interval_counts_only_when_records_are_committed_after_it() -> None:
    snapshots = generator()
    assert not snapshots.committed(10, now_ms=59_999)
    assert snapshots.committed(10, now_ms=60_000)
    snapshots.reset(now_ms=60_000)  # a snapshot taken or loaded restarts the interval
    assert not snapshots.committed(10, now_ms=119_999)


def test_an_interval_of_zero_snapshots_by_bytes_only() -> None:
    snapshots = generator(**{"metadata.log.max.snapshot.interval.ms": 0})
    assert not snapshots.committed(10, now_ms=10**9)
    assert snapshots.committed(990, now_ms=10**9)
