"""The footer that fits: whole keys only, help, quit and the palette always, the other groups as room allows.

Textual's footer lays every key out in one row and lets what does not fit run off the
edge, so on a small terminal "? help" and "q quit" were the first to go. This one leaves
out whole groups of keys instead, the least needed first (``FOOTER_PRIORITY``); the help
screen and the palette still list every key.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

# Textual's footer pieces: kafkalab's footer arranges them itself (Textual is pinned exactly).
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

#: Footer groups from the most needed to the least ("" is the keys of the screen itself); others come last.
FOOTER_PRIORITY = ("app", "", "screens", "lesson", "play", "topic", "record", "broker", "clock", "consumer", "network",
                   "select", "partition", "session")
#: Columns the command palette's key takes at the right edge (its separator, key, label and padding) and a gap.
PALETTE_WIDTH = 13

Shown = tuple[Binding, bool, str]


def _cells(text: str) -> int:
    return Text(text).cell_len


def group_width(group: Binding.Group | None, keys: list[tuple[Binding, str]]) -> int:
    """Columns a group takes: `` ␣.>+- clock `` for a compact group, else `` key description `` per key."""
    if group is not None and group.compact and len(keys) > 1:
        return 1 + sum(_cells(display) for _, display in keys) + 1 + _cells(group.description) + 1
    return sum(1 + _cells(display) + 1 + _cells(binding.description) + 1 for binding, display in keys)


def fitting(widths: list[tuple[str, int]], width: int) -> set[str]:
    """The groups (name, columns) to show in ``width`` columns: by ``FOOTER_PRIORITY`` while they fit, the first
    group always."""

    def rank(name: str) -> int:
        return FOOTER_PRIORITY.index(name) if name in FOOTER_PRIORITY else len(FOOTER_PRIORITY)

    chosen: set[str] = set()
    room = width
    for name, columns in sorted(widths, key=lambda item: rank(item[0])):
        if columns <= room or not chosen:
            chosen.add(name)
            room -= columns
    return chosen


class LabFooter(Footer):
    """Key bindings of the screen in groups, as many whole groups as fit."""

    DEFAULT_CSS = """
    LabFooter FooterKey.-single { padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown_groups: set[str] | None = None
        #: What the keys were composed from, to skip a recompose that would build the same keys.
        self._composed: Hashable = None

    def _groups(self) -> list[tuple[Binding.Group | None, list[Shown]]]:
        """The screen's shown bindings, one per action, in runs of the same group (footer order)."""
        runs: list[tuple[Binding.Group | None, list[Shown]]] = []
        actions: set[str] = set()
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in actions:
                continue
            actions.add(binding.action)
            if runs and runs[-1][0] == binding.group:
                runs[-1][1].append((binding, enabled, tooltip))
            else:
                runs.append((binding.group, [(binding, enabled, tooltip)]))
        return runs

    def _choose(self, runs: list[tuple[Binding.Group | None, list[Shown]]]) -> set[str]:
        widths: dict[str, int] = {}
        for group, shown in runs:
            name = group.description if group is not None else ""
            keys = [(binding, self.app.get_key_display(binding)) for binding, _, _ in shown]
            widths[name] = widths.get(name, 0) + group_width(group, keys)
        width = (self.size.width or self.app.size.width) - PALETTE_WIDTH
        return fitting(list(widths.items()), width)

    def _signature(self, runs: list[tuple[Binding.Group | None, list[Shown]]]) -> Hashable:
        """Everything the composed keys depend on: the bindings shown, their state and the groups that fit."""
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        return (tuple((group.description if group is not None else None, group.compact if group is not None else None,
                       tuple((binding.key, binding.action, binding.description, enabled, tooltip)
                             for binding, enabled, tooltip in shown))
                      for group, shown in runs),
                frozenset(self._choose(runs)), palette[2] if palette is not None else None)

    def bindings_changed(self, screen: Screen) -> None:
        # Textual recomposes the footer whenever the screen's bindings may have changed, which a
        # screen switch always says: ~50 keys rebuilt and restyled, most of a switch. Skip it when
        # the keys would come out the same.
        if self._bindings_ready and self.is_attached and screen is self.screen and screen.app.app_focus \
                and self._signature(self._groups()) == self._composed:
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        runs = self._groups()
        self._composed = self._signature(runs)
        self._shown_groups = self._choose(runs)
        for group, shown in runs:
            if (group.description if group is not None else "") not in self._shown_groups:
                continue
            if group is not None and group.compact and len(shown) > 1:
                with KeyGroup(classes="-compact"):
                    yield from self._keys(shown, grouped=True)
                yield FooterLabel(group.description)
            else:
                yield from self._keys(shown, grouped=False)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
            if active is not None:
                _, binding, enabled, _ = active
                yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                                classes="-command-palette", disabled=not enabled,
                                tooltip=binding.tooltip or binding.description)

    def _keys(self, shown: Iterable[Shown], grouped: bool) -> ComposeResult:
        for binding, enabled, tooltip in shown:
            yield FooterKey(binding.key, self.app.get_key_display(binding), "" if grouped else binding.description,
                            binding.action, disabled=not enabled, tooltip=tooltip or binding.description,
                            classes="-grouped" if grouped else "-single")

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and self._shown_groups is not None and self._choose(self._groups()) != \
                self._shown_groups:
            self.call_after_refresh(self.recompose)
