"""Helpers shared by the storage tests: configs, batches and reading a whole log back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kafkalab.config import TopicConfig
from kafkalab.storage import segment as segment_module
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import Record, encode_batch, iter_batch_headers, iter_records

T0 = 1_735_689_600_000


def topic_config(**overrides: Any) -> TopicConfig:
    """A TopicConfig from keyword overrides spelled with underscores (segment_bytes=...)."""
    return TopicConfig.build({key.replace("_", "."): value for key, value in overrides.items()})


def batch(*values: bytes | None, key: bytes | None = b"k", timestamp: int = T0) -> bytes:
    """A producer batch (base offset 0) of records with the same key and consecutive timestamps."""
    return encode_batch([(key, value, (), timestamp + i) for i, value in enumerate(values)])


def keyed_batch(pairs: list[tuple[bytes, bytes | None]], timestamp: int = T0) -> bytes:
    """A producer batch of ``(key, value)`` records."""
    return encode_batch([(key, value, (), timestamp) for key, value in pairs])


def read_all(log: PartitionLog, start: int | None = None, max_offset: int | None = None) -> list[Record]:
    """Every record from ``start`` (default: the log start) as a consumer would fetch them."""
    offset = log.log_start_offset if start is None else start
    records: list[Record] = []
    while offset < log.log_end_offset:
        data = log.read(offset, 4096, max_offset)
        if not data:
            break
        for position, header in iter_batch_headers(data):
            records.extend(r for r in iter_records(data, position, header) if r.offset >= offset)
            offset = header.next_offset
    return records


def record_segment_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, int, int]]:
    """From now on, note ``(log file, position, size)`` of every read of segment data."""
    reads: list[tuple[Path, int, int]] = []
    read_bytes = segment_module.LogSegment.read_bytes

    def noting(self: segment_module.LogSegment, position: int, size: int) -> bytes:
        reads.append((self.log_path, position, size))
        return read_bytes(self, position, size)

    monkeypatch.setattr(segment_module.LogSegment, "read_bytes", noting)
    return reads
