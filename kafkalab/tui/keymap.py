"""The user's own keys: a ``keymap`` in kafkalab's config file, checked against the bindings' ids.

Every binding of kafkalab's app, screens and widgets has an id (``broker.kill_broker``,
``clock.pause``, ``lanes.up`` ...; the help screen lists them). The config file's
``keymap`` gives any of them other keys, as Textual's ``App.set_keymap`` takes them::

    keymap:
      broker.kill_broker: K
      screen.events: f5, 5

The file is YAML read safely with positions: a mistake is reported as ``file:line:column``
and a sentence, and the rest of the keymap still applies.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_config_dir
from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

# How Textual spells keys in a keymap ("?" is "question_mark"); Textual is pinned exactly.
from textual.keys import _normalize_key_list

from kafkalab.errors import quoted

if TYPE_CHECKING:
    from kafkalab.scenarios.yaml_source import Mark, Node

#: The modules whose screens and widgets declare bindings. Most load when first shown (issue 18), so the keymap
#: check imports them all first: a key given to a screen not yet opened is as valid as any other.
BINDING_MODULES = (
    "kafkalab.tui.app", "kafkalab.tui.dialog", "kafkalab.tui.forms", "kafkalab.tui.help",
    "kafkalab.tui.screens.events", "kafkalab.tui.screens.lesson_browser", "kafkalab.tui.web_tab",
    "kafkalab.tui.widgets.event_list", "kafkalab.tui.widgets.lanes", "kafkalab.tui.widgets.metadata_lane",
    "kafkalab.tui.widgets.prediction_choices", "kafkalab.tui.widgets.record_list", "kafkalab.tui.widgets.topic_list",
    "kafkalab.tui.widgets.znode_tree",
)
#: What the config file may hold (today only the keymap).
SETTINGS = ("keymap",)
#: A key as Textual names it: modifiers joined with ``+``, then one character or a key name (``f2``, ``space``).
KEY = re.compile(r"((ctrl|shift|alt|super|meta|hyper)\+)*(\S|[a-z0-9_]+)")


def user_config_file() -> Path:
    """kafkalab's config file in the user's config directory (``$XDG_CONFIG_HOME/kafkalab/config.yaml`` on Linux)."""
    return Path(user_config_dir("kafkalab", appauthor=False)) / "config.yaml"


@dataclass(frozen=True)
class UserKeymap:
    """The keys the user gave binding ids, and what was wrong in the file (each ``file:line:column: sentence``)."""

    keys: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()

    def as_keymap(self) -> dict[str, str]:
        """The keymap as ``App.set_keymap`` takes it."""
        return dict(self.keys)


def _kafkalab_nodes(cls: type[DOMNode] = DOMNode) -> Iterator[type[DOMNode]]:
    for subclass in cls.__subclasses__():
        if subclass.__module__.startswith("kafkalab."):
            yield subclass
        yield from _kafkalab_nodes(subclass)


def kafkalab_binding_groups() -> list[list[Binding]]:
    """The bindings kafkalab's app, screens and widgets declare, per class (every module of ``BINDING_MODULES``
    imported first)."""
    for module in BINDING_MODULES:
        importlib.import_module(module)
    groups: dict[type[DOMNode], list[Binding]] = {}
    for node in _kafkalab_nodes():
        declared = [binding for binding in node.__dict__.get("BINDINGS", []) if isinstance(binding, Binding)]
        if declared:
            groups[node] = declared
    return list(groups.values())


def kafkalab_bindings() -> list[Binding]:
    """Every binding kafkalab's app, screens and widgets declare."""
    return [binding for group in kafkalab_binding_groups() for binding in group]


def bindings_by_id(keymap: Mapping[str, str]) -> dict[str, list[Binding]]:
    """Per binding id, its bindings with ``keymap`` applied as Textual applies it: one per key, and none for a
    key the keymap gave another binding of the same class."""
    found: dict[str, list[Binding]] = {}
    for group in kafkalab_binding_groups():
        bindings_map = BindingsMap(group)
        bindings_map.apply_keymap(dict(keymap))
        for key_bindings in bindings_map.key_to_bindings.values():
            for binding in key_bindings:
                if binding.id:
                    found.setdefault(binding.id, []).append(binding)
    return found


def load_keymap(path: Path, app_keys: Mapping[str, str]) -> UserKeymap:
    """The keymap in the config file at ``path`` (none if there is no file), checked against the ids of every
    binding kafkalab declares (``kafkalab_bindings``; read only when there is a file).

    ``app_keys`` (binding id to its default keys, the app's own bindings) finds a key given to a
    command that takes it from another: the keymap wins, as in Textual, and the user is told.
    """
    if not path.exists():
        return UserKeymap()
    # The YAML reader (and PyYAML) loads only when there is a file to read: most starts have none (issue 18).
    from kafkalab.scenarios.validate import suggest
    from kafkalab.scenarios.yaml_source import Mark, SourceError, load_yaml, read_source

    try:
        root = load_yaml(read_source(path), str(path))
    except SourceError as exc:
        return UserKeymap(problems=tuple(f"{mark}: {message}" for mark, message in exc.problems))
    problems: list[str] = []
    start = Mark(str(path), 1, 1)
    if root.value is None:
        return UserKeymap()
    if not isinstance(root.value, dict):
        return UserKeymap(problems=(f"{root.mark}: the config file is a mapping of settings, e.g. keymap: {{...}}",))
    for name in root.value:
        if name not in SETTINGS:
            problems.append(f"{root.key_marks.get(name, start)}: unknown setting {quoted(name)}"
                            f"{suggest(name, list(SETTINGS))}; the config file knows: {', '.join(SETTINGS)}")
    keymap = root.value.get("keymap")
    keys = _keys(keymap, {binding.id for binding in kafkalab_bindings() if binding.id},
                 problems) if keymap is not None else []
    _clashes(keys, app_keys, path, problems)
    return UserKeymap(tuple((binding_id, key) for binding_id, key, _ in keys), tuple(problems))


def _keys(keymap: Node, known: set[str], problems: list[str]) -> list[tuple[str, str, Mark]]:
    """``(binding id, keys, where)`` of each well-formed entry; what is wrong with the others goes to ``problems``."""
    from kafkalab.scenarios.validate import suggest

    if not isinstance(keymap.value, dict):
        problems.append(f"{keymap.mark}: keymap is a mapping of binding ids to keys, e.g. broker.kill_broker: K")
        return []
    keys: list[tuple[str, str, Mark]] = []
    for binding_id, node in keymap.value.items():
        where = keymap.key_marks.get(binding_id, keymap.mark)
        if binding_id not in known:
            problems.append(f"{where}: no binding has the id {quoted(binding_id)}{suggest(binding_id, sorted(known))}; "
                            f"the help screen (?) lists every id")
            continue
        value = str(node.value) if isinstance(node.value, (str, int)) and not isinstance(node.value, bool) else None
        parts = [part.strip() for part in value.split(",")] if value is not None else []
        wrong = [part for part in parts if not KEY.fullmatch(part)]
        if not parts or wrong:
            shown = quoted(wrong[0]) if wrong else quoted(node.plain())
            problems.append(f"{node.mark}: {binding_id}: {shown} is not a key (try K, ctrl+k, f2, space, or "
                            f"several separated by commas)")
            continue
        keys.append((binding_id, _normalize_key_list(",".join(parts)), node.mark))
    return keys


def _clashes(keys: list[tuple[str, str, Mark]], app_keys: Mapping[str, str], path: Path,
             problems: list[str]) -> None:
    """Say where one key now runs a command instead of another."""
    remapped = {binding_id for binding_id, _, _ in keys}
    given: dict[str, str] = {}
    for binding_id, key_list, where in keys:
        for key in key_list.split(","):
            if key in given:
                problems.append(f"{where}: {key} is given to both {given[key]} and {binding_id}; only one can run")
            given[key] = binding_id
            taken = [other for other, defaults in app_keys.items()
                     if other != binding_id and other not in remapped and key in defaults.split(",")]
            for other in taken:
                problems.append(f"{where}: {key} now runs {binding_id} instead of {other}, which is left without "
                                f"that key (give it another in {path.name})")
