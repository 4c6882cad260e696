"""Zigzag varints, the variable-length integers inside a v2 record (Kafka's ``ByteUtils``).

Every length, delta and count inside a record is a zigzag-encoded varint: small
magnitudes (positive or negative) take one byte. Encodings of the small values that
dominate real records are precomputed, so the encoder's hot loop is a table lookup.
"""

from __future__ import annotations

#: Kafka caps a varlong at 10 bytes (``ByteUtils.readVarlong``); more means corrupt data.
MAX_VARINT_BYTES = 10

_TABLE_MIN = -1
_TABLE_MAX = 16_383


def _encode_uncached(value: int) -> bytes:
    zigzag = (value << 1) ^ (value >> 63)
    out = bytearray()
    while zigzag >= 0x80:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


_TABLE: tuple[bytes, ...] = tuple(_encode_uncached(v) for v in range(_TABLE_MIN, _TABLE_MAX + 1))


def encode_varint(value: int) -> bytes:
    """The zigzag varint encoding of ``value`` (a signed 64-bit integer)."""
    if _TABLE_MIN <= value <= _TABLE_MAX:
        return _TABLE[value - _TABLE_MIN]
    return _encode_uncached(value)


def varint_table() -> tuple[tuple[bytes, ...], int, int]:
    """The precomputed encodings and their value range, for encoders that inline the lookup."""
    return _TABLE, _TABLE_MIN, _TABLE_MAX


def read_varint(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """Decode the zigzag varint at ``buf[pos]``; return ``(value, position after it)``.

    Raises ``IndexError`` when the buffer ends inside the varint and ``ValueError`` when it
    is longer than Kafka allows; callers turn both into a corrupt-record error.
    """
    byte = buf[pos]
    if byte < 0x80:
        return (byte >> 1) ^ -(byte & 1), pos + 1
    result = byte & 0x7F
    shift = 7
    end = pos + MAX_VARINT_BYTES
    pos += 1
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
        if pos >= end:
            raise ValueError(f"varint is longer than {MAX_VARINT_BYTES} bytes")
