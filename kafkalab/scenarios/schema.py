"""A JSON Schema for scenario files, generated from the same dataclasses that validate them.

Editors with a YAML language server use it to autocomplete step names and fields and to
flag mistakes as you type (``# yaml-language-server: $schema=...`` or a settings entry).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, Union

from kafkalab.actions.base import REGISTRY
from kafkalab.scenarios.model import ERROR_NAMES, ClusterSpec

_SCALARS = {str: {"type": "string"}, int: {"type": "integer"}, float: {"type": "number"},
            bool: {"type": "boolean"}, type(None): {"type": "null"}}


class _SchemaBuilder:
    def __init__(self) -> None:
        self.definitions: dict[str, Any] = {}

    def type_schema(self, annotation: Any) -> dict[str, Any]:
        origin = typing.get_origin(annotation)
        if origin in (Union, types.UnionType):
            return {"anyOf": [self.type_schema(arg) for arg in typing.get_args(annotation)]}
        if origin is Literal:
            return {"enum": list(typing.get_args(annotation))}
        if origin is tuple:
            item = self.type_schema(typing.get_args(annotation)[0])
            return {"anyOf": [{"type": "array", "items": item}, item]} if "$ref" in item else \
                {"type": "array", "items": item}
        if origin is dict:
            return {"type": "object", "additionalProperties": self.type_schema(typing.get_args(annotation)[1])}
        if dataclasses.is_dataclass(annotation):
            return {"$ref": f"#/$defs/{self.dataclass(annotation)}"}
        return dict(_SCALARS[annotation])

    def dataclass(self, cls: Any, inline: str | None = None) -> str:
        name = cls.__name__
        if name in self.definitions:
            return name
        self.definitions[name] = {}
        hints = typing.get_type_hints(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for item in dataclasses.fields(cls):
            schema = self.type_schema(hints[item.name])
            schema["description"] = item.metadata.get("doc", "")
            for rule in ("minimum", "maximum"):
                if rule in item.metadata:
                    schema[rule] = item.metadata[rule]
            if item.default is not dataclasses.MISSING and item.default is not None:
                schema["default"] = item.default if not isinstance(item.default, tuple) else list(item.default)
            properties[item.name] = schema
            if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
                required.append(item.name)
        body: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            body["required"] = required
        if cls.__doc__:
            body["description"] = " ".join(cls.__doc__.split())
        shorthand = getattr(cls, "shorthand", None)
        if inline is not None:
            self.definitions[name] = self.type_schema(hints[inline])
            return name
        if shorthand is not None:
            body = {"anyOf": [body, self.type_schema(hints[shorthand])]}
        self.definitions[name] = body
        return name


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    builder = _SchemaBuilder()
    options = {"allow_errors": {"type": "boolean", "description": "A Kafka error does not fail the run."},
               "expect_error": {"enum": ERROR_NAMES, "description": "The step must fail with this Kafka error."}}
    steps = []
    for name, action_type in sorted(REGISTRY.items()):
        reference = builder.dataclass(action_type, inline=action_type.inline)
        steps.append({"type": "object", "description": action_type.summary,
                      "properties": {name: {"$ref": f"#/$defs/{reference}"}, **options},
                      "required": [name], "additionalProperties": False})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "kafkalab scenario",
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "What the scenario shows."},
            "description": {"type": "string"},
            "cluster": {"$ref": f"#/$defs/{builder.dataclass(ClusterSpec)}"},
            "steps": {"type": "array", "items": {"anyOf": steps}},
        },
        "required": ["name", "steps"],
        "additionalProperties": False,
        "$defs": builder.definitions,
    }
