"""The checkpoint writer thread (issue 9): Kafka's format, newest snapshot wins, failures reach the engine thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from storage_helpers import T0, batch, topic_config

from kafkalab.storage.checkpoint_writer import BackgroundCheckpointWriter, CheckpointJob
from kafkalab.storage.checkpoints import read_offsets
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.files import KafkaStorageError
from kafkalab.storage.log_manager import CLEAN_SHUTDOWN_FILE, LogManager

TP = ("orders", 0)


class HeldOffsets(Mapping[tuple[str, int], int]):
    """Offsets whose writing waits until the test lets it go: the writer thread is busy meanwhile."""

    def __init__(self, offsets: dict[tuple[str, int], int]) -> None:
        self._offsets = offsets
        self.started = threading.Event()
        self.release = threading.Event()

    def __getitem__(self, key: tuple[str, int]) -> int:
        return self._offsets[key]

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self._offsets)

    def __len__(self) -> int:
        return len(self._offsets)

    def items(self):  # type: ignore[override]
        self.started.set()
        assert self.release.wait(10)
        return self._offsets.items()


def _engine() -> tuple[list[Callable[[], None]], Callable[[Callable[[], None]], None]]:
    """Work handed back to the "engine thread", run by the test when it chooses."""
    handed: list[Callable[[], None]] = []
    return handed, handed.append


def test_a_newer_snapshot_supersedes_a_pending_one_and_flush_waits_for_it(tmp_path: Path) -> None:
    handed, hand_back = _engine()
    writer = BackgroundCheckpointWriter(hand_back)
    failures: list[KafkaStorageError] = []
    held = HeldOffsets({TP: 1})
    writer.write(CheckpointJob(tmp_path / "recovery-point-offset-checkpoint", held, failures.append))
    assert held.started.wait(10)  # the thread is writing the first file
    hwm = tmp_path / "replication-offset-checkpoint"
    writer.write(CheckpointJob(hwm, {TP: 5}, failures.append))
    writer.write(CheckpointJob(hwm, {TP: 7}, failures.append))
    held.release.set()
    writer.flush(tmp_path)
    assert hwm.read_text() == "0\n1\norders 0 7\n"  # Kafka's format, the newest snapshot
    assert read_offsets(tmp_path / "recovery-point-offset-checkpoint") == {TP: 1}
    assert not list(tmp_path.glob("*.tmp")) and failures == [] and handed == []
    writer.close()


def test_a_refused_write_is_handed_to_the_engine_thread_or_delivered_by_flush(tmp_path: Path) -> None:
    handed, hand_back = _engine()
    writer = BackgroundCheckpointWriter(hand_back)
    failures: list[KafkaStorageError] = []
    missing = tmp_path / "gone"  # the disk refuses: no such directory
    writer.write(CheckpointJob(missing / "replication-offset-checkpoint", {TP: 3}, failures.append))
    writer.flush(missing)
    (failure,) = failures
    assert failure.operation == "write the checkpoint file" and "gone" in failure.path
    for work in handed:  # the hand-back arrives later and finds nothing left to deliver
        work()
    assert len(failures) == 1
    writer.write(CheckpointJob(missing / "replication-offset-checkpoint", {TP: 4}, failures.append))
    writer.close()
    (work,) = handed[1:]
    work()  # on the engine thread: the failure reaches its handler there, never on the writer thread
    assert len(failures) == 2


def test_discard_drops_pending_writes_and_waits_out_the_one_being_written(tmp_path: Path) -> None:
    writer = BackgroundCheckpointWriter(lambda work: None)
    held = HeldOffsets({TP: 1})
    first = tmp_path / "recovery-point-offset-checkpoint"
    writer.write(CheckpointJob(first, held, lambda error: None))
    assert held.started.wait(10)
    writer.write(CheckpointJob(tmp_path / "replication-offset-checkpoint", {TP: 2}, lambda error: None))
    discarded = threading.Thread(target=writer.discard, args=(tmp_path,))
    discarded.start()
    held.release.set()
    discarded.join(10)
    assert not discarded.is_alive()
    assert read_offsets(first) == {TP: 1}  # whole: it was being written when the broker died
    assert not (tmp_path / "replication-offset-checkpoint").exists()
    writer.close()


def _manager(log_dir: Path, writer: BackgroundCheckpointWriter) -> LogManager:
    manager, _ = LogManager.open(log_dir, lambda topic: topic_config(), T0, FileHandles(), writer=writer)
    log = manager.get_or_create_log(*TP, topic_config(), T0)
    log.append_as_leader(batch(b"v"), 0, T0)
    return manager


def test_a_clean_shutdown_writes_every_checkpoint_before_the_marker(tmp_path: Path) -> None:
    writer = BackgroundCheckpointWriter(lambda work: None)
    manager = _manager(tmp_path, writer)
    manager.write_high_watermarks({TP: 1})
    manager.checkpoint_recovery_points()
    manager.shutdown()
    assert read_offsets(tmp_path / "replication-offset-checkpoint") == {TP: 1}
    assert read_offsets(tmp_path / "recovery-point-offset-checkpoint") == {TP: 1}
    assert read_offsets(tmp_path / "log-start-offset-checkpoint") == {TP: 0}
    assert (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    writer.close()


def test_a_refused_checkpoint_takes_the_log_dir_offline_and_no_marker_is_written(tmp_path: Path) -> None:
    writer = BackgroundCheckpointWriter(lambda work: None)  # no hand-back: the flush alone must deliver it
    manager = _manager(tmp_path, writer)
    told: list[KafkaStorageError] = []
    manager.failures.listener = told.append
    (tmp_path / "replication-offset-checkpoint.tmp").mkdir()  # the temp file cannot be opened: a refusing disk
    manager.write_high_watermarks({TP: 1})
    writer.flush(tmp_path)
    (failure,) = told
    assert manager.failures.offline and failure.operation == "write the checkpoint file"
    manager.shutdown()
    assert not (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    writer.close()
