"""A broker's background log work: retention, compaction and recovery-point checkpoints.

Kafka runs these on scheduler threads (``kafka-log-retention``, the log cleaner,
``kafka-recovery-point-checkpoint``); here they are periodic timers of the broker's
incarnation, so they stop when the broker crashes.
"""

from __future__ import annotations

from collections.abc import Sequence

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.replica_manager import ReplicaManager
from kafkalab.errors import KafkaError
from kafkalab.events.storage import LogCompacted, SegmentRolled, SegmentsDeleted
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.results import RolledSegment
from kafkalab.storage.segment import CorruptSegmentError


class LogTasks:
    """Periodic retention, cleaning and checkpointing for every replica of one broker."""

    def __init__(self, ctx: BrokerContext, replicas: ReplicaManager) -> None:
        self.ctx = ctx
        self.replicas = replicas
        #: Partitions the cleaner failed on; skipped until the broker restarts (Kafka's uncleanable partitions).
        self._uncleanable: set[TopicPartition] = set()
        #: When ``enforce_retention`` runs next (virtual time).
        self.next_retention_check_ms = ctx.now_ms + ctx.config["log.retention.check.interval.ms"]

    def _failed(self, tp: TopicPartition, error: KafkaError) -> None:
        """A task failed on one partition: damage is narrated; a refusing disk was already reported (the broker halts)."""
        if isinstance(error, CorruptSegmentError):
            self.replicas.report_corruption(tp, error, -1)

    def _journal_rolled(self, tp: TopicPartition, rolled: Sequence[RolledSegment]) -> None:
        for segment in rolled:
            self.ctx.journal.emit(SegmentRolled, broker_id=self.ctx.broker_id, topic=tp.topic,
                                  partition=tp.partition, base_offset=segment.new_base_offset, reason=segment.reason)

    def start(self) -> None:
        config = self.ctx.config
        group = self.ctx.group
        group.every(config["log.retention.check.interval.ms"], self.enforce_retention)
        if config["log.cleaner.enable"]:
            group.every(config["log.cleaner.backoff.ms"], self.compact)
        group.every(config["log.flush.offset.checkpoint.interval.ms"],
                    self.replicas.log_manager.checkpoint_recovery_points)
        group.every(config["log.flush.start.offset.checkpoint.interval.ms"],
                    self.replicas.log_manager.checkpoint_log_start_offsets)

    def enforce_retention(self) -> None:
        """Delete segments past retention.ms / retention.bytes below the high watermark, the active one included."""
        now = int(self.ctx.now_ms)
        self.next_retention_check_ms = self.ctx.now_ms + self.ctx.config["log.retention.check.interval.ms"]
        for tp, partition in list(self.replicas.partitions.items()):
            try:
                result = partition.log.delete_old_segments(now, partition.high_watermark)
            except KafkaError as exc:
                self._failed(tp, exc)
                continue
            self._journal_rolled(tp, result.rolled)
            if result.deleted:
                self.replicas.follower_sessions.changed(tp)  # a new log start offset for followers to take
                reasons = sorted({segment.reason for segment in result.deleted})
                self.ctx.journal.emit(SegmentsDeleted, broker_id=self.ctx.broker_id, topic=tp.topic,
                                      partition=tp.partition,
                                      base_offsets=tuple(segment.base_offset for segment in result.deleted),
                                      bytes_deleted=sum(segment.size_bytes for segment in result.deleted),
                                      log_start_offset=result.new_log_start_offset, reason=", ".join(reasons))

    def compact(self) -> None:
        """Run the cleaner on compacted topics whose dirty ratio warrants it."""
        now = int(self.ctx.now_ms)
        for tp, partition in list(self.replicas.partitions.items()):
            if not partition.config.compact or tp in self._uncleanable:
                continue
            try:
                result = self.replicas.log_manager.clean(tp.topic, tp.partition, now, partition.high_watermark)
            except KafkaError as exc:
                # Kafka's cleaner marks a partition it fails on uncleanable and goes on with the others.
                self._uncleanable.add(tp)
                self._failed(tp, exc)
                continue
            if result.skipped_reason is None and result.cleaned_segments:
                self.ctx.journal.emit(LogCompacted, broker_id=self.ctx.broker_id, topic=tp.topic,
                                      partition=tp.partition, records_removed=result.records_removed,
                                      bytes_before=result.bytes_before, bytes_after=result.bytes_after)
