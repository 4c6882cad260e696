"""The machinery shared by Kafka's two sparse segment indexes (Kafka's ``AbstractIndex``).

Entries live in memory as one ``bytearray`` holding exactly the file's big-endian bytes,
so a lookup is a binary search with ``struct.unpack_from`` and persisting is one write
of the new tail. The file is read only when an entry is first needed, and written on
flush, roll and close (with fsync); no descriptor stays open in between. After a truncation the file
is cut at once, so what is on disk is always a prefix of what is in memory.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import ClassVar


class CorruptIndexError(Exception):
    """An index file is missing or fails Kafka's sanity check; the segment rebuilds it from the log."""


class SparseIndex:
    """Fixed-size entries sorted by key, loaded lazily from and persisted to one file."""

    ENTRY_SIZE: ClassVar[int]

    def __init__(self, path: Path, base_offset: int, *, on_disk: bool) -> None:
        self._path = path
        self.base_offset = base_offset
        self._data: bytearray | None = None if on_disk else bytearray()
        #: Bytes of ``_data`` that the file already holds.
        self._persisted = 0
        self._file_exists = on_disk

    @property
    def path(self) -> Path:
        """The index file."""
        return self._path

    def _entries(self) -> bytearray:
        if self._data is None:
            self.load()
        assert self._data is not None
        return self._data

    def load(self) -> None:
        """Read the file if not yet read; CorruptIndexError if it is missing or malformed."""
        if self._data is not None:
            return
        try:
            data = bytearray(self._path.read_bytes())
        except FileNotFoundError:
            raise CorruptIndexError(f"Index file {self._path.name} does not exist.") from None
        if len(data) % self.ENTRY_SIZE:
            raise CorruptIndexError(f"Index file {self._path.name} is corrupt: "
                                    f"{len(data)} bytes is not a multiple of {self.ENTRY_SIZE}.")
        self._check(data)
        self._data = data
        self._persisted = len(data)

    def _check(self, data: bytearray) -> None:
        """Subclasses raise CorruptIndexError when loaded entries are inconsistent."""

    def reset(self) -> None:
        """Drop every entry, in memory and on disk (before a rebuild)."""
        self._data = bytearray()
        self._persisted = 0
        if self._file_exists:
            try:
                os.truncate(self._path, 0)
            except FileNotFoundError:
                self._file_exists = False

    def __len__(self) -> int:
        data = self._data  # loaded, save right after a restart: a segment asks before every append
        return len(data if data is not None else self._entries()) // self.ENTRY_SIZE

    def _append(self, entry: bytes) -> None:
        self._entries().extend(entry)

    def _truncate_to_entries(self, count: int) -> None:
        data = self._entries()
        del data[count * self.ENTRY_SIZE:]
        self._truncate_file(len(data))

    def _truncate_file(self, size: int) -> None:
        if self._persisted > size:
            with open(self._path, "r+b") as file:
                file.truncate(size)
            self._persisted = size

    def _floor_slot(self, target: int, field: struct.Struct, field_offset: int) -> int:
        """Slot of the last entry whose field is <= target, or -1 (Kafka's ``largestLowerBoundSlotFor``)."""
        data = self._entries()
        size = self.ENTRY_SIZE
        high = len(data) // size - 1
        if high < 0 or field.unpack_from(data, field_offset)[0] > target:
            return -1
        low = 0
        unpack = field.unpack_from
        while low < high:
            mid = (low + high + 1) >> 1
            if unpack(data, mid * size + field_offset)[0] <= target:
                low = mid
            else:
                high = mid - 1
        return low

    def write(self) -> None:
        """Write and fsync the entries not yet on disk, creating the file if needed.

        A file created with nothing in it is not fsynced: there are no bytes to make durable, and
        an index lost in a crash is rebuilt from the log. Closing a cluster whose partitions are
        mostly empty (``__consumer_offsets`` has 50) would otherwise cost two fsyncs per replica.
        """
        if self._data is None or (self._file_exists and len(self._data) == self._persisted):
            return
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            if len(self._data) > self._persisted:
                with memoryview(self._data) as view:
                    os.pwrite(fd, view[self._persisted:], self._persisted)
                os.fsync(fd)
        finally:
            os.close(fd)
        self._persisted = len(self._data)
        self._file_exists = True

    def rename(self, path: Path) -> None:
        """Move the index file (if written) to ``path`` and remember the new name."""
        if self._path.exists():
            os.replace(self._path, path)
        self._path = path

    def delete(self) -> None:
        """Remove the index file and forget the entries."""
        self._path.unlink(missing_ok=True)
        self._data = bytearray()
        self._persisted = 0
        self._file_exists = False
