"""Events of logs on disk: recovery, corruption, failed log dirs, segments rolled, deleted and compacted."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.journal import Event


@dataclass(frozen=True)
class LogDirFailed(Event):
    """The file system refused a broker's log dir an operation (a read-only mount, an
    immutable file, a permission error, a full or failing disk): KAFKA_STORAGE_ERROR. Kafka
    takes that log dir offline (LogDirFailureChannel) and the partitions on it go offline on
    that broker; with no log dir left, as here (one per broker), Kafka 3.9 halts the broker
    without a clean shutdown, so leadership moves to other replicas once its ZooKeeper
    session expires. Nothing more is written to the failed dir; a restart recovers it once
    the file system takes writes again, and fails with the same error until then."""

    kind = "storage"
    broker_id: int
    log_dir: str
    path: str
    operation: str
    reason: str

    def describe(self) -> str:
        return (f"KAFKA_STORAGE_ERROR: broker {self.broker_id} cannot {self.operation} {self.path} ({self.reason}); "
                f"its log dir {self.log_dir} is offline and the broker halts.")


@dataclass(frozen=True)
class DataDirWriteFailed(Event):
    """kafkalab could not save the cluster's metadata and virtual clock (kafkalab.json) in the
    data directory. Nothing else depends on it while the cluster runs, so it runs on and tries
    again at the next save; a restart would continue from the clock last saved."""

    kind = "storage"
    path: str
    operation: str
    reason: str

    def describe(self) -> str:
        return (f"KAFKA_STORAGE_ERROR: cannot {self.operation} {self.path} ({self.reason}); the virtual clock is not "
                f"saved until the disk takes writes again.")


@dataclass(frozen=True)
class CheckpointUnreadable(Event):
    """A broker could not read one of its checkpoint files (text that is not Kafka's
    checkpoint format, random bytes) and carries on as if the file were missing, as Kafka
    does: the recovery points become 0 so every log is recovered from its first segment,
    log start offsets fall back to the first segment, high watermarks start at 0 and each
    leader works them out again from its followers. The file is rewritten at the next
    checkpoint."""

    kind = "storage"
    broker_id: int
    file: str
    problem: str
    fallback: str

    def describe(self) -> str:
        return (f"Broker {self.broker_id} could not read {self.file} ({self.problem.rstrip('.')}); treating it as "
                f"missing: {self.fallback}.")


@dataclass(frozen=True)
class LogRecovered(Event):
    """After a crash, a broker re-validates the log past its recovery point (the last
    flushed offset): every batch's size and CRC32C. A torn or corrupt tail is cut off:
    those records were never acknowledged with acks=all by this replica alone. After a
    clean shutdown it checks only that the active segment ends on a whole batch, and
    recovers that segment when it does not; other repairs (leftover files, a checkpoint
    it could not read) are listed too."""

    kind = "storage"
    broker_id: int
    topic: str
    partition: int
    bytes_checked: int
    truncated_bytes: int
    reason: str
    #: Other repairs made while opening the log, one sentence each.
    notes: tuple[str, ...] = ()
    #: Records below the last checkpointed high watermark (acknowledged) that the repair removed.
    committed_lost: int = 0

    def describe(self) -> str:
        where = f"{self.topic}-{self.partition}"
        if self.truncated_bytes:
            text = (f"Broker {self.broker_id} recovered {where}: checked {self.bytes_checked} bytes past the "
                    f"recovery point and truncated {self.truncated_bytes} bytes ({self.reason.rstrip('.')}).")
        elif self.bytes_checked:
            text = f"Broker {self.broker_id} recovered {where}: checked {self.bytes_checked} bytes, all intact."
        else:
            text = f"Broker {self.broker_id} opened {where}."
        lost = (f"DATA LOSS on this replica: {self.committed_lost} acknowledged record(s) below its high "
                f"watermark were in the damaged part; only another replica can still hold them.",
                ) if self.committed_lost else ()
        return " ".join((text, *self.notes, *lost))


@dataclass(frozen=True)
class CorruptDataFound(Event):
    """A broker read a partition's log and met damaged bytes: a record batch whose CRC32C no
    longer matches its contents, a header that makes no sense (zeroed bytes read as a batch
    of size 0), or a batch cut short. It serves nothing from there: reads stop before the
    damage and a fetch that starts at it fails with CORRUPT_MESSAGE, so consumers and
    followers stop at that offset instead of receiving bad records. Kafka's broker sends
    segment bytes unchecked and leaves the check to consumers (check.crcs) and followers;
    either way the records there are lost on this replica. Another replica that fetched
    them before the damage still holds them, and a crash restart re-validates only the
    data past the recovery point."""

    kind = "storage"
    broker_id: int
    topic: str
    partition: int
    #: The segment file and the byte position in it where the damage starts.
    file: str
    position: int
    #: The first offset that cannot be read (-1 when the damage was met outside a fetch, e.g. by the cleaner).
    offset: int
    problem: str

    def describe(self) -> str:
        if self.offset < 0:
            return (f"Broker {self.broker_id} found corrupt data in {self.file} at position {self.position} "
                    f"({self.topic}-{self.partition}): {self.problem.rstrip('.')}. It serves nothing from there.")
        return (f"Broker {self.broker_id} found corrupt data in {self.file} at position {self.position} "
                f"({self.topic}-{self.partition} offset {self.offset}): {self.problem.rstrip('.')}. It serves "
                f"nothing from there: fetches at offset {self.offset} fail with CORRUPT_MESSAGE.")


@dataclass(frozen=True)
class SegmentRolled(Event):
    """The active segment reached segment.bytes or segment.ms (or retention expired all of
    it), so the log started a new segment file named by its base offset; the old one is now
    closed and may be deleted or compacted later."""

    kind = "storage"
    broker_id: int
    topic: str
    partition: int
    base_offset: int
    reason: str

    def describe(self) -> str:
        return (f"Broker {self.broker_id} rolled {self.topic}-{self.partition} to a new segment "
                f"{self.base_offset:020d}.log ({self.reason}).")


@dataclass(frozen=True)
class SegmentsDeleted(Event):
    """Retention deleted whole segments and moved the log start offset forward. Once every
    record of the active segment is committed and expired, Kafka rolls a new empty segment
    and deletes that one too, so a quiet topic can empty out (log start = log end).
    Consumers positioned before the log start get OFFSET_OUT_OF_RANGE."""

    kind = "storage"
    broker_id: int
    topic: str
    partition: int
    base_offsets: tuple[int, ...]
    bytes_deleted: int
    log_start_offset: int
    reason: str

    def describe(self) -> str:
        return (f"Broker {self.broker_id} deleted {len(self.base_offsets)} segment(s) of {self.topic}-{self.partition} "
                f"({self.bytes_deleted} bytes, {self.reason}); log start offset is now {self.log_start_offset}.")


@dataclass(frozen=True)
class LogCompacted(Event):
    """The log cleaner rewrote closed segments of a compacted topic keeping only the latest
    record per key (and tombstones younger than delete.retention.ms). Offsets never change."""

    kind = "storage"
    broker_id: int
    topic: str
    partition: int
    records_removed: int
    bytes_before: int
    bytes_after: int

    def describe(self) -> str:
        return (f"Broker {self.broker_id} compacted {self.topic}-{self.partition}: removed {self.records_removed} "
                f"superseded record(s), {self.bytes_before} -> {self.bytes_after} bytes.")
