"""Forms generated from an action's fields: one input per field, typed by the scenario validator.

A field's docstring-like ``doc`` metadata is its hint and its ``examples`` its
placeholder. Input is read as a YAML flow value (``[1, zk]``, ``{retention.ms: 1000}``)
and typed and checked by the same ``Builder`` that validates scenario files (bounds,
templates), so a form accepts exactly what a scenario step would.
"""

from __future__ import annotations

import typing
from dataclasses import MISSING, Field, dataclass, fields
from typing import Any, Literal

import yaml
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from kafkalab.actions.base import Action, field_default
from kafkalab.errors import Errors, KafkaError
from kafkalab.scenarios.validate import Builder
from kafkalab.scenarios.yaml_source import Mark, Node
from kafkalab.tui.commands import ActionSpec, Values
from kafkalab.tui.dialog import Dialog
from kafkalab.tui.flow import flow
from kafkalab.tui.prose import prose

_FORM_MARK = Mark("form", 1, 1)


def _node(value: Any) -> Node:
    if isinstance(value, dict):
        return Node({str(k): _node(v) for k, v in value.items()}, _FORM_MARK, {str(k): _FORM_MARK for k in value})
    if isinstance(value, list):
        return Node([_node(v) for v in value], _FORM_MARK)
    return Node(value, _FORM_MARK)


def _is_text(annotation: Any) -> bool:
    """True for ``str`` and ``str | None`` fields, whose input is taken literally."""
    return annotation is str or set(typing.get_args(annotation)) == {str, type(None)}


def _required(item: Field[Any]) -> bool:
    return item.default is MISSING and item.default_factory is MISSING


def parse_action(action_type: type[Action], texts: dict[str, str]) -> Action:
    """The action the form's texts describe; KafkaError(INVALID_ARGUMENT) naming every bad field."""
    hints = typing.get_type_hints(action_type)
    builder = Builder()
    values: dict[str, Any] = {}
    for item in fields(action_type):
        text = texts.get(item.name, "").strip()
        if not text:
            if _required(item):
                builder.fail(_FORM_MARK, f"{item.name} is required")
            continue
        if _is_text(hints[item.name]):
            values[item.name] = builder.field(Node(text, _FORM_MARK), item, hints[item.name], item.name)
            continue
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError:
            builder.fail(_FORM_MARK, f"{item.name}: {text!r} is not a value (try 3, [1, zk] or {{key: value}})")
            continue
        values[item.name] = builder.field(_node(raw), item, hints[item.name], item.name)
    if builder.problems:
        raise KafkaError(Errors.INVALID_ARGUMENT, "; ".join(message for _, message in builder.problems))
    try:
        return action_type(**values)
    except (TypeError, ValueError) as exc:
        raise KafkaError(Errors.INVALID_ARGUMENT, str(exc)) from None


class ChoiceField(Select[str]):
    """A dropdown in a form: enter on it closed runs the form, as on a text field; down, up or space open it."""

    BINDINGS = [
        Binding("enter", "screen.submit", "run", show=False, id="form.run_from_choice",
                tooltip="Run the form (down, up or space open the list)."),
        Binding("down,up,space", "show_overlay", "open", show=False, id="form.open_choice",
                tooltip="Open the list of choices."),
    ]


Texts = dict[str, str]


@dataclass(frozen=True)
class Submitted:
    """What a form hands over: the action, and the texts it was typed as (to offer again if it fails)."""

    action: Action
    texts: Texts


class ActionForm(Dialog[Submitted]):
    """A small dialog that builds one action; dismisses with it, or None when cancelled.

    A field with ``choices`` (the values it may take now, such as the running producers' ids) is a list to
    pick from rather than a text to type.
    """

    def __init__(self, spec: ActionSpec, values: Values, keep_clear: Widget | None = None,
                 choices: dict[str, list[str]] | None = None) -> None:
        super().__init__(keep_clear)
        self.spec = spec
        self.values = values
        self.choices = choices or {}

    def compose(self) -> ComposeResult:
        action_type = self.spec.action_type
        hints = typing.get_type_hints(action_type)
        with Vertical(id="form-body") as body:
            body.border_title = self.spec.title
            yield Static(prose(self.spec.help), classes="form-help")
            with VerticalScroll(id="form-fields"):
                for item in fields(action_type):
                    yield Label(item.name + ("" if not _required(item) else " *"), classes="form-label")
                    yield self._field_widget(item, hints[item.name])
                    yield Static(prose(item.metadata.get("doc", "")), classes="form-doc")
            yield from self.buttons("Run")

    def _field_widget(self, item: Field[Any], annotation: Any) -> Input | Select[str]:
        value = self.values.get(item.name, None if _required(item) else field_default(item))
        if typing.get_origin(annotation) is Literal or item.name in self.choices:
            options = (self.choices[item.name] if item.name in self.choices
                       else [flow(option) for option in typing.get_args(annotation)])
            shown = flow(value)
            return ChoiceField([(option, option) for option in options],
                               value=shown if shown in options else Select.NULL, id=f"field-{item.name}",
                               allow_blank=not _required(item) or not options,
                               prompt="none running" if not options else "Select")
        examples = item.metadata.get("examples") or []
        placeholder = f"e.g. {flow(examples[0])}" if examples else ("" if _required(item) else "default")
        return Input(flow(value) if value not in ({}, ()) else "", placeholder=placeholder, id=f"field-{item.name}")

    def _texts(self) -> Texts:
        texts: Texts = {}
        for item in fields(self.spec.action_type):
            widget = self.query_one(f"#field-{item.name}")
            if isinstance(widget, Select):
                texts[item.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                texts[item.name] = widget.value
        return texts

    def action_submit(self) -> None:
        texts = self._texts()
        try:
            action = parse_action(self.spec.action_type, texts)
        except KafkaError as exc:
            self.notify(exc.message, title=exc.name, severity="error", markup=False)
            return
        self.dismiss(Submitted(action, texts))
