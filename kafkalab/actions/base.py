"""The one vocabulary of things a user can do (ARCHITECTURE.md, "Layers").

A TUI form, a YAML scenario step and a lesson step all produce the same frozen
``Action`` objects; running one against a ``Session`` returns its own result type
(``kafkalab/actions/results.py``), named by the class: ``Produce`` is an
``Action[ProduceResult]``.
Each action class names its YAML step (``name``), documents its fields (dataclass
field metadata drives validation, the JSON Schema and the TUI's forms) and may name a
``shorthand`` field so that ``kill_broker: 1`` means ``kill_broker: {broker: 1}``.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from kafkalab.actions.results import ActionResult

if TYPE_CHECKING:
    from kafkalab.session.session import Session

R = TypeVar("R", bound=ActionResult)
#: An action that takes time: a process on the scheduler that returns the action's result.
ActionRun = Generator[Any, Any, R]

#: A step still running after this much virtual time (one hour) is stuck; no wait or timeout is longer.
MAX_STEP_MS = 3_600_000


def doc(text: str, default: Any = MISSING, **rules: Any) -> Any:
    """A dataclass field with documentation and validation rules (``minimum``, ``maximum``, ``check``, ``examples``).

    ``check`` is a function returning what is wrong with a value, or None.
    """
    metadata = {"doc": text, **rules}
    if default is MISSING:
        return field(metadata=metadata)
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Action(Generic[R]):
    """Something a user does to the cluster or its clients, giving a result of type ``R``."""

    #: The step name in YAML and the command name in the TUI.
    step: ClassVar[str] = ""
    #: One sentence shown in help, the palette and the JSON Schema.
    summary: ClassVar[str] = ""
    #: The field a scalar step value fills (``kill_broker: 1``), if any.
    shorthand: ClassVar[str | None] = None
    #: The field the step's whole mapping fills (``expect: {consumed: 1}``), if any.
    inline: ClassVar[str | None] = None

    def run(self, session: Session) -> R | ActionRun[R]:
        """Carry the action out: a result at once, or a process on the scheduler that returns one."""
        raise NotImplementedError(f"{type(self).__name__} must define run()")

    def as_step(self) -> dict[str, Any]:
        """The action as a YAML step (``{name: {field: value}}``), omitting defaults."""
        values = to_plain(self)
        if self.inline is not None:
            values = values.get(self.inline, {})
        return {self.step: values}


def field_default(item: Field[Any]) -> Any:
    """A dataclass field's default value (calling its factory), or ``MISSING`` when it has none."""
    if item.default is not MISSING:
        return item.default
    if item.default_factory is not MISSING:
        return item.default_factory()
    return MISSING


def to_plain(value: Any) -> Any:
    """Dataclasses, tuples and dicts as plain YAML/JSON values; dataclass fields at their default are left out."""
    if is_dataclass(value) and not isinstance(value, type):
        plain: dict[str, Any] = {}
        for item in fields(value):
            current = getattr(value, item.name)
            if current != field_default(item):
                plain[item.name] = to_plain(current)
        return plain
    if isinstance(value, (tuple, list)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


REGISTRY: dict[str, type[Action[Any]]] = {}
A = TypeVar("A", bound=type[Action[Any]])


def register(action_type: A) -> A:
    """Class decorator adding an action to the vocabulary under its ``step`` name."""
    REGISTRY[action_type.step] = action_type
    return action_type
