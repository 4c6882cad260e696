"""The replicated log ``__cluster_metadata-0`` and its snapshots (Kafka's ``KafkaMetadataLog``).

The records are v2 batches in ordinary segments with a ``leader-epoch-checkpoint``,
reusing kafkalab's partition log; snapshots sit next to the segments as
``<offset>-<epoch>.checkpoint`` files. As Kafka does (``KafkaMetadataLog.apply``), the
log is opened with recovery point 0, so every batch is re-validated at start, and with
time and size retention off: the log shrinks only when snapshots allow it (``maybe_clean``,
after ``metadata.max.retention.bytes`` / ``metadata.max.retention.ms``) or when a follower
loads a snapshot past its end. The high watermark is kept in memory only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kafkalab.config import TopicConfig
from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.raft import OffsetAndEpoch
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.divergence import LogEpochs, ValidOffsetAndEpoch, truncation_offset, validate_offset_and_epoch
from kafkalab.raft.snapshots import (
    MAX_BATCH_SIZE_BYTES,
    SnapshotContents,
    decode_snapshot,
    delete_snapshot,
    encode_snapshot,
    freeze,
    parse_snapshot_path,
    snapshot_file_name,
    write_file_durably,
)
from kafkalab.storage.control_records import ControlMessage, encode_control_batch
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import encode_batch
from kafkalab.storage.results import LogAppendInfo, RecoveryReport, TruncationResult

METADATA_TOPIC = "__cluster_metadata"
METADATA_PARTITION_DIR = f"{METADATA_TOPIC}-0"
#: Kafka's fixed topic id of ``__cluster_metadata`` (``Uuid.METADATA_TOPIC_ID``), as ``partition.metadata`` shows it.
METADATA_TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ"
PARTITION_METADATA_FILE = "partition.metadata"


@dataclass(frozen=True)
class SnapshotDeletion:
    """A snapshot removed by ``maybe_clean`` and why (Kafka's ``SnapshotDeletionReason``)."""

    snapshot_id: OffsetAndEpoch
    reason: str


class MetadataLog:
    """One replica's ``__cluster_metadata-0``: segments, epochs, snapshots and an in-memory high watermark."""

    def __init__(self, log: PartitionLog, config: QuorumConfig, snapshots: list[OffsetAndEpoch]) -> None:
        self._log = log
        self._config = config
        self._snapshots = sorted(snapshots)
        self.directory = log.directory
        #: The quorum's high watermark as this replica knows it; None until the leader has told it.
        self.high_watermark: int | None = None
        self._fetching: tuple[OffsetAndEpoch, Path] | None = None

    @classmethod
    def open(cls, log_dir: Path, config: QuorumConfig, now_ms: int) -> tuple[MetadataLog, RecoveryReport]:
        """Open (or create) ``<log_dir>/__cluster_metadata-0``, recovering every segment and tidying snapshots."""
        directory = log_dir / METADATA_PARTITION_DIR
        directory.mkdir(parents=True, exist_ok=True)
        metadata_file = directory / PARTITION_METADATA_FILE
        if not metadata_file.exists():
            write_file_durably(metadata_file, f"version: 0\ntopic_id: {METADATA_TOPIC_ID}\n".encode())
        topic_config = TopicConfig.build({
            "segment.bytes": config.log_segment_bytes, "segment.ms": config.log_segment_ms,
            "max.message.bytes": MAX_BATCH_SIZE_BYTES, "retention.ms": -1, "retention.bytes": -1})
        log, report = PartitionLog.open(directory, topic_config, recovery_point=0, log_start_offset=0,
                                        had_clean_shutdown=False, now_ms=now_ms)
        snapshots = []
        for name in sorted(os.listdir(directory)):
            found = parse_snapshot_path(directory / name)
            if found is None:
                continue
            if found.partial or found.deleted or found.snapshot_id.offset < log.log_start_offset:
                # KafkaMetadataLog.recoverSnapshots: half-written, half-deleted and obsolete snapshots go.
                found.path.unlink()
            else:
                snapshots.append(found.snapshot_id)
        metadata_log = cls(log, config, snapshots)
        if log.log_start_offset > 0 and not any(s.offset >= log.log_start_offset for s in snapshots):
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR,
                             f"Inconsistent snapshot state in {directory}: the log starts at offset "
                             f"{log.log_start_offset} but no snapshot covers the offsets before it.")
        metadata_log.truncate_to_latest_snapshot(now_ms)
        return metadata_log, report

    # -- positions -----------------------------------------------------------------

    @property
    def start_offset(self) -> int:
        """The first offset still in the log (a snapshot covers everything before it)."""
        return self._log.log_start_offset

    @property
    def end_offset(self) -> int:
        """The offset the next record gets."""
        return self._log.log_end_offset

    @property
    def size_in_bytes(self) -> int:
        """Bytes in the log's segments."""
        return self._log.size_in_bytes

    @property
    def last_fetched_epoch(self) -> int:
        """The epoch of the last record, or of the snapshot when the log is empty at it; 0 for a new log."""
        latest = self._log.leader_epoch_cache.latest_epoch
        if latest is not None:
            return latest
        snapshot = self.latest_snapshot_id
        if snapshot is not None and snapshot.offset == self.end_offset:
            return snapshot.epoch
        return 0

    def end_offset_and_epoch(self) -> OffsetAndEpoch:
        """The log end offset and the epoch of the record before it (what a Vote or a Fetch states)."""
        return OffsetAndEpoch(self.end_offset, self.last_fetched_epoch)

    def epochs(self) -> LogEpochs:
        """The positions and epoch history divergence checks read."""
        return LogEpochs(self.start_offset, self.end_offset, self.last_fetched_epoch, self._log.leader_epoch_cache,
                         self.earliest_snapshot_id, self.latest_snapshot_id)

    def validate_offset_and_epoch(self, offset: int, epoch: int) -> ValidOffsetAndEpoch:
        """How a leader answers a fetch at ``offset`` after a record of ``epoch``."""
        return validate_offset_and_epoch(self.epochs(), offset, epoch)

    # -- appends and reads ------------------------------------------------------------

    def append_as_leader(self, records: Sequence[bytes], epoch: int, now_ms: int) -> LogAppendInfo:
        """Write ``records`` (values, no keys) as one batch of ``epoch`` at the log end.

        Kafka's BatchAccumulator builds the batch with its offsets and epoch already set,
        so it is appended as is; the storage layer's leader path is for producers, whose
        batches must not be control batches.
        """
        batch = encode_batch([(None, value, (), now_ms) for value in records], base_offset=self.end_offset,
                             partition_leader_epoch=epoch)
        return self._log.append_as_follower(batch, now_ms)

    def append_control(self, message: ControlMessage, epoch: int, now_ms: int) -> LogAppendInfo:
        """Write one control batch (a LeaderChangeMessage) of ``epoch`` at the log end."""
        batch = encode_control_batch(message, base_offset=self.end_offset, timestamp=now_ms,
                                     partition_leader_epoch=epoch)
        return self._log.append_as_follower(batch, now_ms)

    def append_as_follower(self, batches: bytes, now_ms: int) -> LogAppendInfo:
        """Append the leader's batches unchanged (they must start at the log end)."""
        return self._log.append_as_follower(batches, now_ms)

    def read(self, offset: int, max_bytes: int, committed_only: bool = False) -> bytes:
        """Whole batches from ``offset``; with ``committed_only`` none reaching the high watermark."""
        max_offset = (self.high_watermark or 0) if committed_only else None
        return self._log.read(offset, max_bytes, max_offset)

    def initialize_leader_epoch(self, epoch: int) -> None:
        """Record that ``epoch`` starts at the log end (a new leader, before its first record)."""
        self._log.leader_epoch_cache.assign(epoch, self.end_offset)

    def flush(self, now_ms: int) -> None:
        """fsync everything appended (a voter flushes before it acknowledges records by fetching on)."""
        self._log.flush(now_ms)

    # -- truncation ---------------------------------------------------------------------

    def truncate_to(self, offset: int, now_ms: int) -> TruncationResult:
        """Remove records at and after ``offset``; never below the high watermark."""
        if self.high_watermark is not None and offset < self.high_watermark:
            raise KafkaError(Errors.UNKNOWN_SERVER_ERROR,
                             f"Attempt to truncate {METADATA_PARTITION_DIR} to offset {offset}, which is below the "
                             f"current high watermark {self.high_watermark}.")
        return self._log.truncate_to(offset, now_ms)

    def truncate_to_end_offset(self, diverging: OffsetAndEpoch, now_ms: int) -> TruncationResult:
        """Truncate where the leader's diverging epoch says the logs part."""
        return self.truncate_to(truncation_offset(self.epochs(), diverging), now_ms)

    def truncate_to_latest_snapshot(self, now_ms: int) -> bool:
        """Empty the log and start it at the latest snapshot when that lies beyond the log (a loaded snapshot)."""
        snapshot = self.latest_snapshot_id
        latest_epoch = self._log.leader_epoch_cache.latest_epoch or 0
        if snapshot is None or not (snapshot.epoch > latest_epoch
                                    or (snapshot.epoch == latest_epoch and snapshot.offset > self.end_offset)):
            return False
        self._log.truncate_fully_and_start_at(snapshot.offset, now_ms)
        for older in [s for s in self._snapshots if s < snapshot]:
            self._forget_snapshot(older)
        return True

    # -- snapshots -----------------------------------------------------------------------

    @property
    def snapshot_ids(self) -> tuple[OffsetAndEpoch, ...]:
        """Every frozen snapshot, oldest first."""
        return tuple(self._snapshots)

    @property
    def latest_snapshot_id(self) -> OffsetAndEpoch | None:
        return self._snapshots[-1] if self._snapshots else None

    @property
    def earliest_snapshot_id(self) -> OffsetAndEpoch | None:
        return self._snapshots[0] if self._snapshots else None

    def create_snapshot(self, snapshot_id: OffsetAndEpoch, records: Sequence[bytes], last_contained_log_timestamp: int,
                        now_ms: int) -> int | None:
        """Write a snapshot of the state up to ``snapshot_id``; its size, or None if it already exists.

        The id must be committed and a valid position of this log (``createNewSnapshot``).
        """
        if snapshot_id.offset < self.start_offset or snapshot_id in self._snapshots:
            return None
        if self.high_watermark is None or snapshot_id.offset > self.high_watermark:
            raise ValueError(f"Cannot create a snapshot with an id ({snapshot_id}) greater than the high watermark "
                             f"({self.high_watermark})")
        valid = self.validate_offset_and_epoch(snapshot_id.offset, snapshot_id.epoch)
        if valid.offset_and_epoch != snapshot_id:
            raise ValueError(f"Snapshot id ({snapshot_id}) is not valid according to the log: {valid}")
        data = encode_snapshot(snapshot_id, records, last_contained_log_timestamp, now_ms)
        partial = self.directory / (snapshot_file_name(snapshot_id) + ".part")
        write_file_durably(partial, data)
        freeze(partial, snapshot_id)
        self._snapshots = sorted([*self._snapshots, snapshot_id])
        return len(data)

    def snapshot_bytes(self, snapshot_id: OffsetAndEpoch) -> bytes | None:
        """The whole file of a snapshot, or None when there is no such snapshot."""
        if snapshot_id not in self._snapshots:
            return None
        return (self.directory / snapshot_file_name(snapshot_id)).read_bytes()

    def read_snapshot(self, snapshot_id: OffsetAndEpoch) -> SnapshotContents:
        """A snapshot's records, checked; CORRUPT_MESSAGE if the file is damaged."""
        data = self.snapshot_bytes(snapshot_id)
        if data is None:
            raise KafkaError(Errors.SNAPSHOT_NOT_FOUND, f"Snapshot {snapshot_id} was not found.")
        return decode_snapshot(snapshot_id, data)

    @property
    def fetching_snapshot(self) -> OffsetAndEpoch | None:
        """The snapshot being downloaded from the leader, if any."""
        return self._fetching[0] if self._fetching else None

    def fetched_snapshot_size(self) -> int:
        """Bytes of the snapshot being downloaded written so far."""
        return self._fetching[1].stat().st_size if self._fetching else 0

    def begin_fetching_snapshot(self, snapshot_id: OffsetAndEpoch) -> bool:
        """Start (or restart) downloading ``snapshot_id``; False when this replica already has it."""
        self.abort_fetching_snapshot()
        if snapshot_id in self._snapshots:
            return False
        partial = self.directory / (snapshot_file_name(snapshot_id) + ".part")
        partial.write_bytes(b"")
        self._fetching = (snapshot_id, partial)
        return True

    def append_fetched_snapshot(self, chunk: bytes) -> None:
        """Append a chunk of the snapshot being downloaded."""
        if self._fetching is None:
            raise ValueError("no snapshot is being fetched")
        with open(self._fetching[1], "ab") as file:
            file.write(chunk)

    def freeze_fetched_snapshot(self, now_ms: int) -> OffsetAndEpoch:
        """Make the downloaded snapshot real and empty the log up to it (``truncateToLatestSnapshot``)."""
        if self._fetching is None:
            raise ValueError("no snapshot is being fetched")
        snapshot_id, partial = self._fetching
        self._fetching = None
        decode_snapshot(snapshot_id, partial.read_bytes())
        freeze(partial, snapshot_id)
        self._snapshots = sorted([*self._snapshots, snapshot_id])
        if not self.truncate_to_latest_snapshot(now_ms):
            raise KafkaError(Errors.UNKNOWN_SERVER_ERROR,
                             f"Full log truncation expected but didn't happen. Snapshot of {snapshot_id}, log end "
                             f"offset {self.end_offset}, last fetched {self.last_fetched_epoch}.")
        self.high_watermark = max(self.high_watermark or 0, snapshot_id.offset)
        return snapshot_id

    def abort_fetching_snapshot(self) -> None:
        """Drop a half-downloaded snapshot (the leader changed or deleted it)."""
        if self._fetching is not None:
            self._fetching[1].unlink(missing_ok=True)
            self._fetching = None

    def delete_before_snapshot(self, snapshot_id: OffsetAndEpoch, now_ms: int) -> bool:
        """Advance the log start to ``snapshot_id`` and delete older snapshots and segments (``deleteBeforeSnapshot``)."""
        latest = self.latest_snapshot_id
        if latest is None or snapshot_id not in self._snapshots or not (
                self.start_offset < snapshot_id.offset <= latest.offset):
            return False
        if not self._log.maybe_increment_log_start_offset(snapshot_id.offset):
            return False
        # Retention is off for this log, so only the segments wholly below the new log start go.
        self._log.delete_old_segments(now_ms, high_watermark=snapshot_id.offset)
        for older in [s for s in self._snapshots if s < snapshot_id]:
            self._forget_snapshot(older)
        return True

    def maybe_clean(self, now_ms: int, snapshot_timestamp: dict[OffsetAndEpoch, int]) -> list[SnapshotDeletion]:
        """Delete the oldest snapshots, and the log before the next one, while retention is exceeded (``maybeClean``).

        ``snapshot_timestamp`` gives each snapshot's last contained log timestamp. At
        least one snapshot always stays.
        """
        deleted: list[SnapshotDeletion] = []
        sizes = {s: (self.directory / snapshot_file_name(s)).stat().st_size for s in self._snapshots}
        total = sum(sizes.values())
        while len(self._snapshots) >= 2:
            oldest, following = self._snapshots[0], self._snapshots[1]
            retention_bytes, retention_ms = self._config.max_retention_bytes, self._config.max_retention_ms
            if retention_bytes >= 0 and self.size_in_bytes + total > retention_bytes:
                reason = (f"the log ({self.size_in_bytes} bytes) and snapshots ({total} bytes) exceed "
                          f"metadata.max.retention.bytes ({retention_bytes})")
            elif retention_ms >= 0 and now_ms - snapshot_timestamp.get(oldest, now_ms) > retention_ms:
                reason = f"it is older than metadata.max.retention.ms ({retention_ms} ms)"
            else:
                break
            if not self.delete_before_snapshot(following, now_ms):
                break
            total -= sizes[oldest]
            deleted.append(SnapshotDeletion(oldest, reason))
        return deleted

    def _forget_snapshot(self, snapshot_id: OffsetAndEpoch) -> None:
        self._snapshots.remove(snapshot_id)
        delete_snapshot(self.directory, snapshot_id)

    # -- closing --------------------------------------------------------------------------

    def close(self) -> None:
        """Flush and close the segments (a clean stop)."""
        self.abort_fetching_snapshot()
        self._log.close()

    def close_abruptly(self) -> None:
        """Release the files without writing anything (a crash)."""
        self._log.close_abruptly()
