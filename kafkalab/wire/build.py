"""Build a kio message of any version from one version-independent tree of plain values.

Adapters describe a response once, with every field any version has (``topic_id``,
``leader_epoch``, ``error_message`` ...); ``materialize`` keeps the fields the chosen
version's generated class declares and drops the rest, as Kafka's generated
``write()`` ignores fields a version does not carry. Plain values are converted to
kio's types: milliseconds to ``timedelta``, Kafka ``Errors`` to ``ErrorCode``, topic
ids (22-character base64) to ``UUID``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from typing import Any, TypeVar

from kio.schema.errors import ErrorCode

from kafkalab.errors import Errors

E = TypeVar("E")
Converter = Callable[[Any], Any]

#: Kafka's ``Uuid.ZERO_UUID``: what a response carries when there is no topic id.
ZERO_UUID = uuid.UUID(int=0)
#: Topic ids converted and kept, each way: a consumer's every Fetch (v13+) names its topics by id and gets them back
#: by id, and a conversion is a base64 step and a ``UUID`` built (some 12 Python calls). Bounded: a client may send
#: ids of topics that never existed.
TOPIC_IDS_KEPT = 1024


@lru_cache(maxsize=TOPIC_IDS_KEPT)
def uuid_of(topic_id: str) -> uuid.UUID:
    """A topic id as kafkalab prints it (url-safe base64, no padding) as a UUID; empty is the zero UUID."""
    if not topic_id:
        return ZERO_UUID
    return uuid.UUID(bytes=base64.urlsafe_b64decode(topic_id + "=" * (-len(topic_id) % 4)))


def topic_id_of(value: uuid.UUID | None) -> str:
    """A UUID as kafkalab prints topic ids; the zero UUID (or none) is empty."""
    return "" if value is None else _topic_id_of_int(value.int)


@lru_cache(maxsize=TOPIC_IDS_KEPT)
def _topic_id_of_int(value: int) -> str:
    # Kept by the UUID's int, not the UUID: a UUID's hash and equality are Python calls (``uuid.py``), and a
    # consumer's every Fetch (v13+) brings a new UUID object for the same topic.
    if not value:
        return ""
    return base64.urlsafe_b64encode(value.to_bytes(16, "big")).decode().rstrip("=")


#: The unit ``millis`` divides by, built once: every produce and fetch request carries a duration.
_MILLISECOND = datetime.timedelta(milliseconds=1)


def millis(value: datetime.timedelta | int | None) -> int:
    """A kio duration field as whole milliseconds."""
    if value is None:
        return 0
    if isinstance(value, datetime.timedelta):
        return int(value / _MILLISECOND)
    return int(value)


def _error_code(value: Any) -> ErrorCode:
    if isinstance(value, Errors):
        value = value.code
    try:
        return ErrorCode(int(value))
    except ValueError:
        return ErrorCode.unknown_server_error


def _duration(value: Any) -> datetime.timedelta:
    return value if isinstance(value, datetime.timedelta) else datetime.timedelta(milliseconds=int(value or 0))


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid_of(str(value or ""))


def _datetime(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromtimestamp(int(value) / 1000, datetime.UTC)


def _is_entity(cls: Any) -> bool:
    return isinstance(cls, type) and dataclasses.is_dataclass(cls)


def _converter(hint: Any) -> tuple[Converter, Callable[[], Any]]:
    """How to convert a plain value to ``hint``, and the value a field gets when the tree leaves it out."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        convert, _ = _converter(inner)
        return (lambda v: None if v is None else convert(v)), lambda: None
    if origin is tuple:
        item_convert, _ = _converter(typing.get_args(hint)[0])
        return (lambda v: tuple(item_convert(item) for item in v or ())), tuple
    if _is_entity(hint):
        return (lambda v: v if isinstance(v, hint) else materialize(hint, v or {})), lambda: materialize(hint, {})
    if isinstance(hint, type):
        if issubclass(hint, ErrorCode):
            return _error_code, lambda: ErrorCode.none
        if issubclass(hint, datetime.timedelta):
            return _duration, lambda: datetime.timedelta(0)
        if issubclass(hint, datetime.datetime):
            return _datetime, lambda: _datetime(-1)
        if issubclass(hint, uuid.UUID):
            return _uuid, lambda: ZERO_UUID
        if issubclass(hint, bool):
            return bool, lambda: False
        if issubclass(hint, bytes):
            return bytes, bytes
        if issubclass(hint, str):
            # A null where this version has a non-nullable string (JoinGroup's protocol name before v7) is empty.
            return (lambda v: "" if v is None else str(v)), str
        if issubclass(hint, int):
            return int, int
    return (lambda v: v), lambda: None


@cache
def _plan(cls: type) -> tuple[tuple[str, Converter, Callable[[], Any] | None], ...]:
    hints = typing.get_type_hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        convert, zero = _converter(hints[f.name])
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        plan.append((f.name, convert, None if has_default else zero))
    return tuple(plan)


def materialize(cls: type[E], tree: Mapping[str, Any]) -> E:
    """An instance of the kio class ``cls`` holding the fields of ``tree`` it declares."""
    values: dict[str, Any] = {}
    for name, convert, zero in _plan(cls):  # type: ignore[arg-type]  # kio classes are hashable types
        if name in tree:
            values[name] = convert(tree[name])
        elif zero is not None:
            values[name] = zero()
    return cls(**values)
