"""A segment's ``.timeindex``: sparse timestamp -> offset entries (Kafka's ``TimeIndex``).

Each 12-byte entry is a timestamp (int64) and a relative offset (int32). An entry is
added only when the segment's max timestamp grew, so timestamps and offsets both rise;
its last entry is the segment's largest timestamp, which is how a restarted broker learns
it without reading the log.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from kafkalab.storage.records import NO_TIMESTAMP
from kafkalab.storage.sparse_index import CorruptIndexError, SparseIndex

_ENTRY = struct.Struct(">qi")
_TIMESTAMP = struct.Struct(">q")
_RELATIVE_OFFSET = struct.Struct(">i")


class TimeIndex(SparseIndex):
    """Sorted ``(timestamp, offset)`` entries of one segment."""

    ENTRY_SIZE = 12

    def _check(self, data: bytearray) -> None:
        last = len(data) - self.ENTRY_SIZE
        if data and _TIMESTAMP.unpack_from(data, last)[0] < _TIMESTAMP.unpack_from(data, 0)[0]:
            raise CorruptIndexError(f"Time index file {self.path.name} is corrupt: its last timestamp is below its first.")
        if data and _RELATIVE_OFFSET.unpack_from(data, last + 8)[0] < 0:
            raise CorruptIndexError(f"Time index file {self.path.name} is corrupt: its last offset is below the base offset.")

    def last_entry(self) -> tuple[int, int]:
        """The last ``(timestamp, offset)``, or ``(NO_TIMESTAMP, base offset)`` when empty."""
        data = self._entries()
        if not data:
            return NO_TIMESTAMP, self.base_offset
        timestamp, relative = _ENTRY.unpack_from(data, len(data) - self.ENTRY_SIZE)
        return timestamp, self.base_offset + relative

    def maybe_append(self, timestamp: int, offset: int) -> None:
        """Add an entry if ``timestamp`` is above the last one (Kafka's ``TimeIndex.maybeAppend``)."""
        last_timestamp, last_offset = self.last_entry()
        if timestamp > last_timestamp:
            if offset < last_offset:
                raise ValueError(f"offset {offset} is below the last time-indexed offset {last_offset}")
            self._append(_ENTRY.pack(timestamp, offset - self.base_offset))

    def lookup(self, timestamp: int) -> tuple[int, int]:
        """The last ``(timestamp, offset)`` at or below ``timestamp``; ``(NO_TIMESTAMP, base)`` if none."""
        slot = self._floor_slot(timestamp, _TIMESTAMP, 0)
        if slot < 0:
            return NO_TIMESTAMP, self.base_offset
        found, relative = _ENTRY.unpack_from(self._entries(), slot * self.ENTRY_SIZE)
        return found, self.base_offset + relative

    def truncate_to(self, offset: int) -> None:
        """Remove entries for offsets at or above ``offset`` (Kafka's ``TimeIndex.truncateTo``)."""
        relative = offset - self.base_offset
        slot = self._floor_slot(relative, _RELATIVE_OFFSET, 8)
        if slot < 0:
            keep = 0
        elif _RELATIVE_OFFSET.unpack_from(self._entries(), slot * self.ENTRY_SIZE + 8)[0] == relative:
            keep = slot
        else:
            keep = slot + 1
        self._truncate_to_entries(keep)

    def entries(self) -> Iterator[tuple[int, int]]:
        """Every ``(timestamp, offset)`` entry in order."""
        base = self.base_offset
        for timestamp, relative in _ENTRY.iter_unpack(bytes(self._entries())):
            yield timestamp, base + relative
