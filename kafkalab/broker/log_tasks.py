"""A broker's background log work: retention, compaction and recovery-point checkpoints.

Kafka runs these on scheduler threads (``kafka-log-retention``, the log cleaner,
``kafka-recovery-point-checkpoint``); here they are periodic timers of the broker's
incarnation, so they stop when the broker crashes.
"""

from __future__ import annotations

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.replica_manager import ReplicaManager
from kafkalab.events.cluster import LogCompacted, SegmentRolled, SegmentsDeleted


class LogTasks:
    """Periodic retention, cleaning and checkpointing for every replica of one broker."""

    def __init__(self, ctx: BrokerContext, replicas: ReplicaManager) -> None:
        self.ctx = ctx
        self.replicas = replicas

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
        for tp, partition in list(self.replicas.partitions.items()):
            result = partition.log.delete_old_segments(now, partition.high_watermark)
            for rolled in result.rolled:
                self.ctx.journal.emit(SegmentRolled, broker_id=self.ctx.broker_id, topic=tp.topic,
                                      partition=tp.partition, base_offset=rolled.new_base_offset, reason=rolled.reason)
            if result.deleted:
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
            if not partition.config.compact:
                continue
            result = self.replicas.log_manager.clean(tp.topic, tp.partition, now, partition.high_watermark)
            if result.skipped_reason is None and result.cleaned_segments:
                self.ctx.journal.emit(LogCompacted, broker_id=self.ctx.broker_id, topic=tp.topic,
                                      partition=tp.partition, records_removed=result.records_removed,
                                      bytes_before=result.bytes_before, bytes_after=result.bytes_after)
