"""When a controller writes a snapshot of its metadata image (Kafka 4.1's ``SnapshotGenerator``).

After each batch of committed records it replays, a controller snapshots once
``metadata.log.max.record.bytes.between.snapshots`` bytes of records were committed since
its last snapshot, or, failing that, once ``metadata.log.max.snapshot.interval.ms`` passed
since it (0 disables the time trigger). Loading a snapshot counts as having taken one
(``publishSnapshot`` resets the counters). As in Kafka, time alone writes nothing: the
interval is checked when records are committed.
"""

from __future__ import annotations

from kafkalab.raft.config import QuorumConfig


class SnapshotGenerator:
    """Bytes committed and time passed since one controller's last snapshot."""

    def __init__(self, config: QuorumConfig, now_ms: float) -> None:
        self.config = config
        self._bytes = 0
        self._last_snapshot_ms = now_ms

    def reset(self, now_ms: float) -> None:
        """A snapshot was taken or loaded now (``resetSnapshotCounters``)."""
        self._bytes = 0
        self._last_snapshot_ms = now_ms

    def committed(self, size_bytes: int, now_ms: float) -> bool:
        """Records of ``size_bytes`` were replayed: True if a snapshot is due now (``publishLogDelta``)."""
        self._bytes += size_bytes
        if self._bytes >= self.config.max_record_bytes_between_snapshots:
            return True
        interval = self.config.max_snapshot_interval_ms
        return interval != 0 and now_ms - self._last_snapshot_ms >= interval
