"""A segment's ``.index``: sparse offset -> file position entries (Kafka's ``OffsetIndex``).

Each 8-byte entry is a relative offset (int32) and a physical position (int32). The
segment adds one every ``index.interval.bytes`` of appended log, keyed by the last offset
of the batch that starts at that position, so a floor lookup gives a position from which
a short walk over batch headers finds any offset.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from kafkalab.storage.sparse_index import CorruptIndexError, SparseIndex

_ENTRY = struct.Struct(">ii")
_RELATIVE_OFFSET = struct.Struct(">i")


class OffsetIndex(SparseIndex):
    """Sorted ``(offset, position)`` entries of one segment."""

    ENTRY_SIZE = 8

    def _check(self, data: bytearray) -> None:
        if data and _RELATIVE_OFFSET.unpack_from(data, len(data) - self.ENTRY_SIZE)[0] < 0:
            raise CorruptIndexError(f"Index file {self.path.name} is corrupt: its last offset is below the base offset.")

    def append(self, offset: int, position: int) -> None:
        """Add an entry; offsets must grow (Kafka raises ``InvalidOffsetException`` otherwise)."""
        data = self._entries()
        relative = offset - self.base_offset
        if data and relative <= _RELATIVE_OFFSET.unpack_from(data, len(data) - self.ENTRY_SIZE)[0]:
            raise ValueError(f"offset {offset} is not larger than the last indexed offset {self.last_offset}")
        data += _ENTRY.pack(relative, position)

    def lookup(self, offset: int) -> tuple[int, int]:
        """``(offset, position)`` of the last entry at or below ``offset``; ``(base, 0)`` if none."""
        slot = self._floor_slot(offset - self.base_offset, _RELATIVE_OFFSET, 0)
        if slot < 0:
            return self.base_offset, 0
        relative, position = _ENTRY.unpack_from(self._entries(), slot * self.ENTRY_SIZE)
        return self.base_offset + relative, position

    @property
    def last_offset(self) -> int:
        """The largest indexed offset, or the base offset when empty."""
        return self.lookup(2**63 - 1)[0]

    @property
    def last_position(self) -> int:
        """The position of the last entry, or 0 when empty."""
        data = self._entries()
        return _ENTRY.unpack_from(data, len(data) - self.ENTRY_SIZE)[1] if data else 0

    def truncate_to(self, offset: int) -> None:
        """Remove entries for offsets at or above ``offset`` (Kafka's ``OffsetIndex.truncateTo``)."""
        slot = self._floor_slot(offset - self.base_offset, _RELATIVE_OFFSET, 0)
        if slot < 0:
            keep = 0
        elif _RELATIVE_OFFSET.unpack_from(self._entries(), slot * self.ENTRY_SIZE)[0] == offset - self.base_offset:
            keep = slot
        else:
            keep = slot + 1
        self._truncate_to_entries(keep)

    def entries(self) -> Iterator[tuple[int, int]]:
        """Every ``(offset, position)`` entry in order."""
        base = self.base_offset
        for relative, position in _ENTRY.iter_unpack(bytes(self._entries())):
            yield base + relative, position
