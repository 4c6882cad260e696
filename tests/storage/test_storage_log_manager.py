"""LogManager: loading a broker's log dir, checkpoints, clean shutdown versus crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storage_helpers import T0, batch, keyed_batch, read_all, record_segment_reads, topic_config

from kafkalab.errors import KafkaError
from kafkalab.storage.checkpoints import read_offsets
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log_manager import CLEAN_SHUTDOWN_FILE, LogManager

TOPICS = ["orders", "my.dotted_topic-name", "__consumer_offsets"]


def config_for(topic: str):
    return topic_config(segment_bytes=500, cleanup_policy="compact" if topic.startswith("__") else "delete")


def open_manager(log_dir: Path) -> tuple[LogManager, tuple]:
    return LogManager.open(log_dir, config_for, T0, FileHandles())


def populate(manager: LogManager) -> dict[tuple[str, int], list[bytes]]:
    written = {}
    for topic in TOPICS:
        for partition in (0, 1):
            log = manager.get_or_create_log(topic, partition, config_for(topic), T0)
            values = [b"%s-%d-%d" % (topic.encode(), partition, i) for i in range(12)]
            for value in values:
                log.append_as_leader(keyed_batch([(b"k", value)]), 0, T0)
            written[(topic, partition)] = values
    return written


def test_clean_shutdown_and_reopen_reads_only_the_active_segments_tails(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    manager, reports = open_manager(tmp_path)
    assert reports == () and not manager.had_clean_shutdown
    written = populate(manager)
    ends = {tp: log.log_end_offset for tp, log in manager.logs().items()}
    manager.shutdown()
    assert (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    assert read_offsets(tmp_path / "recovery-point-offset-checkpoint") == ends
    assert read_offsets(tmp_path / "log-start-offset-checkpoint") == {tp: 0 for tp in ends}

    reads = record_segment_reads(monkeypatch)
    reopened, reports = open_manager(tmp_path)
    monkeypatch.undo()
    active = {log.log_segments()[-1].log_path for log in reopened.logs().values()}
    assert {path for path, _, _ in reads} <= active and sum(size for _, _, size in reads) <= 500 * len(active)
    assert reopened.had_clean_shutdown and all(r.clean_shutdown for r in reports)
    assert not (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    assert sorted(reopened.logs()) == sorted(written)
    for (topic, partition), values in written.items():
        log = reopened.get_log(topic, partition)
        assert (log.topic, log.partition, log.log_end_offset) == (topic, partition, ends[(topic, partition)])
        assert [r.value for r in read_all(log)] == values


def test_crash_writes_nothing_and_reopen_recovers_from_the_checkpoint(tmp_path: Path) -> None:
    manager, _ = open_manager(tmp_path)
    written = populate(manager)
    manager.checkpoint_recovery_points()
    log = manager.get_log("orders", 0)
    log.append_as_leader(batch(b"unflushed"), 0, T0)
    manager.crash()
    assert not (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    with pytest.raises(KafkaError):
        manager.get_or_create_log("x", 0, config_for("x"), T0)

    reopened, reports = open_manager(tmp_path)
    assert not reopened.had_clean_shutdown
    assert all(not r.clean_shutdown and r.truncation_reason is None for r in reports)
    assert [r.value for r in read_all(reopened.get_log("orders", 0))] == written[("orders", 0)] + [b"unflushed"]


def test_high_watermarks_round_trip(tmp_path: Path) -> None:
    manager, _ = open_manager(tmp_path)
    manager.write_high_watermarks({("orders", 0): 12, ("my.dotted_topic-name", 1): 3})
    assert manager.read_high_watermarks() == {("orders", 0): 12, ("my.dotted_topic-name", 1): 3}
    assert (tmp_path / "replication-offset-checkpoint").read_text().startswith("0\n2\n")


def test_delete_log_removes_the_directory(tmp_path: Path) -> None:
    manager, _ = open_manager(tmp_path)
    populate(manager)
    assert manager.delete_log("my.dotted_topic-name", 1)
    assert not manager.delete_log("my.dotted_topic-name", 1)
    assert not (tmp_path / "my.dotted_topic-name-1").exists()
    assert (tmp_path / "my.dotted_topic-name-0").exists()
    manager.shutdown()
    reopened, _ = open_manager(tmp_path)
    assert ("my.dotted_topic-name", 1) not in reopened.logs()


def test_leftover_delete_dirs_and_foreign_dirs(tmp_path: Path) -> None:
    (tmp_path / "orders-3.9f6a-delete").mkdir()
    (tmp_path / "not a partition").mkdir()
    _, reports = open_manager(tmp_path)
    assert reports == () and not (tmp_path / "orders-3.9f6a-delete").exists()
    assert (tmp_path / "not a partition").exists()


def test_compaction_through_the_manager_checkpoints_the_dirty_offset(tmp_path: Path) -> None:
    manager, _ = open_manager(tmp_path)
    populate(manager)
    log = manager.get_log("__consumer_offsets", 0)
    result = manager.clean("__consumer_offsets", 0, T0, log.log_end_offset)
    assert result.skipped_reason is None and result.records_removed > 0
    assert read_offsets(tmp_path / "cleaner-offset-checkpoint") == {("__consumer_offsets", 0): result.next_dirty_offset}
    assert [r.value for r in read_all(log)][-1] == b"__consumer_offsets-0-11"


def test_flush_dirty_logs_applies_flush_ms(tmp_path: Path) -> None:
    manager, _ = LogManager.open(tmp_path, lambda t: topic_config(flush_ms=1000), T0, FileHandles())
    log = manager.get_or_create_log("t", 0, topic_config(flush_ms=1000), T0)
    log.append_as_leader(batch(b"a"), 0, T0)
    assert manager.flush_dirty_logs(T0 + 999) == ()
    assert manager.flush_dirty_logs(T0 + 1000) == (("t", 0),)
    assert log.recovery_point == 1
    assert os.path.exists(tmp_path / "t-0" / "00000000000000000000.index")


GARBAGE = {"text": b"hello\nworld\n", "random bytes": bytes(range(255, 0, -3)) * 7}


@pytest.mark.parametrize("garbage", GARBAGE, ids=str)
@pytest.mark.parametrize("name", ["recovery-point-offset-checkpoint", "log-start-offset-checkpoint",
                                  "cleaner-offset-checkpoint", "replication-offset-checkpoint"])
def test_an_unreadable_checkpoint_is_treated_as_missing_and_named(tmp_path: Path, name: str, garbage: str) -> None:
    manager, _ = open_manager(tmp_path)
    written = populate(manager)
    manager.write_high_watermarks({tp: 12 for tp in written})
    manager.shutdown()
    (tmp_path / name).write_bytes(GARBAGE[garbage])

    reopened, reports = open_manager(tmp_path)
    high_watermarks = reopened.read_high_watermarks()
    (reset,) = reopened.checkpoint_resets
    assert reset.file == name and reset.problem and reset.fallback
    assert high_watermarks == ({} if name == "replication-offset-checkpoint" else {tp: 12 for tp in written})
    if name == "recovery-point-offset-checkpoint":
        assert all(not r.clean_shutdown and r.segments_checked for r in reports)  # Kafka: recovery points reset to 0
    for (topic, partition), values in written.items():
        assert [r.value for r in read_all(reopened.get_log(topic, partition))] == values


@pytest.mark.parametrize("garbage", GARBAGE, ids=str)
def test_an_unreadable_leader_epoch_checkpoint_is_rebuilt_from_the_batches(tmp_path: Path, garbage: str) -> None:
    manager, _ = open_manager(tmp_path)
    log = manager.get_or_create_log("orders", 0, config_for("orders"), T0)
    for epoch in (1, 1, 4, 7):
        log.start_leader_epoch(epoch)
        log.append_as_leader(keyed_batch([(b"k", b"v%d" % epoch)]), epoch, T0)
    entries = log.leader_epoch_cache.entries
    manager.shutdown()
    checkpoint = tmp_path / "orders-0" / "leader-epoch-checkpoint"
    checkpoint.write_bytes(GARBAGE[garbage])

    reopened, (report,) = open_manager(tmp_path)
    assert any("Rebuilt the leader epoch history" in note for note in report.notes)
    assert reopened.get_log("orders", 0).leader_epoch_cache.entries == entries
    assert checkpoint.read_text() == "0\n3\n1 0\n4 2\n7 3\n"


def test_a_clean_shutdown_fsyncs_only_logs_holding_records_not_yet_flushed(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    manager, _ = open_manager(tmp_path)
    empty = [manager.get_or_create_log("__consumer_offsets", p, config_for("__consumer_offsets"), T0) for p in range(4)]
    for log in empty:
        log.start_leader_epoch(1)  # a leader elected for a partition nobody wrote to
    busy = manager.get_or_create_log("orders", 0, config_for("orders"), T0)
    busy.start_leader_epoch(1)
    busy.append_as_leader(keyed_batch([(b"k", b"v")]), 1, T0)
    synced: list[Path] = []
    fsync = os.fsync

    def noting_fsync(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", noting_fsync)
    manager.shutdown()
    monkeypatch.undo()
    assert not [path for path in synced for log in empty if log.directory in (path, *path.parents)]
    assert {path.name for path in synced if path.parent == busy.directory} >= {
        "00000000000000000000.log", "leader-epoch-checkpoint"}
    assert (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    for log in empty:  # the files are there as Kafka leaves them, and the log opens clean
        assert {p.name for p in log.directory.iterdir()} >= {"00000000000000000000.index",
                                                             "00000000000000000000.timeindex"}
    reopened, reports = open_manager(tmp_path)
    assert all(report.clean_shutdown for report in reports)
    assert reopened.get_log("orders", 0).log_end_offset == 1
    assert reopened.get_log("orders", 0).leader_epoch_cache.latest_epoch == 1
