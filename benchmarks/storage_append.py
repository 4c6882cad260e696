"""Append throughput of a PartitionLog against a plain-Python encode-and-write baseline.

Both sides encode the same ~16 KB batches of 100-byte-value records with kafkalab's
codec; the baseline appends them to one file with ``os.write``, the log runs
``append_as_leader`` (CRC check, offset assignment, indexing, rolling). A second pair of
figures appends pre-encoded batches to isolate the log's own overhead. Each figure is
the best of ``--repeat`` runs, each into emptied files, because page-cache writeback
makes single runs noisy.

Run: ``python benchmarks/storage_append.py [--mb 200] [--repeat 3] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kafkalab.config import TopicConfig
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import encode_batch

START_MS = 1_735_689_600_000
VALUE_BYTES = 100
BATCH_BYTES = 16 * 1024

Records = list[tuple[None, bytes, tuple[()], int]]


def _records() -> Records:
    """One batch worth of records: ~16 KB of distinct 100-byte values."""
    count = BATCH_BYTES // (VALUE_BYTES + 8)
    return [(None, (b"%08d" % i) * (VALUE_BYTES // 8) + b"v" * (VALUE_BYTES % 8), (), START_MS + i) for i in range(count)]


def _best_seconds(repeat: int, reset: Callable[[], None], run: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(repeat):
        reset()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _report(label: str, seconds: float, megabytes: float, records: int) -> float:
    rate = megabytes / seconds
    print(f"{label:<42} {rate:8.1f} MB/s {records / seconds / 1e6:7.3f} M records/s  ({seconds:.2f} s)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="megabytes to append per run (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, best one reported (default 3)")
    parser.add_argument("--dir", help="directory for the files (default: a temp dir, removed afterwards)")
    args = parser.parse_args()
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kafkalab-bench-"))
    records = _records()
    sample = encode_batch(records)
    batches = args.mb * 1_000_000 // len(sample)
    megabytes, total_records = batches * len(sample) / 1e6, batches * len(records)
    print(f"{batches} batches x {len(records)} records x {VALUE_BYTES}-byte values = {megabytes:.0f} MB per run, "
          f"best of {args.repeat}, in {root}")
    fd = os.open(root / "baseline.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    log, _ = PartitionLog.open(root / "bench-0", TopicConfig.build(), 0, 0, False, START_MS, FileHandles())
    try:
        def reset_file() -> None:
            os.ftruncate(fd, 0)

        def reset_log() -> None:
            log.truncate_fully_and_start_at(0, START_MS)

        def encode_and_write() -> None:
            for _ in range(batches):
                os.write(fd, encode_batch(records))

        def encode_and_append() -> None:
            for i in range(batches):
                log.append_as_leader(encode_batch(records), 0, START_MS + i)

        def write_only() -> None:
            for _ in range(batches):
                os.write(fd, sample)

        def append_only() -> None:
            for i in range(batches):
                log.append_as_leader(sample, 0, START_MS + i)

        baseline = _report("baseline: encode + os.write", _best_seconds(args.repeat, reset_file, encode_and_write),
                           megabytes, total_records)
        full = _report("PartitionLog: encode + append_as_leader",
                       _best_seconds(args.repeat, reset_log, encode_and_append), megabytes, total_records)
        print(f"{'  ratio':<42} {full / baseline:8.2f}")
        raw = _report("pre-encoded: os.write", _best_seconds(args.repeat, reset_file, write_only), megabytes,
                      total_records)
        log_only = _report("pre-encoded: append_as_leader", _best_seconds(args.repeat, reset_log, append_only),
                           megabytes, total_records)
        print(f"{'  ratio':<42} {log_only / raw:8.2f}")
        print(f"log: end offset {log.log_end_offset}, {len(log.segments())} segment(s), {log.size_in_bytes / 1e6:.0f} MB")
    finally:
        os.close(fd)
        log.close()
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
