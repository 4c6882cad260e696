"""The footer that fits: whole keys only, help, quit and the palette always, the other groups as room allows.

Textual's footer lays every key out in one row and lets what does not fit run off the
edge, so on a small terminal "? help" and "q quit" were the first to go. This one leaves
out whole groups of keys instead, the least needed first (``FOOTER_PRIORITY``); the help
screen and the palette still list every key.

It draws the whole row as one line of text rather than a widget per key (Textual's footer
has one per key, plus one per group and label: some fifty widgets, most of the cost of
repainting a screen), and finds the key under the pointer by its columns.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.strip import Strip

from kafkalab.tui.commands import action_summary
from kafkalab.tui.widgets.kept_lines import KeptLines
from kafkalab.tui.widgets.strips import text_strip

#: Footer groups from the most needed to the least ("" is the keys of the screen itself); others come last.
FOOTER_PRIORITY = ("app", "", "screens", "lesson", "play", "topic", "record", "broker", "clock", "consumer", "network",
                   "select", "partition", "session")
#: Columns the command palette's key takes at the right edge (its separator, key, label and padding) and a gap.
PALETTE_WIDTH = 13
#: Drawn left of the palette's key, as Textual's footer draws its ``vkey`` border.
SEPARATOR = "▏"

Shown = tuple[Binding, bool, str]
Runs = list[tuple[Binding.Group | None, list[Shown]]]


@dataclass(frozen=True)
class FooterKey:
    """One key the footer shows and the columns it takes (``start`` to before ``end``)."""

    key: str
    key_display: str
    description: str
    action: str
    enabled: bool
    tooltip: str
    start: int
    end: int


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


def hover_text(key: FooterKey) -> str:
    """What the pointer over ``key`` shows: for a vocabulary action's key the action's summary (its binding has
    none, see ``ActionSpec.binding``), else the binding's tooltip."""
    return action_summary(key.action) or key.tooltip


class LabFooter(KeptLines, can_focus=False):
    """Key bindings of the screen in groups, as many whole groups as fit; a click on a key presses it."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer--key", "footer--description", "footer--hover", "footer--separator"}
    DEFAULT_CSS = """
    LabFooter {
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .footer--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        & > .footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .footer--hover { background: $block-hover-background; }
        & > .footer--separator { color: $foreground 20%; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._ready = False
        #: What the keys were laid out from, the width they were fitted to, and the layout.
        self._laid_out: tuple[Hashable, int, tuple[FooterKey, ...], tuple[tuple[str, str, int], ...]] | None = None
        self._hovered: int | None = None

    # -- what it shows ----------------------------------------------------------------

    def _groups(self) -> Runs:
        """The screen's shown bindings, one per action, in runs of the same group (footer order)."""
        runs: Runs = []
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

    def _choose(self, runs: Runs, width: int) -> set[str]:
        widths: dict[str, int] = {}
        for group, shown in runs:
            name = group.description if group is not None else ""
            keys = [(binding, self.app.get_key_display(binding)) for binding, _, _ in shown]
            widths[name] = widths.get(name, 0) + group_width(group, keys)
        return fitting(list(widths.items()), width - PALETTE_WIDTH)

    def _palette(self) -> tuple[Binding, bool] | None:
        if not self.app.ENABLE_COMMAND_PALETTE:
            return None
        active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        return (active[1], active[2]) if active is not None else None

    def _signature(self, runs: Runs) -> Hashable:
        """Everything the laid-out keys depend on but the width: the bindings shown and their state."""
        return (tuple((group.description if group is not None else None, group.compact if group is not None else None,
                       tuple((binding.key, self.app.get_key_display(binding), binding.action, binding.description,
                              enabled, tooltip) for binding, enabled, tooltip in shown))
                      for group, shown in runs), self._palette())

    def _layout(self) -> tuple[tuple[FooterKey, ...], tuple[tuple[str, str, int], ...]]:
        """The keys and the row's pieces (text, component class or "", index of their key or -1), laid out again
        only when the bindings changed (``bindings_changed`` forgets the layout) or the width did."""
        width = self.size.width or self.app.size.width
        if self._laid_out is not None and self._laid_out[1] == width:
            return self._laid_out[2], self._laid_out[3]
        runs = self._groups()
        signature = self._signature(runs)
        keys: list[FooterKey] = []
        pieces: list[tuple[str, str, int]] = []
        column = 0

        def add(text: str, style: str, key: int = -1) -> None:
            nonlocal column
            pieces.append((text, style, key))
            column += _cells(text)

        def add_key(binding: Binding, enabled: bool, tooltip: str, grouped: bool) -> None:
            display = self.app.get_key_display(binding)
            index, start = len(keys), column
            if grouped:
                add(display, "footer--key", index)
            else:
                add(" ", "", index)
                add(display, "footer--key", index)
                add(f" {binding.description} ", "footer--description", index)
            keys.append(FooterKey(binding.key, display, "" if grouped else binding.description, binding.action,
                                  enabled, tooltip or binding.description, start, column))

        shown_groups = self._choose(runs, width)
        for group, shown in runs:
            if (group.description if group is not None else "") not in shown_groups:
                continue
            if group is not None and group.compact and len(shown) > 1:
                add(" ", "")
                for binding, enabled, tooltip in shown:
                    add_key(binding, enabled, tooltip, grouped=True)
                add(f" {group.description} ", "footer--description")
            else:
                for binding, enabled, tooltip in shown:
                    add_key(binding, enabled, tooltip, grouped=False)
        palette = self._palette()
        if palette is not None:
            binding, enabled = palette
            display = self.app.get_key_display(binding)
            label = f"{SEPARATOR}{display} {binding.description} "
            add(" " * max(0, width - column - _cells(label)), "")
            add(SEPARATOR, "footer--separator")
            index, start = len(keys), column
            add(display, "footer--key", index)
            add(f" {binding.description} ", "footer--description", index)
            keys.append(FooterKey(binding.key, display, binding.description, binding.action, enabled,
                                  binding.tooltip or binding.description, start, column))
        self._laid_out = (signature, width, tuple(keys), tuple(pieces))
        return self._laid_out[2], self._laid_out[3]

    @property
    def keys(self) -> tuple[FooterKey, ...]:
        """The keys shown now, left to right."""
        return self._layout()[0] if self._ready else ()

    def line_key(self, y: int) -> Hashable:
        # The row is kept while its keys, the pointer and the width stay (``KeptLines``): repainting the screen (a
        # screen switch back) does not draw it again.
        if self._ready:
            self._layout()
        return self._ready, self._laid_out, self._hovered

    def render_line(self, y: int) -> Strip:
        return text_strip(self.render(), self.app.console, self.size.width, self.line_style())

    def render(self) -> Text:
        """The row as text (drawn by ``render_line``)."""
        if not self._ready:
            return Text()
        keys, pieces = self._layout()
        styles = {name: self.component_style(name)
                  for name in ("footer--key", "footer--description", "footer--separator")}
        styles[""] = Style()
        hover = self.component_style("footer--hover")
        dim = Style(dim=True)
        line = Text(no_wrap=True, overflow="crop", end="")
        # Runs of one style become one span: a compact group's keys are one piece each.
        run: list[str] = []
        run_style = None
        for text, style, index in pieces:
            rich_style = styles[style]
            if index >= 0:
                if not keys[index].enabled:
                    rich_style += dim
                if index == self._hovered:
                    rich_style += hover
            if rich_style != run_style and run:
                line.append("".join(run), run_style)
                run = []
            run.append(text)
            run_style = rich_style
        if run:
            line.append("".join(run), run_style)
        return line

    def key_at(self, x: int) -> FooterKey | None:
        """The key drawn at column ``x``, if any."""
        return next((key for key in self.keys if key.start <= x < key.end), None)

    # -- events ---------------------------------------------------------------------

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        """The screen's bindings may have changed: draw them again if they did (the layout is kept otherwise)."""
        self._ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen and self._laid_out is not None \
                and self._signature(self._groups()) == self._laid_out[0]:
            return
        self._laid_out = None
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self.key_at(event.x)
        hovered = None if key is None else self.keys.index(key)
        if hovered != self._hovered:
            self._hovered = hovered
            self.tooltip = hover_text(key) if key is not None else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hovered is not None:
            self._hovered = None
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self.key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
