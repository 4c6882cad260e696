"""Turn YAML nodes into typed values (actions, checks) with strict, positioned errors.

Types come from the dataclass field annotations of actions and checks, so the model
that runs is the model that validates: unknown keys (with the closest valid name),
wrong types, missing fields and out-of-range numbers are reported as
``file:line:column: what was expected``. A field's metadata may set ``minimum``,
``maximum`` and ``check`` (a function naming what is wrong with a value); every number
must be finite and every integer fit Kafka's 64-bit ``long``.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from difflib import get_close_matches
from typing import Any, Literal, Union

from kafkalab.errors import QUOTE_LIMIT, quoted
from kafkalab.scenarios.yaml_source import Mark, Node, SourceError

#: Kafka's ``long``: no number in a file may lie outside it.
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1

_TYPE_NAMES = {str: "text", int: "an integer", float: "a number", bool: "true or false", type(None): "nothing"}


def type_name(annotation: Any) -> str:
    """How a type reads in an error message."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in typing.get_args(annotation))
    if origin is tuple:
        return f"a list of {type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(annotation):
        return "a mapping"
    return _TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def suggest(word: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists (never for long words, which only cost time)."""
    if len(word) > QUOTE_LIMIT:
        return ""
    close = get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Builder:
    """Builds typed values from nodes, collecting every problem it finds."""

    def __init__(self) -> None:
        self.problems: list[tuple[Mark, str]] = []

    def fail(self, mark: Mark, message: str) -> None:
        self.problems.append((mark, message))

    def raise_if_failed(self) -> None:
        if self.problems:
            raise SourceError(self.problems)

    def build(self, node: Node, annotation: Any, what: str) -> Any:
        """A value of type ``annotation`` from ``node``; records a problem and returns None if it is not one."""
        value = node.value
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(node.mark, f"{what} must be a finite number, not {value}")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not LONG_MIN <= value <= LONG_MAX:
            self.fail(node.mark, f"{what} must lie within Kafka's 64-bit long ({LONG_MIN} to {LONG_MAX}), "
                                 f"not {quoted(value)}")
            return None
        origin = typing.get_origin(annotation)
        if origin in (Union, types.UnionType):
            return self._union(node, annotation, what)
        if origin is Literal:
            if node.value in typing.get_args(annotation):
                return node.value
            self.fail(node.mark, f"{what} must be {type_name(annotation)}, not {quoted(node.value)}")
            return None
        if origin is tuple:
            return self._tuple(node, typing.get_args(annotation)[0], what)
        if origin is dict:
            return self._dict(node, typing.get_args(annotation)[1], what)
        if dataclasses.is_dataclass(annotation):
            return self.dataclass(node, annotation, what)
        return self._scalar(node, annotation, what)

    def _scalar(self, node: Node, annotation: Any, what: str) -> Any:
        value = node.value
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if annotation is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if annotation is str and number:
            return str(value)
        if annotation is type(None) and value is None:
            return None
        if isinstance(value, annotation) and not (annotation is int and isinstance(value, bool)):
            return value
        shown = "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else quoted(value)
        self.fail(node.mark, f"{what} must be {type_name(annotation)}, not {shown}")
        return None

    def _union(self, node: Node, annotation: Any, what: str) -> Any:
        options = typing.get_args(annotation)
        if node.value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            attempt = Builder()
            value = attempt.build(node, option, what)
            if not attempt.problems:
                return value
            if len([o for o in options if o is not type(None)]) == 1:
                self.problems.extend(attempt.problems)
                return None
        self.fail(node.mark, f"{what} must be {type_name(annotation)}")
        return None

    def _tuple(self, node: Node, item_type: Any, what: str) -> tuple[Any, ...] | None:
        items = node.value if isinstance(node.value, list) else None
        if items is None:
            if dataclasses.is_dataclass(item_type) or not isinstance(node.value, (dict, list)):
                items = [node]  # a single item stands for a list of one
            else:
                self.fail(node.mark, f"{what} must be a list")
                return None
        return tuple(self.build(item, item_type, f"{what}[{index}]") for index, item in enumerate(items))

    def _dict(self, node: Node, value_type: Any, what: str) -> dict[str, Any] | None:
        if not isinstance(node.value, dict):
            self.fail(node.mark, f"{what} must be a mapping")
            return None
        return {key: self.build(child, value_type, f"{what}.{key}") for key, child in node.value.items()}

    def field(self, node: Node, item: dataclasses.Field[Any], annotation: Any, what: str) -> Any:
        """The value of one dataclass field: its type, then its metadata's ``minimum``, ``maximum`` and ``check``."""
        problems_before = len(self.problems)
        value = self.build(node, annotation, what)
        if len(self.problems) > problems_before or value is None:
            return value
        rules = item.metadata
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in rules and value < rules["minimum"]:
                self.fail(node.mark, f"{what} must be at least {rules['minimum']}, not {value}")
            elif "maximum" in rules and value > rules["maximum"]:
                self.fail(node.mark, f"{what} must be at most {rules['maximum']:,}, not {value:,}")
        check = rules.get("check")
        problem = check(value) if check is not None else None
        if problem is not None:
            self.fail(node.mark, f"{what}: {problem}")
        return value

    def dataclass(self, node: Node, cls: Any, what: str, inline: str | None = None) -> Any:
        """An instance of dataclass ``cls``: a mapping of its fields, or a scalar for its shorthand field."""
        hints = typing.get_type_hints(cls)
        params = [f for f in dataclasses.fields(cls) if f.init]
        problems_before = len(self.problems)
        if inline is not None:
            node = Node({inline: node}, node.mark, {inline: node.mark})
        shorthand = getattr(cls, "shorthand", None)
        if not isinstance(node.value, dict):
            if shorthand is None:
                self.fail(node.mark, f"{what} must be a mapping with {', '.join(f.name for f in params)}")
                return None
            node = Node({shorthand: node}, node.mark, {shorthand: node.mark})
        names = [f.name for f in params]
        values: dict[str, Any] = {}
        for key, child in node.value.items():
            if key not in names:
                self.fail(node.key_marks.get(key, child.mark),
                          f"unknown field {quoted(key)} in {what}{suggest(key, names)}; expected one of: "
                          f"{', '.join(names)}")
                continue
            item = next(f for f in params if f.name == key)
            values[key] = self.field(child, item, hints[key], f"{what}.{key}")
        for item in params:
            if item.name not in values and item.default is dataclasses.MISSING \
                    and item.default_factory is dataclasses.MISSING:
                self.fail(node.mark, f"{what} is missing required field {item.name!r}")
        if len(self.problems) > problems_before:
            return None
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            self.fail(node.mark, f"{what}: {exc}")
            return None
