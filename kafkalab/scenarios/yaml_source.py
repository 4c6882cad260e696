"""YAML parsed safely into nodes that remember where they came from.

Scenario and lesson files are shared between people, so they are read as UTF-8 text of
bounded size, parsed into events by PyYAML's safe parser (libyaml's when installed) and
composed here, never into Python objects beyond plain scalars. Composing them ourselves
keeps every value's ``file:line:column`` and bounds what a hostile file can cost: nesting
depth, and the number of values once aliases are expanded (a "billion laughs" file is a
few hundred bytes that expand to 10**9 values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kafkalab.errors import quoted

#: Largest scenario or lesson file read (a 10 MB key still fits; Kafka's max.request.size refuses it).
MAX_SOURCE_BYTES = 16 * 1024 * 1024
#: Deepest nesting of lists and mappings (real files nest fewer than 10 levels).
MAX_DEPTH = 64
#: Most values a file may hold once every alias is expanded (the largest shipped file has a few hundred).
MAX_VALUES = 100_000

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STANDARD_TAGS = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                  "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
                  "tag:yaml.org,2002:seq")


@dataclass(frozen=True)
class Mark:
    """A position in a source file, 1-based as editors show it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class Node:
    """A YAML value with its position; mappings keep the position of each key too."""

    value: Any
    mark: Mark
    key_marks: dict[str, Mark] = field(default_factory=dict)

    def plain(self) -> Any:
        """The value without positions."""
        if isinstance(self.value, dict):
            return {key: child.plain() for key, child in self.value.items()}
        if isinstance(self.value, list):
            return [child.plain() for child in self.value]
        return self.value


class SourceError(Exception):
    """One or more problems in a source file, each with its position."""

    def __init__(self, problems: list[tuple[Mark, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{mark}: {message}" for mark, message in problems))


def read_source(path: Path) -> str:
    """The text of a scenario or lesson file; SourceError if it cannot be read, is too large or is not UTF-8."""
    start = Mark(str(path), 1, 1)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise SourceError([(start, f"cannot read the file: {exc.strerror or exc}")]) from None
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError([(start, f"the file is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB; scenario and "
                                   f"lesson files are small text files")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start:exc.start].decode("utf-8", errors="replace")) + 1
        where = Mark(str(path), data.count(b"\n", 0, exc.start) + 1, column)
        raise SourceError([(where, f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read); "
                                   f"save it as UTF-8")]) from None


def _mark(file: str, yaml_mark: Any) -> Mark:
    return Mark(file, yaml_mark.line + 1, yaml_mark.column + 1)


def load_yaml(text: str, file: str) -> Node:
    """Parse ``text`` into a Node tree; SourceError on YAML syntax errors, duplicate keys or a file too deep or big."""
    try:
        loader = _LOADER(text)  # PyYAML's own reader checks every character here
        try:
            return _Composer(loader, file).document()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _mark(file, mark) if mark is not None else Mark(file, 1, 1)
        raise SourceError([(where, f"invalid YAML: {exc.problem or exc.context}")]) from None
    except yaml.reader.ReaderError as exc:  # a control character: the reader gives an index, not a mark
        before = text[:exc.position]
        where = Mark(file, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        raise SourceError([(where, f"invalid YAML: the character {chr(exc.character)!r} is not allowed in YAML "
                                   f"text")]) from None


@dataclass
class _Open:
    """A list or mapping whose end event has not come yet."""

    node: Node
    anchor: str | None
    #: Values composed before this one started, to size it when it ends (for aliases to it).
    values_before: int
    key: tuple[str, Mark] | None = None


class _Composer:
    """Builds Nodes from parser events without recursion, counting depth and expanded values."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        #: Anchored nodes and how many values each stands for.
        self.anchors: dict[str, tuple[Node, int]] = {}
        self.values = 0

    def document(self) -> Node:
        loader = self.loader
        loader.get_event()  # StreamStartEvent
        if loader.check_event(yaml.StreamEndEvent):
            raise SourceError([(Mark(self.file, 1, 1), "the file is empty; expected a mapping")])
        loader.get_event()  # DocumentStartEvent
        root = self._compose()
        loader.get_event()  # DocumentEndEvent
        if not loader.check_event(yaml.StreamEndEvent):
            extra = loader.get_event()
            raise SourceError([(_mark(self.file, extra.start_mark),
                                "invalid YAML: expected a single document in the file, but found another")])
        return root

    def _fail(self, event: Any, message: str) -> SourceError:
        return SourceError([(_mark(self.file, event.start_mark), message)])

    def _count(self, event: Any, values: int) -> None:
        self.values += values
        if self.values > MAX_VALUES:
            raise self._fail(event, f"the file holds more than {MAX_VALUES:,} values once its aliases are expanded")

    def _compose(self) -> Node:
        stack: list[_Open] = []
        while True:
            event = self.loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    raise self._fail(event, f"the file nests lists and mappings more than {MAX_DEPTH} levels deep")
                is_map = isinstance(event, yaml.MappingStartEvent)
                self._check_tag(event, event.tag or self.loader.resolve(
                    yaml.MappingNode if is_map else yaml.SequenceNode, None, event.implicit))
                self._count(event, 1)
                value: dict[str, Node] | list[Node] = {} if is_map else []
                stack.append(_Open(Node(value, _mark(self.file, event.start_mark)), event.anchor, self.values - 1))
                continue
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                finished = stack.pop()
                node = finished.node
                if finished.anchor is not None:
                    self.anchors[finished.anchor] = (node, self.values - finished.values_before)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in self.anchors:
                    raise self._fail(event, f"invalid YAML: found undefined alias {quoted(event.anchor)}")
                node, size = self.anchors[event.anchor]
                self._count(event, size)
            else:
                node = self._scalar(event)
            if not stack:
                return node
            self._add(stack[-1], node, event)

    def _add(self, parent: _Open, node: Node, event: Any) -> None:
        if isinstance(parent.node.value, list):
            parent.node.value.append(node)
            return
        if parent.key is None:
            key = node.value
            if isinstance(key, (dict, list, bool)) or key is None:
                raise SourceError([(node.mark, "expected a plain text key")])
            parent.key = (str(key), node.mark)
            return
        name, key_mark = parent.key
        parent.key = None
        if name in parent.node.value:
            raise SourceError([(key_mark, f"duplicate key {quoted(name)} (first at {parent.node.key_marks[name]})")])
        parent.node.value[name] = node
        parent.node.key_marks[name] = key_mark

    def _scalar(self, event: Any) -> Node:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        self._check_tag(event, tag)
        self._count(event, 1)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = self.loader.yaml_constructors[tag](self.loader, node)
        except (ValueError, OverflowError):
            # An integer of more than 4,300 digits, for one: Python refuses to convert it.
            raise self._fail(event, f"invalid YAML: {quoted(event.value)} is not a value kafkalab can read") from None
        return Node(value, _mark(self.file, event.start_mark))

    def _check_tag(self, event: Any, tag: str) -> None:
        if tag not in _STANDARD_TAGS:
            raise self._fail(event, f"invalid YAML: the tag {quoted(tag)} is not allowed (files never build objects)")
