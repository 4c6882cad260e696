"""``kafkalab dump-log`` prints segments, indexes and time indexes like kafka-dump-log.sh."""

from __future__ import annotations

from pathlib import Path

import pytest
from storage_helpers import T0, topic_config

from kafkalab.cli import main
from kafkalab.storage import producer_snapshot
from kafkalab.storage.control_records import encode_end_txn_marker
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import Header, encode_batch
from kafkalab.storage.txn_index import AbortedTxn


@pytest.fixture
def segment_dir(tmp_path: Path) -> Path:
    log, _ = PartitionLog.open(tmp_path / "orders-0", topic_config(index_interval_bytes=10), 0, 0, False, T0,
                               FileHandles())
    log.append_as_leader(encode_batch([(b"abc", b"hello", (), T0), (None, b"world", (Header("trace", b"1"),), T0 + 1),
                                       (b"gone", None, (), T0 + 2)], producer_id=7, producer_epoch=1, base_sequence=4),
                         leader_epoch=0, now_ms=T0)
    log.append_as_leader(encode_batch([(b"k", b"v", (), T0 + 5)]), leader_epoch=1, now_ms=T0)
    log.close()
    return tmp_path / "orders-0"


def test_dump_log_with_data_matches_kafkas_format(segment_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = segment_dir / "00000000000000000000.log"
    assert main(["dump-log", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [f"Dumping {path}", "Log starting offset: 0"]
    assert lines[2].startswith(
        "baseOffset: 0 lastOffset: 2 count: 3 baseSequence: 4 lastSequence: 6 producerId: 7 producerEpoch: 1 "
        "partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty "
        f"position: 0 CreateTime: {T0 + 2} size: ")
    assert lines[2].endswith(" isvalid: true") and " magic: 2 compresscodec: none crc: " in lines[2]
    assert lines[3:6] == [
        f"| offset: 0 CreateTime: {T0} keySize: 3 valueSize: 5 sequence: 4 headerKeys: [] key: abc payload: hello",
        f"| offset: 1 CreateTime: {T0 + 1} keySize: -1 valueSize: 5 sequence: 5 headerKeys: [trace] payload: world",
        f"| offset: 2 CreateTime: {T0 + 2} keySize: 4 valueSize: -1 sequence: 6 headerKeys: [] key: gone",
    ]
    size = int(lines[2].split(" size: ")[1].split()[0])
    assert lines[6].startswith(f"baseOffset: 3 lastOffset: 3 count: 1 baseSequence: -1 lastSequence: -1 producerId: -1 "
                               f"producerEpoch: -1 partitionLeaderEpoch: 1 isTransactional: false isControl: false "
                               f"deleteHorizonMs: OptionalLong.empty position: {size} CreateTime: {T0 + 5}")
    assert len(lines) == 8


def test_dump_log_without_data_prints_batches_only(segment_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump-log", "--no-data", str(segment_dir / "00000000000000000000.log")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and not any(line.startswith("|") for line in lines)


def test_dump_reports_a_torn_tail(segment_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = segment_dir / "00000000000000000000.log"
    path.write_bytes(path.read_bytes()[:-7])
    assert main(["dump-log", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("baseOffset:") == 1
    assert out.rstrip().endswith("invalid bytes at the end of 00000000000000000000.log")


def test_dump_index_and_time_index(segment_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump-log", str(segment_dir / "00000000000000000000.index")]) == 0
    index_lines = capsys.readouterr().out.splitlines()
    assert index_lines[1:] == [f"offset: 3 position: {int(index_lines[1].split()[-1])}"]
    assert main(["dump-log", str(segment_dir / "00000000000000000000.timeindex")]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [f"timestamp: {T0 + 5} offset: 3"]


@pytest.mark.parametrize("name", ["missing.log", "leader-epoch-checkpoint", "123.log"])
def test_bad_paths_fail_with_one_line_on_stderr(segment_dir: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    (segment_dir / "123.log").write_bytes(b"")
    assert main(["dump-log", str(segment_dir / name)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert name in captured.err


def test_a_corrupt_index_fails_with_one_line_on_stderr(segment_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = segment_dir / "00000000000000000000.index"
    index.write_bytes(b"\x00" * 5)
    assert main(["dump-log", str(index)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a multiple of 8" in err


def test_dump_shows_transaction_markers_and_the_txnindex(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log, _ = PartitionLog.open(tmp_path / "orders-0", topic_config(), 0, 0, False, T0, FileHandles())
    log.append_as_leader(encode_batch([(None, b"refund", (), T0)], producer_id=3, producer_epoch=0, base_sequence=0,
                                      is_transactional=True), leader_epoch=0, now_ms=T0)
    log.append_as_leader(encode_end_txn_marker(producer_id=3, producer_epoch=0, commit=False, coordinator_epoch=5,
                                               timestamp=T0), leader_epoch=0, now_ms=T0, from_coordinator=True)
    log.append_aborted_txn(AbortedTxn(3, 0, 1, 0))
    log.close()
    assert main(["dump-log", str(tmp_path / "orders-0" / "00000000000000000000.log")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert " isTransactional: true isControl: true " in lines[4]
    assert lines[5] == (f"| offset: 1 CreateTime: {T0} keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] "
                        f"endTxnMarker: ABORT coordinatorEpoch: 5")
    assert main(["dump-log", str(tmp_path / "orders-0" / "00000000000000000000.txnindex")]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "version: 0 producerId: 3 firstOffset: 0 lastOffset: 1 lastStableOffset: 0"]


def test_dump_shows_a_producer_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    producer_snapshot.write(tmp_path, 12, [producer_snapshot.SnapshotEntry(3, 1, 9, 11, 4, T0, 2, 7),
                                           producer_snapshot.SnapshotEntry(4, 0, -1, -1, 0, -1, -1, -1)])
    assert main(["dump-log", str(tmp_path / "00000000000000000012.snapshot")]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"producerId: 3 producerEpoch: 1 coordinatorEpoch: 2 currentTxnFirstOffset: OptionalLong[7] "
        f"lastTimestamp: {T0} firstSequence: 5 lastSequence: 9 lastOffset: 11 offsetDelta: 4 timestamp: {T0}",
        "producerId: 4 producerEpoch: 0 coordinatorEpoch: -1 currentTxnFirstOffset: OptionalLong.empty "
        "lastTimestamp: -1 "]
