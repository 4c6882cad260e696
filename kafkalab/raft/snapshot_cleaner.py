"""Metadata log retention: old snapshots and the log before the next one deleted (``metadata.max.retention.*``).

Kafka 4.1's ``KafkaRaftClient.RaftMetadataLogCleanerManager``, a timer that runs the log's
``maybeClean`` every minute: the replica asks its log which snapshots retention lets go,
judging a snapshot's age by the append time of the last record it contains (kept here so
each snapshot file is read once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkalab.events.raft import MetadataLogCleaned
from kafkalab.protocol.raft import OffsetAndEpoch

if TYPE_CHECKING:
    from kafkalab.raft.client import RaftNode

#: How often snapshots past retention are cleaned (``RaftMetadataLogCleanerManager``).
SNAPSHOT_CLEAN_INTERVAL_MS = 60_000


class SnapshotCleaner:
    """When one replica next cleans, and each snapshot's last contained log timestamp."""

    def __init__(self, node: RaftNode) -> None:
        self.node = node
        self._next_clean_ms = 0.0
        self._snapshot_timestamps: dict[OffsetAndEpoch, int] = {}

    def started(self, now: float) -> None:
        """The replica started: the first cleaning is a whole interval away."""
        self._next_clean_ms = now + SNAPSHOT_CLEAN_INTERVAL_MS

    def taken(self, snapshot_id: OffsetAndEpoch, last_contained_log_time_ms: int) -> None:
        """The replica wrote a snapshot whose newest record was appended at ``last_contained_log_time_ms``."""
        self._snapshot_timestamps[snapshot_id] = last_contained_log_time_ms

    def maybe_clean(self, now: float) -> float:
        """Every minute, apply ``metadata.max.retention.*`` to the snapshots and the log before them."""
        if now < self._next_clean_ms:
            return self._next_clean_ms - now
        self._next_clean_ms = now + SNAPSHOT_CLEAN_INTERVAL_MS
        timestamps = {}
        for snapshot_id in self.node.log.snapshot_ids:
            if snapshot_id not in self._snapshot_timestamps:
                self._snapshot_timestamps[snapshot_id] = self.node.log.read_snapshot(snapshot_id).last_contained_log_timestamp
            timestamps[snapshot_id] = self._snapshot_timestamps[snapshot_id]
        for deletion in self.node.log.maybe_clean(int(now), timestamps):
            self.node.journal.emit(MetadataLogCleaned, node_id=self.node.node_id, voter=self.node.is_voter,
                              snapshot_end_offset=deletion.snapshot_id.offset, snapshot_epoch=deletion.snapshot_id.epoch,
                              log_start_offset=self.node.log.start_offset, reason=deletion.reason)
        return SNAPSHOT_CLEAN_INTERVAL_MS
