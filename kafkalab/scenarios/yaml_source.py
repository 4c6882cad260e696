"""YAML parsed safely into nodes that remember where they came from.

Scenario and lesson files are shared between people, so they are read with PyYAML's
safe composer only (no tags that build Python objects) and every value keeps its
``file:line:column`` for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml


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


def _mark(file: str, yaml_mark: Any) -> Mark:
    return Mark(file, yaml_mark.line + 1, yaml_mark.column + 1)


def load_yaml(text: str, file: str) -> Node:
    """Parse ``text`` into a Node tree; SourceError on YAML syntax errors or duplicate keys."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise SourceError([(Mark(file, 1, 1), "the file is empty; expected a mapping")])
        return _convert(loader, root, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _mark(file, mark) if mark is not None else Mark(file, 1, 1)
        raise SourceError([(where, f"invalid YAML: {exc.problem or exc.context}")]) from None
    finally:
        loader.dispose()


_STANDARD_TAGS = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                  "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
                  "tag:yaml.org,2002:seq")


def _convert(loader: yaml.SafeLoader, node: yaml.Node, file: str) -> Node:
    mark = _mark(file, node.start_mark)
    if node.tag not in _STANDARD_TAGS:
        raise SourceError([(mark, f"invalid YAML: the tag {node.tag!r} is not allowed (files never build objects)")])
    if isinstance(node, yaml.MappingNode):
        values: dict[str, Node] = {}
        key_marks: dict[str, Mark] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_mark = _mark(file, key_node.start_mark)
            if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                raise SourceError([(key_mark, "expected a plain text key")])
            key = str(key)
            if key in values:
                raise SourceError([(key_mark, f"duplicate key {key!r} (first at {key_marks[key]})")])
            values[key] = _convert(loader, value_node, file)
            key_marks[key] = key_mark
        return Node(values, mark, key_marks)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(loader, item, file) for item in node.value], mark)
    return Node(loader.construct_object(node, deep=True), mark)
