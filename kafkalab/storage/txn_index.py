"""A segment's aborted-transaction index, ``<base offset>.txnindex`` (Kafka's ``TransactionIndex`` and ``AbortedTxn``).

Each entry is 34 bytes: version (int16, 0), producer id (int64), the transaction's first
offset, its last offset (the ABORT marker) and the last stable offset when the marker
was written (int64 each). A segment's index holds the transactions whose ABORT marker
landed in that segment; a read_committed fetch collects the entries overlapping the
range it returns, so the consumer can drop those records (KIP-98). Like Kafka's, the
file is created only when the first entry is written.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.files import storage_errors

_ENTRY = struct.Struct(">hqqqq")
#: ``AbortedTxn.TOTAL_SIZE``.
ENTRY_SIZE = _ENTRY.size
#: ``AbortedTxn.CURRENT_VERSION``.
CURRENT_VERSION = 0


@dataclass(frozen=True, slots=True)
class AbortedTxn:
    """One aborted transaction of a producer: its offsets and the LSO when it ended."""

    producer_id: int
    first_offset: int
    last_offset: int
    last_stable_offset: int


def decode_entries(data: bytes, path: Path) -> list[AbortedTxn]:
    """The entries of an index file's bytes; CORRUPT_MESSAGE for a torn entry or an unknown version."""
    if len(data) % ENTRY_SIZE:
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"{path}: {len(data)} bytes is not a whole number of "
                                                 f"{ENTRY_SIZE}-byte aborted transaction entries.")
    entries = []
    for version, producer_id, first, last, lso in _ENTRY.iter_unpack(data):
        if version != CURRENT_VERSION:
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"{path}: aborted transaction entry has version {version}.")
        entries.append(AbortedTxn(producer_id, first, last, lso))
    return entries


class TransactionIndex:
    """The aborted transactions whose markers are in one segment, kept in memory and appended to its file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: list[AbortedTxn] | None = None  # read on first use

    @property
    def entries(self) -> list[AbortedTxn]:
        if self._entries is None:
            with storage_errors(self.path, "read"):
                data = self.path.read_bytes() if self.path.exists() else b""
            # A torn tail (a crash mid-append) loses only that entry, as Kafka's sanityCheck would refuse the file.
            self._entries = decode_entries(data[:len(data) - len(data) % ENTRY_SIZE], self.path)
        return self._entries

    def append(self, txn: AbortedTxn) -> None:
        """Add an entry; offsets must rise, as Kafka's ``append`` demands."""
        entries = self.entries
        if entries and txn.last_offset < entries[-1].last_offset:
            raise KafkaError(Errors.UNKNOWN_SERVER_ERROR,
                             f"The last offset of appended transaction {txn} is smaller than the last offset "
                             f"{entries[-1].last_offset} of {self.path}.")
        with storage_errors(self.path, "append to"), open(self.path, "ab") as file:
            file.write(_ENTRY.pack(CURRENT_VERSION, txn.producer_id, txn.first_offset, txn.last_offset,
                                   txn.last_stable_offset))
        entries.append(txn)

    def collect(self, fetch_offset: int, upper_bound: int) -> list[AbortedTxn]:
        """Entries overlapping [fetch_offset, upper_bound) (``collectAbortedTxns``)."""
        entries = self.entries  # most segments have none: no comprehension for them
        return [txn for txn in entries if txn.last_offset >= fetch_offset and txn.first_offset < upper_bound] \
            if entries else []

    def truncate_to(self, offset: int) -> None:
        """Drop entries whose marker is at or after ``offset`` (a truncated log lost those markers)."""
        entries = self.entries
        kept = [txn for txn in entries if txn.last_offset < offset]
        if len(kept) == len(entries):
            return
        self._entries = kept
        with storage_errors(self.path, "truncate"):
            os.truncate(self.path, len(kept) * ENTRY_SIZE)

    def reset(self) -> None:
        """Empty the index, to be rebuilt from the segment's batches (crash recovery, Kafka's ``reset``)."""
        self.delete()

    def rename(self, path: Path) -> None:
        if self.path.exists():
            with storage_errors(self.path, "rename"):
                os.replace(self.path, path)
        self.path = path

    def delete(self) -> None:
        with storage_errors(self.path, "delete"):
            self.path.unlink(missing_ok=True)
        self._entries = []
