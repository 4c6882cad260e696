"""One broker's log dir: every partition log in it plus the broker-wide checkpoint files (Kafka's ``LogManager``).

On open the ``.kafka_cleanshutdown`` marker says whether the last shutdown was clean; it
is deleted once the logs are loaded, so a crash from then on is detected next time.
``shutdown`` flushes every log, checkpoints recovery points equal to the log end
offsets and writes the marker again; ``crash`` writes nothing at all.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from kafkalab.config import TopicConfig
from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.checkpoint_writer import CheckpointJob, CheckpointWriter, InlineCheckpointWriter
from kafkalab.storage.checkpoints import (
    CLEANER_OFFSET_CHECKPOINT,
    HIGH_WATERMARK_CHECKPOINT,
    LOG_START_OFFSET_CHECKPOINT,
    RECOVERY_POINT_CHECKPOINT,
    read_offsets,
    write_offsets,
)
from kafkalab.storage.cleaner import CleanResult, clean_log
from kafkalab.storage.file_handles import SHARED_FILE_HANDLES, FileHandles
from kafkalab.storage.files import DELETE_DIR_SUFFIX, KafkaStorageError, parse_partition_dir_name, partition_dir_name
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.log_dir_failure import LogDirFailureChannel
from kafkalab.storage.results import CheckpointReset, RecoveryReport

#: KRaft's metadata topic (Kafka's ``Topic.CLUSTER_METADATA_TOPIC_NAME``), whose log sits beside the partitions'.
CLUSTER_METADATA_TOPIC = "__cluster_metadata"

CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"

TopicPartition = tuple[str, int]


def _read_or_reset(path: Path, resets: list[CheckpointReset], fallback: str) -> dict[TopicPartition, int]:
    """The offsets in a checkpoint; an unreadable one is treated as missing (Kafka's ``LogManager.loadLogs``).

    A file the disk refuses to read is a storage failure, not a bad checkpoint, and is raised.
    """
    try:
        return read_offsets(path)
    except KafkaStorageError:
        raise
    except KafkaError as exc:
        resets.append(CheckpointReset(path.name, exc.message, fallback))
        return {}


class LogManager:
    """The partition logs of one broker's log dir; not thread-safe (the broker's loop owns it)."""

    def __init__(self, log_dir: Path, logs: dict[TopicPartition, PartitionLog], *, had_clean_shutdown: bool,
                 cleaner_offsets: dict[TopicPartition, int], handles: FileHandles,
                 checkpoint_resets: list[CheckpointReset], failures: LogDirFailureChannel,
                 writer: CheckpointWriter) -> None:
        self.log_dir = log_dir
        self.had_clean_shutdown = had_clean_shutdown
        #: Checkpoint files that could not be read and were treated as missing.
        self.checkpoint_resets = checkpoint_resets
        #: Where every log of this dir reports the file system refusing an operation.
        self.failures = failures
        #: Who writes the periodic checkpoints: at once (virtual clock) or on the cluster's writer thread.
        self.writer = writer
        self._logs = logs
        self._cleaner_offsets = cleaner_offsets
        self._handles = handles
        self._open = True

    @classmethod
    def open(cls, log_dir: Path, config_for: Callable[[str], TopicConfig], now_ms: int,
             handles: FileHandles = SHARED_FILE_HANDLES, writer: CheckpointWriter | None = None,
             ) -> tuple[LogManager, tuple[RecoveryReport, ...]]:
        """Load every ``<topic>-<partition>`` directory, recovering them if the marker says the broker crashed.

        KafkaStorageError when the file system refuses: Kafka does not start on a log dir it cannot load.
        """
        failures = LogDirFailureChannel()
        with failures.guard(log_dir, "load"):
            log_dir.mkdir(parents=True, exist_ok=True)
            marker = log_dir / CLEAN_SHUTDOWN_FILE
            clean = marker.exists()
            resets: list[CheckpointReset] = []
            recovery_points = _read_or_reset(log_dir / RECOVERY_POINT_CHECKPOINT, resets,
                                             "every log is recovered from its first segment, as after a crash")
            # Kafka resets unreadable recovery points to 0: nothing is trusted without reading it.
            trusted = clean and not resets
            log_starts = _read_or_reset(log_dir / LOG_START_OFFSET_CHECKPOINT, resets,
                                        "each log starts at its first segment")
            logs: dict[TopicPartition, PartitionLog] = {}
            reports = []
            for directory in sorted(p for p in log_dir.iterdir() if p.is_dir()):
                if directory.name.endswith(DELETE_DIR_SUFFIX):
                    shutil.rmtree(directory, ignore_errors=True)
                    continue
                parsed = parse_partition_dir_name(directory.name)
                if parsed is None or parsed[0] == CLUSTER_METADATA_TOPIC:
                    continue  # a KRaft broker's metadata log is its Raft replica's, not a partition's (Kafka's LogManager)
                log, report = PartitionLog.open(directory, config_for(parsed[0]), recovery_points.get(parsed, 0),
                                                log_starts.get(parsed, 0), trusted, now_ms, handles, failures)
                logs[parsed] = log
                reports.append(report)
            marker.unlink(missing_ok=True)
            cleaner_offsets = _read_or_reset(log_dir / CLEANER_OFFSET_CHECKPOINT, resets,
                                             "the cleaner starts again from each log's first segment")
        manager = cls(log_dir, logs, had_clean_shutdown=clean, cleaner_offsets=cleaner_offsets, handles=handles,
                      checkpoint_resets=resets, failures=failures, writer=writer or InlineCheckpointWriter())
        return manager, tuple(reports)

    def _check_open(self) -> None:
        if not self._open:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"The log manager of {self.log_dir} is shut down.")

    def get_log(self, topic: str, partition: int) -> PartitionLog | None:
        """The log of a partition this broker hosts, or None."""
        return self._logs.get((topic, partition))

    def get_or_create_log(self, topic: str, partition: int, config: TopicConfig, now_ms: int) -> PartitionLog:
        """The partition's log, created empty (offset 0) if this broker has none yet."""
        self._check_open()
        log = self._logs.get((topic, partition))
        if log is None and self.failures.failure is not None:
            raise self.failures.failure  # no new logs on a failed log dir
        if log is None:
            directory = self.log_dir / partition_dir_name(topic, partition)
            # A fresh directory needs no recovery; a leftover one is validated like after a crash.
            log, _ = PartitionLog.open(directory, config, 0, 0, not directory.exists(), now_ms, self._handles,
                                       self.failures)
            self._logs[(topic, partition)] = log
        return log

    def delete_log(self, topic: str, partition: int) -> bool:
        """Remove a partition's log and its directory; return whether it existed."""
        log = self._logs.pop((topic, partition), None)
        if log is None:
            return False
        log.delete()
        self._cleaner_offsets.pop((topic, partition), None)
        return True

    def logs(self) -> dict[TopicPartition, PartitionLog]:
        """Every hosted log by ``(topic, partition)``."""
        return dict(self._logs)

    def checkpoint_recovery_points(self) -> None:
        """Write ``recovery-point-offset-checkpoint`` from the logs' recovery points."""
        self._checkpoint(RECOVERY_POINT_CHECKPOINT, self._recovery_points())

    def checkpoint_log_start_offsets(self) -> None:
        """Write ``log-start-offset-checkpoint`` from the logs' start offsets."""
        self._checkpoint(LOG_START_OFFSET_CHECKPOINT, self._log_start_offsets())

    def _recovery_points(self) -> dict[TopicPartition, int]:
        return {tp: log.recovery_point for tp, log in self._logs.items()}

    def _log_start_offsets(self) -> dict[TopicPartition, int]:
        return {tp: log.log_start_offset for tp, log in self._logs.items()}

    def write_high_watermarks(self, high_watermarks: Mapping[TopicPartition, int]) -> None:
        """Write ``replication-offset-checkpoint`` (the replica manager owns the high watermarks)."""
        self._checkpoint(HIGH_WATERMARK_CHECKPOINT, high_watermarks)

    def _checkpoint(self, name: str, offsets: Mapping[TopicPartition, int]) -> None:
        """Hand ``offsets`` (a fresh snapshot) to the writer; a refusing disk is reported, not raised (Kafka logs
        it and goes on), and takes the log dir offline as any other refusal does."""
        if self.failures.offline:
            return
        self.writer.write(CheckpointJob(self.log_dir / name, offsets, self.failures.report))

    def read_high_watermarks(self) -> dict[TopicPartition, int]:
        """The high watermarks last written to ``replication-offset-checkpoint`` (none if it cannot be read)."""
        return _read_or_reset(self.log_dir / HIGH_WATERMARK_CHECKPOINT, self.checkpoint_resets,
                              "every high watermark starts at 0 and each leader works it out from its followers")

    def clean(self, topic: str, partition: int, now_ms: int, high_watermark: int) -> CleanResult:
        """Run one compaction pass on a partition and checkpoint where its dirty section now starts."""
        self._check_open()
        log = self._logs[(topic, partition)]
        with self.failures.guard(log.directory, "compact"):
            result = clean_log(log, self._cleaner_offsets.get((topic, partition)), now_ms, high_watermark)
            if result.skipped_reason is None:
                self._cleaner_offsets[(topic, partition)] = result.next_dirty_offset
                write_offsets(self.log_dir / CLEANER_OFFSET_CHECKPOINT, self._cleaner_offsets)
        return result

    def flush_dirty_logs(self, now_ms: int) -> tuple[TopicPartition, ...]:
        """Flush logs whose ``flush.ms`` has passed (Kafka's scheduled flusher); return which were flushed."""
        return tuple(tp for tp, log in self._logs.items() if log.flush_if_due(now_ms))

    @staticmethod
    def clean_shutdown_broker_epoch(log_dir: Path) -> int:
        """The broker epoch a KRaft broker's clean shutdown left in the marker, else -1 (KIP-966's
        ``CleanShutdownFileHandler``: the controller learns from it whether the broker may have lost data)."""
        try:
            return int(json.loads((log_dir / CLEAN_SHUTDOWN_FILE).read_bytes())["BrokerEpoch"])
        except (OSError, ValueError, KeyError, TypeError):
            return -1

    def shutdown(self, broker_epoch: int | None = None) -> None:
        """Clean shutdown: flush and close every log, checkpoint, then write the clean-shutdown marker.

        A KRaft broker passes its ``broker_epoch``, written into the marker as Kafka 4.1 writes it.
        """
        self._check_open()
        # The periodic checkpoints already handed over are written, or have failed, before the marker.
        self.writer.flush(self.log_dir)
        if self.failures.offline:
            self.crash()  # Kafka writes nothing more to a failed log dir, least of all the marker
            return
        self._open = False
        with self.failures.guard(self.log_dir, "close"):
            for log in self._logs.values():
                log.close()
            write_offsets(self.log_dir / RECOVERY_POINT_CHECKPOINT, self._recovery_points())
            write_offsets(self.log_dir / LOG_START_OFFSET_CHECKPOINT, self._log_start_offsets())
            write_offsets(self.log_dir / CLEANER_OFFSET_CHECKPOINT, self._cleaner_offsets)
            marker = self.log_dir / CLEAN_SHUTDOWN_FILE
            if broker_epoch is None:
                marker.touch()
            else:
                marker.write_text(json.dumps({"version": 0, "BrokerEpoch": broker_epoch}))

    def crash(self) -> None:
        """What a SIGKILL leaves: descriptors closed, nothing flushed or written."""
        # A checkpoint being written finishes whole (or not at all); none starts after the kill.
        self.writer.discard(self.log_dir)
        for log in self._logs.values():
            log.close_abruptly()
        self._open = False
