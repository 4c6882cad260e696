"""The help dialog: every key and palette command, read from the same registry as the bindings, and what
the lanes' glyphs mean.

Keys are shown as they are now, with the user's keymap applied, and each bound command
shows the id a keymap gives it another key by.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from kafkalab.tui.cells import COMMITTED, FREE, TXN_ABORTED, TXN_MARKER, TXN_OPEN, UNCOMMITTED
from kafkalab.tui.commands import UI_COMMANDS, action_specs

PALETTE_ONLY = Text("palette", style="dim")


def _key_text(key: str, display: str | None) -> str:
    if display:
        return display
    return key.replace("question_mark", "?").replace(",", " ")


def help_table(screen_bindings: list[Binding], keys: Mapping[str, str] | None = None) -> Table:
    """A table of keys, palette titles, binding ids and what each does.

    ``keys`` maps a binding id to the keys that run it now (a binding missing from it has lost
    its key to another in the user's keymap); without it the registry's default keys show.
    """

    def key(binding_id: str, default: str) -> str | Text:
        if keys is None:
            return default
        return keys.get(binding_id) or PALETTE_ONLY

    table = Table(box=None, expand=True, pad_edge=False, show_header=True, header_style="bold")
    # On a narrow terminal the palette titles and ids wrap rather than push the sentences out of sight.
    table.add_column("key", no_wrap=True, style="bold")
    table.add_column("command palette", min_width=14)
    table.add_column("keymap id", style="dim", min_width=12, overflow="fold")
    table.add_column("what it does")
    for command in UI_COMMANDS:
        if command.key:
            table.add_row(key(command.id, _key_text(command.key, command.key_display)), command.title, command.id,
                          command.help)
        else:
            table.add_row(PALETTE_ONLY, command.title, "", command.help)
    for spec in action_specs():
        if spec.key:
            table.add_row(key(spec.id, spec.key), spec.title, spec.id, spec.help)
        else:
            table.add_row(PALETTE_ONLY, spec.title + " ...", "", spec.help)
    for binding in screen_bindings:
        assert binding.id is not None  # every kafkalab binding has one (tests/tui/test_tui_keymap.py)
        table.add_row(key(binding.id, _key_text(binding.key, binding.key_display)),
                      f"this screen: {binding.description}", binding.id, binding.tooltip)
    table.add_row("ctrl+p", "command palette", "", "Search every command above by name, e.g. \"broker: kill 2\".")
    return table


#: What a lane (dashboard, replication screen) draws, glyph by glyph.
LANE_GLYPHS = (
    (COMMITTED, "a record below the high watermark: committed, what consumers may read"),
    (UNCOMMITTED, "a record above the high watermark: written by the leader, not yet on every in-sync replica"),
    (FREE, "a free slot: where the next records go"),
    (TXN_MARKER, "a transaction marker: the control record that commits or aborts a transaction (KIP-98)"),
    (TXN_ABORTED, "a record of an aborted transaction: it stays in the log, read_committed consumers skip it"),
    (TXN_OPEN, "a record of a transaction still open: read_committed consumers wait for its marker"),
    ("s", "the log start offset: the first offset still on disk"),
    ("H", "the high watermark: offsets below it are on every in-sync replica"),
    ("L", "the last stable offset (LSO): read_committed consumers read only below it, while a transaction is open"),
    ("E", "the log end offset: where the leader writes the next record"),
    ("↑group", "the group's committed offset: where its consumers resume after a restart"),
    ("▲client", "a running consumer's position: what its next poll reads"),
)


def lanes_legend() -> Table:
    """Every glyph and marker of a lane with one sentence each."""
    table = Table(box=None, expand=True, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("lanes", no_wrap=True, style="bold")
    table.add_column("what it shows")
    for glyph, meaning in LANE_GLYPHS:
        table.add_row(glyph, meaning)
    return table


class HelpScreen(ModalScreen[None]):
    """Every key binding and palette command with one sentence each."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "close", id="help.close",
                        tooltip="Close the help.")]

    def __init__(self, screen_bindings: list[Binding], keys: Mapping[str, str] | None = None,
                 config_file: Path | None = None) -> None:
        """``keys``: binding id to the keys that run it now; ``config_file``: where the user's keymap goes."""
        super().__init__()
        self._screen_bindings = screen_bindings
        self._keys = keys
        self._config_file = config_file

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "kafkalab keys"
            body.border_subtitle = "escape to close"
            yield Static(help_table(self._screen_bindings, self._keys))
            yield Static(lanes_legend(), id="help-lanes")
            if self._config_file is not None:
                yield Static(Text.assemble(
                    "\nYour own keys: give a binding id other keys in the keymap of ",
                    (str(self._config_file), "bold"), ", e.g.\n\n", ("keymap:\n  broker.kill_broker: K\n"
                                                                    "  screen.events: f5, 5", "bold")))
