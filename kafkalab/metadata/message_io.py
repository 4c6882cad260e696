"""Kafka's flexible message encoding, driven by a field schema (what Kafka's generated ``write``/``read`` do).

Flexible versions use unsigned varints for lengths (compact strings and arrays, length + 1,
0 for null) and end every struct with tagged fields: a count, then each tag, its size and
its bytes, written only when the value differs from the field's default. Metadata records
are flexible in every version, so this is all they need.
"""

from __future__ import annotations

import base64
import functools
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kafkalab.errors import Errors, KafkaError

_FIXED = {"int8": struct.Struct(">b"), "int16": struct.Struct(">h"), "uint16": struct.Struct(">H"),
          "int32": struct.Struct(">i"), "int64": struct.Struct(">q"), "bool": struct.Struct(">?")}


@dataclass(frozen=True)
class Field:
    """One field of a message: its attribute, Kafka type, tag (None: not tagged) and default.

    ``kind`` is a Kafka type name (``int32``, ``string``, ``uuid``, ``[]int32`` ...) or
    ``[]struct`` with ``struct`` naming the element's dataclass, which has its own ``FIELDS``.
    """

    attr: str
    kind: str
    tag: int | None = None
    default: Any = None
    struct: type | None = None


def uuid_bytes(value: str) -> bytes:
    """A Uuid as kafkalab prints it (22 url-safe base64 characters; empty is Kafka's ZERO_UUID) as 16 bytes."""
    if not value:
        return bytes(16)
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if len(raw) != 16:
        raise KafkaError(Errors.INVALID_REQUEST, f"{value!r} is not a Uuid.")
    return raw


def uuid_text(raw: bytes) -> str:
    """16 bytes as kafkalab prints a Uuid; the zero Uuid is empty."""
    return "" if raw == bytes(16) else base64.urlsafe_b64encode(raw).decode().rstrip("=")


def write_uvarint(out: bytearray, value: int) -> None:
    """Kafka's ``ByteUtils.writeUnsignedVarint``."""
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


class MessageReader:
    """Reads a flexible message from ``data``, failing with CORRUPT_MESSAGE on a short or bad input."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"A metadata record ends early (needs {size} bytes at "
                                                     f"{self.pos} of {len(self.data)}).")
        chunk = self.data[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def uvarint(self) -> int:
        data, pos = self.data, self.pos
        if pos < len(data) and data[pos] < 0x80:  # most lengths and counts: one byte
            self.pos = pos + 1
            return data[pos]
        value = shift = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 28:
                raise KafkaError(Errors.CORRUPT_MESSAGE, "A varint in a metadata record is longer than 5 bytes.")


def _write_value(out: bytearray, kind: str, value: Any, struct_type: type | None) -> None:
    fixed = _FIXED.get(kind)
    if fixed is not None:
        out += fixed.pack(value)
    elif kind == "uuid":
        out += uuid_bytes(value)
    elif kind == "string":
        if value is None:
            out.append(0)
        else:
            encoded = value.encode("utf-8")
            write_uvarint(out, len(encoded) + 1)
            out += encoded
    elif kind.startswith("[]"):
        if value is None:
            out.append(0)
            return
        write_uvarint(out, len(value) + 1)
        for item in value:
            if kind == "[]struct":
                assert struct_type is not None
                out += encode_message(item, struct_type.FIELDS)  # type: ignore[attr-defined]
            else:
                _write_value(out, kind[2:], item, None)
    else:
        raise ValueError(f"unknown field type {kind}")


FieldReader = Callable[["MessageReader"], Any]


def _fixed_reader(fixed: struct.Struct) -> FieldReader:
    size, unpack = fixed.size, fixed.unpack

    def read(reader: MessageReader) -> Any:
        return unpack(reader.take(size))[0]

    return read


def _read_uuid(reader: MessageReader) -> str:
    return uuid_text(reader.take(16))


def _read_string(reader: MessageReader) -> str | None:
    length = reader.uvarint()
    return None if length == 0 else reader.take(length - 1).decode("utf-8", errors="replace")


def _read_int32_array(reader: MessageReader) -> tuple[int, ...] | None:
    # Replica lists are most of a partition's bytes: one unpack for the whole array.
    count = reader.uvarint()
    return None if count == 0 else struct.unpack(f">{count - 1}i", reader.take(4 * (count - 1)))


def _array_reader(element: FieldReader) -> FieldReader:
    def read(reader: MessageReader) -> tuple[Any, ...] | None:
        count = reader.uvarint()
        return None if count == 0 else tuple(element(reader) for _ in range(count - 1))

    return read


def _field_reader(kind: str, struct_type: type | None) -> FieldReader:
    """The reader of one field's value, chosen once per field rather than per value read."""
    fixed = _FIXED.get(kind)
    if fixed is not None:
        return _fixed_reader(fixed)
    if kind == "uuid":
        return _read_uuid
    if kind == "string":
        return _read_string
    if kind == "[]int32":
        return _read_int32_array
    if kind == "[]struct":
        assert struct_type is not None
        return _array_reader(functools.partial(read_message, message_type=struct_type))
    if kind.startswith("[]"):
        return _array_reader(_field_reader(kind[2:], None))
    raise ValueError(f"unknown field type {kind}")


@functools.cache
def _reading_plan(message_type: type) -> tuple[tuple[tuple[str, FieldReader | None, Any], ...],
                                               dict[int, tuple[str, FieldReader]]]:
    """A message type's fields in order, each with its reader (None for a tagged field: its default until its tag
    comes), and its tagged fields' attribute and reader by tag; worked out once per type."""
    fields: Sequence[Field] = message_type.FIELDS  # type: ignore[attr-defined]
    plan = tuple((field.attr, None if field.tag is not None else _field_reader(field.kind, field.struct), field.default)
                 for field in fields)
    return plan, {field.tag: (field.attr, _field_reader(field.kind, field.struct))
                  for field in fields if field.tag is not None}


def encode_message(message: Any, fields: Sequence[Field]) -> bytes:
    """``message``'s fields in Kafka's flexible layout: untagged fields in order, then the tagged ones set."""
    out = bytearray()
    tagged: list[tuple[int, bytes]] = []
    for field in fields:
        value = getattr(message, field.attr)
        if field.tag is None:
            _write_value(out, field.kind, value, field.struct)
        elif value != field.default:
            body = bytearray()
            _write_value(body, field.kind, value, field.struct)
            tagged.append((field.tag, bytes(body)))
    write_uvarint(out, len(tagged))
    for tag, data in sorted(tagged):
        write_uvarint(out, tag)
        write_uvarint(out, len(data))
        out += data
    return bytes(out)


def read_message(reader: MessageReader, message_type: type) -> Any:
    """A ``message_type`` read from ``reader``; unknown tagged fields are skipped, as Kafka skips them."""
    plan, by_tag = _reading_plan(message_type)
    values = {attr: default if read is None else read(reader) for attr, read, default in plan}
    for _ in range(reader.uvarint()):
        tag, size = reader.uvarint(), reader.uvarint()
        end = reader.pos + size
        tagged = by_tag.get(tag)
        if tagged is None:
            reader.take(size)
            continue
        attr, read = tagged
        values[attr] = read(reader)
        if reader.pos != end:
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"Tagged field {tag} of {message_type.__name__} has a wrong size.")
    return message_type(**values)
