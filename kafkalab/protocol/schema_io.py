"""Kafka's fixed-width message primitives: int16/32/64, strings, bytes and arrays (non-flexible versions).

The consumer protocol's subscription and assignment and the records of
``__consumer_offsets`` are written with these, in the same byte layout as Kafka's
generated message classes, so a learner who dumps ``__consumer_offsets`` sees Kafka's bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import TypeVar

from kafkalab.errors import Errors, KafkaError

T = TypeVar("T")

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_I8 = struct.Struct(">b")


class Writer:
    """Appends big-endian primitives to a byte buffer."""

    def __init__(self) -> None:
        self._out = bytearray()

    def int8(self, value: int) -> Writer:
        self._out += _I8.pack(value)
        return self

    def int16(self, value: int) -> Writer:
        self._out += _I16.pack(value)
        return self

    def int32(self, value: int) -> Writer:
        self._out += _I32.pack(value)
        return self

    def int64(self, value: int) -> Writer:
        self._out += _I64.pack(value)
        return self

    def string(self, value: str | None) -> Writer:
        """A (nullable) string: int16 length, -1 for null, then UTF-8."""
        if value is None:
            return self.int16(-1)
        encoded = value.encode("utf-8")
        self.int16(len(encoded))
        self._out += encoded
        return self

    def bytes_(self, value: bytes | None) -> Writer:
        """A (nullable) byte string: int32 length, -1 for null."""
        if value is None:
            return self.int32(-1)
        self.int32(len(value))
        self._out += value
        return self

    def array(self, items: Sequence[T], write: Callable[[Writer, T], object]) -> Writer:
        """An int32 count followed by each item."""
        self.int32(len(items))
        for item in items:
            write(self, item)
        return self

    def getvalue(self) -> bytes:
        return bytes(self._out)


class Reader:
    """Reads big-endian primitives from a byte string; malformed input raises CORRUPT_MESSAGE."""

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    def _take(self, size: int) -> int:
        start = self._pos
        if size < 0 or start + size > len(self._data):
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"The {self._what} ends after {len(self._data)} bytes, "
                                                     f"in the middle of a field.")
        self._pos = start + size
        return start

    def int8(self) -> int:
        return _I8.unpack_from(self._data, self._take(1))[0]

    def int16(self) -> int:
        return _I16.unpack_from(self._data, self._take(2))[0]

    def int32(self) -> int:
        return _I32.unpack_from(self._data, self._take(4))[0]

    def int64(self) -> int:
        return _I64.unpack_from(self._data, self._take(8))[0]

    def string(self) -> str | None:
        length = self.int16()
        if length < 0:
            return None
        start = self._take(length)
        try:
            return self._data[start:start + length].decode("utf-8")
        except UnicodeDecodeError:
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"The {self._what} holds a string that is not UTF-8.") from None

    def bytes_(self) -> bytes | None:
        length = self.int32()
        if length < 0:
            return None
        start = self._take(length)
        return self._data[start:start + length]

    def array(self, read: Callable[[Reader], T]) -> list[T]:
        count = self.int32()
        if count < 0:
            return []
        return [read(self) for _ in range(count)]

    @property
    def remaining(self) -> int:
        """Bytes not read yet (newer versions may append fields this reader ignores)."""
        return len(self._data) - self._pos
