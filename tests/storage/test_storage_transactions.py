"""Transactions in a partition log: markers, the last stable offset and the ``.txnindex`` (KIP-98)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_helpers import T0, topic_config

from kafkalab.clients.consumer_fetcher import CompletedFetch
from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.fetch import AbortedTransaction
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage import producer_snapshot
from kafkalab.storage.control_records import encode_end_txn_marker
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.producer_state import ProducerStateManager, ProducerStates
from kafkalab.storage.records import encode_batch
from kafkalab.storage.txn_index import ENTRY_SIZE, AbortedTxn, TransactionIndex

TP = TopicPartition("orders", 0)


def open_log(directory: Path) -> PartitionLog:
    return PartitionLog.open(directory, topic_config(segment_bytes=600), 0, 0, False, T0, FileHandles())[0]


class Writer:
    """Appends as a leader does: validation, producer checks, append, then producer state (markers index aborts)."""

    def __init__(self, log: PartitionLog) -> None:
        self.log = log
        self.states = ProducerStates()
        self.sequences: dict[int, int] = {}

    def _append(self, batch: bytes, from_coordinator: bool = False) -> int:
        checked = self.log.validate_as_leader(batch, from_coordinator)
        assert self.states.check_leader_append(self.log, batch, checked, from_coordinator) is None
        info = self.log.append_as_leader(batch, 0, T0, from_coordinator, checked)
        self.states.record_append(self.log, batch, info, leader=True)
        return info.first_offset

    def data(self, producer_id: int, values: list[bytes]) -> int:
        sequence = self.sequences.get(producer_id, 0)
        self.sequences[producer_id] = sequence + len(values)
        return self._append(encode_batch([(None, v, (), T0) for v in values], producer_id=producer_id,
                                         producer_epoch=0, base_sequence=sequence, is_transactional=True))

    def marker(self, producer_id: int, commit: bool, epoch: int = 0) -> int:
        return self._append(encode_end_txn_marker(producer_id=producer_id, producer_epoch=epoch, commit=commit,
                                                  coordinator_epoch=0, timestamp=T0), from_coordinator=True)

    def lso(self) -> int:
        return self.states.last_stable_offset(self.log, self.log.log_end_offset)


def read_committed(log: PartitionLog, upper: int) -> list[bytes]:
    """What a read_committed consumer gets, fetch by fetch: the broker's aborted list for each fetched range,
    filtered as the client does."""
    values: list[bytes] = []
    position = 0
    while position < upper:
        data = log.read(position, 1 << 20, upper)
        aborted = tuple(AbortedTransaction(t.producer_id, t.first_offset)
                        for t in log.collect_aborted_txns(position, upper))
        fetch = CompletedFetch(TP, data, True, aborted)
        values += [r.value for r in fetch.take(position, 1 << 20) if r.value is not None]
        position = fetch.next_fetch_offset
    return values


# A step: (producer, action) with action "send" (one record), "commit" or "abort".
steps = st.lists(st.tuples(st.integers(min_value=1, max_value=3), st.sampled_from(["send", "send", "commit", "abort"])),
                 max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_read_committed_gets_exactly_the_committed_records_below_the_lso(script) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = open_log(Path(tmp) / "orders-0")
        writer = Writer(log)
        open_txns: dict[int, tuple[int, list[tuple[int, bytes]]]] = {}  # producer -> (first offset, records)
        committed: list[tuple[int, bytes]] = []
        aborted: list[tuple[int, int, int]] = []
        for number, (producer, action) in enumerate(script):
            if action == "send":
                value = f"{producer}-{number}".encode()
                offset = writer.data(producer, [value])
                first, values = open_txns.get(producer, (offset, []))
                open_txns[producer] = (first, [*values, (offset, value)])
            else:
                marker = writer.marker(producer, action == "commit")
                first, values = open_txns.pop(producer, (-1, []))
                if action == "commit":
                    committed += values
                elif values:
                    aborted.append((producer, first, marker))
            expected_lso = min((first for first, _ in open_txns.values()), default=log.log_end_offset)
            assert writer.lso() == expected_lso
        assert [(t.producer_id, t.first_offset, t.last_offset) for t in log.collect_aborted_txns(0, 1 << 30)] == aborted
        # Committed records above the LSO (behind a transaction still open) wait; no aborted one is ever read.
        assert sorted(read_committed(log, writer.lso())) == sorted(v for o, v in committed if o < writer.lso())
        # A state rebuilt from the log (a restart, a new leader) sees the same open transactions.
        assert ProducerStateManager.from_log(log).last_stable_offset(log.log_end_offset) == writer.lso()


def test_the_txnindex_survives_a_reopen_and_follows_truncation(tmp_path: Path) -> None:
    log = open_log(tmp_path / "orders-0")
    writer = Writer(log)
    writer.data(1, [b"a", b"b"])
    writer.marker(1, commit=False)  # aborted: offsets 0-1, marker at 2
    writer.data(1, [b"c"])
    writer.marker(1, commit=False)  # aborted: offset 3, marker at 4
    assert [(t.first_offset, t.last_offset) for t in log.collect_aborted_txns(0, 10)] == [(0, 2), (3, 4)]
    log.close()
    reopened = open_log(tmp_path / "orders-0")
    assert [(t.first_offset, t.last_offset) for t in reopened.collect_aborted_txns(0, 10)] == [(0, 2), (3, 4)]
    reopened.truncate_to(4, T0)
    assert [(t.first_offset, t.last_offset) for t in reopened.collect_aborted_txns(0, 10)] == [(0, 2)]
    files = list((tmp_path / "orders-0").glob("*.txnindex"))
    assert sum(f.stat().st_size for f in files) == ENTRY_SIZE


def test_only_a_coordinator_appends_markers_and_a_stale_epoch_is_refused(tmp_path: Path) -> None:
    log = open_log(tmp_path / "orders-0")
    writer = Writer(log)
    marker = encode_end_txn_marker(producer_id=1, producer_epoch=0, commit=True, coordinator_epoch=0, timestamp=T0)
    with pytest.raises(KafkaError) as raised:
        log.append_as_leader(marker, 0, T0)
    assert raised.value.error == Errors.INVALID_RECORD
    writer.data(1, [b"a"])
    writer.marker(1, commit=False, epoch=1)  # a fencing abort bumps the epoch
    with pytest.raises(KafkaError) as stale:
        writer.states.check_leader_append(log, marker, log.validate_as_leader(marker, True), from_coordinator=True)
    assert stale.value.error == Errors.INVALID_PRODUCER_EPOCH


def test_an_index_collects_only_transactions_overlapping_the_range(tmp_path: Path) -> None:
    index = TransactionIndex(tmp_path / "00000000000000000000.txnindex")
    index.append(AbortedTxn(1, 0, 5, 0))
    index.append(AbortedTxn(2, 3, 9, 0))
    index.append(AbortedTxn(3, 12, 14, 10))
    assert [t.producer_id for t in index.collect(6, 12)] == [2]
    assert [t.producer_id for t in index.collect(0, 100)] == [1, 2, 3]
    with pytest.raises(KafkaError):
        index.append(AbortedTxn(4, 0, 2, 0))  # markers only move forward


def test_rolls_write_producer_snapshots_that_a_reload_starts_from(tmp_path: Path, monkeypatch) -> None:
    log = open_log(tmp_path / "orders-0")  # segment.bytes 600: a few batches per segment
    writer = Writer(log)
    for round_number in range(8):
        writer.data(1, [b"x" * 40, b"y" * 40])
        writer.data(2, [b"z" * 40])
        writer.marker(1, commit=round_number % 2 == 0)
    writer.data(2, [b"open"])  # producer 2 never ends its transaction: open from its first batch (offset 2) on
    snapshots = producer_snapshot.snapshot_offsets(log.directory)
    assert len(log.log_segments()) > 2 and len(snapshots) >= len(log.log_segments()) - 1
    for offset in snapshots:
        producer_snapshot.delete(log.directory, offset)
    rebuilt_from_log = ProducerStateManager.from_log(log)
    writer.states.take_snapshots([log])  # the clean shutdown's snapshot, at the log end
    assert producer_snapshot.snapshot_offsets(log.directory) == [log.log_end_offset]
    reads: list[int] = []
    original_read = PartitionLog.read
    monkeypatch.setattr(PartitionLog, "read", lambda self, offset, *a, **k: reads.append(offset) or
                        original_read(self, offset, *a, **k))
    reloaded = ProducerStateManager.from_log(log)
    assert reads == []  # nothing to replay after a snapshot at the log end
    for state in (rebuilt_from_log, reloaded):
        assert state.ongoing == {2: 2}
        assert {pid: (e.epoch, e.last_seq) for pid, e in state.producers.items()} == {1: (0, 15), 2: (0, 8)}


def test_a_snapshot_past_the_log_end_is_dropped_and_a_corrupt_one_ignored(tmp_path: Path) -> None:
    log = open_log(tmp_path / "orders-0")
    writer = Writer(log)
    writer.data(1, [b"a"])
    writer.data(1, [b"b"])
    writer.states.take_snapshots([log])  # at offset 2
    log.truncate_to(1, T0)
    assert ProducerStateManager.from_log(log).producers[1].last_seq == 0
    assert producer_snapshot.snapshot_offsets(log.directory) == []
    producer_snapshot.write(log.directory, 1, [producer_snapshot.SnapshotEntry(9, 0, 5, 0, 0, -1, -1, -1)])
    path = producer_snapshot.snapshot_path(log.directory, 1)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0x01]))
    with pytest.raises(KafkaError):
        producer_snapshot.read(log.directory, 1)
    assert set(ProducerStateManager.from_log(log).producers) == {1}  # replayed from the log instead


def test_a_marker_from_a_deposed_coordinator_is_fenced(tmp_path: Path) -> None:
    log = open_log(tmp_path / "orders-0")
    writer = Writer(log)
    writer.data(1, [b"a"])
    writer._append(encode_end_txn_marker(producer_id=1, producer_epoch=0, commit=True, coordinator_epoch=4,
                                         timestamp=T0), from_coordinator=True)
    stale = encode_end_txn_marker(producer_id=1, producer_epoch=0, commit=False, coordinator_epoch=3, timestamp=T0)
    with pytest.raises(KafkaError) as raised:
        writer.states.check_leader_append(log, stale, log.validate_as_leader(stale, True), from_coordinator=True)
    assert raised.value.error == Errors.TRANSACTION_COORDINATOR_FENCED
    writer.states.take_snapshots([log])
    assert ProducerStateManager.from_log(log).producers[1].coordinator_epoch == 4  # kept in the snapshot


# Crash recovery (Kafka 3.9 LogLoader.recoverSegment, LogSegment.recover): the .txnindex and producer state of the
# segments from the recovery point on are rebuilt from the batches that survived.

def crash_and_reopen(log: PartitionLog, cut_at: int | None = None, torn_bytes: int = 0,
                     lose_txn_indexes: bool = False) -> PartitionLog:
    """Crash the log's broker: the batch at ``cut_at`` and everything after it never reached the disk (the first
    ``torn_bytes`` of that batch did), the recovered segments' .txnindex files too if ``lose_txn_indexes``; then
    open it as a restarted broker does, without the clean-shutdown marker."""
    recovery_point = log.recovery_point
    segments = log.log_segments()
    log.close_abruptly()
    if cut_at is not None:
        assert cut_at >= recovery_point, "a crash only loses what was not flushed"
        for segment in segments:
            if segment.base_offset > cut_at:
                segment.log_path.unlink()
            elif (found := segment.find_batch(cut_at)) is not None:
                position, header = found
                assert header.base_offset == cut_at
                os.truncate(segment.log_path, position + min(torn_bytes, header.size_in_bytes - 1))
    if lose_txn_indexes:
        for segment in segments:
            if segment.base_offset >= recovery_point or segment is segments[-1]:
                segment.txn_index.path.unlink(missing_ok=True)
    return PartitionLog.open(log.directory, topic_config(segment_bytes=600), recovery_point, 0, False, T0,
                             FileHandles())[0]


def aborted(log: PartitionLog) -> list[tuple[int, int, int, int]]:
    return [(t.producer_id, t.first_offset, t.last_offset, t.last_stable_offset)
            for t in log.collect_aborted_txns(0, 1 << 30)]


def test_recovery_rebuilds_a_lost_txnindex_from_the_markers_and_earlier_segments(tmp_path: Path) -> None:
    log = open_log(tmp_path / "orders-0")
    writer = Writer(log)
    writer.data(3, [b"open"])  # producer 3's transaction stays open throughout: the LSO stays at 0
    for _ in range(4):  # enough to roll a few segments (each roll flushes)
        writer.data(1, [b"c" * 60])
        writer.marker(1, commit=True)
    writer.data(2, [b"doomed-1"])  # producer 2's transaction starts in a flushed segment...
    for _ in range(3):
        writer.data(1, [b"d" * 60])
        writer.marker(1, commit=True)
    writer.data(2, [b"doomed-2"])
    writer.marker(2, commit=False)  # ...and is aborted in a segment the crash makes recover
    assert log.recovery_point > 0 and log.recovery_point < log.log_end_offset
    before = aborted(log)
    assert [(pid, first) for pid, first, _, lso in before] == [(2, 9)] and before[0][3] == 0
    expected_values = read_committed(log, log.log_end_offset)
    reopened = crash_and_reopen(log, lose_txn_indexes=True)
    assert aborted(reopened) == before
    assert read_committed(reopened, reopened.log_end_offset) == expected_values
    assert producer_snapshot.snapshot_offsets(reopened.directory)[-1] == reopened.log_end_offset
    state = ProducerStateManager.from_log(reopened)
    assert state.ongoing == {3: 0} and state.last_stable_offset(reopened.log_end_offset) == 0


def test_a_crash_that_cut_off_an_abort_leaves_no_stale_entry_and_its_producer_reads_committed(tmp_path: Path) -> None:
    log = open_log(tmp_path / "orders-0")
    writer = Writer(log)
    writer.data(1, [b"kept"])
    writer.marker(1, commit=True)  # offsets 0-1
    log.flush(T0)
    first = writer.data(1, [b"lost-1"])
    writer.data(1, [b"lost-2"])
    writer.marker(1, commit=False)  # indexed: producer 1 aborted offsets 2-4
    assert [(pid, f, last) for pid, f, last, _ in aborted(log)] == [(1, first, first + 2)]
    reopened = crash_and_reopen(log, cut_at=first + 1, torn_bytes=7)  # lost-2 torn, the abort never written
    assert reopened.log_end_offset == first + 1
    assert aborted(reopened) == []  # the crash cut off the marker the old entry named
    after = Writer(reopened)
    after.sequences[1] = 2
    # lost-1's transaction is open again (its coordinator will end it): the LSO waits at its first offset.
    assert after.states.last_stable_offset(reopened, reopened.log_end_offset, build=True) == first
    after.marker(1, commit=False)  # the coordinator's abort, now at offset 3
    after.data(1, [b"new"])
    after.marker(1, commit=True)
    assert aborted(reopened) == [(1, first, first + 1, first + 2)]
    assert read_committed(reopened, reopened.log_end_offset) == [b"kept", b"new"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.data())
def test_after_any_crash_read_committed_gets_exactly_the_surviving_committed_records(script, data) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = open_log(Path(tmp) / "orders-0")
        writer = Writer(log)
        flush_after = data.draw(st.integers(min_value=0, max_value=len(script)))
        offsets = []
        for number, (producer, action) in enumerate(script):
            if number == flush_after:
                log.flush(T0)
            offsets.append(writer.data(producer, [f"{producer}-{number}".encode()]) if action == "send"
                           else writer.marker(producer, action == "commit"))
        unflushed = [offset for offset in offsets if offset >= log.recovery_point]
        cut_at = data.draw(st.sampled_from([None, *unflushed]))
        reopened = crash_and_reopen(log, cut_at, data.draw(st.integers(min_value=0, max_value=80)),
                                    data.draw(st.booleans()))
        survived = [(step, offset) for step, offset in zip(script, offsets, strict=True)
                    if cut_at is None or offset < cut_at]
        assert reopened.log_end_offset == (cut_at if cut_at is not None else log.log_end_offset)
        # What a writer that never crashed would have after the surviving steps.
        open_txns: dict[int, int] = {}
        committed, expected_aborted = [], []
        values: dict[int, list[tuple[int, bytes]]] = {}
        for number, ((producer, action), offset) in enumerate(survived):
            if action == "send":
                open_txns.setdefault(producer, offset)
                values.setdefault(producer, []).append((offset, f"{producer}-{number}".encode()))
                continue
            first = open_txns.pop(producer, None)
            done = values.pop(producer, [])
            if action == "commit":
                committed += done
            elif first is not None:
                expected_aborted.append((producer, first, offset, min(open_txns.values(), default=offset + 1)))
        lso = min(open_txns.values(), default=reopened.log_end_offset)
        assert aborted(reopened) == expected_aborted
        assert ProducerStateManager.from_log(reopened).last_stable_offset(reopened.log_end_offset) == lso
        assert sorted(read_committed(reopened, lso)) == sorted(v for o, v in committed if o < lso)
