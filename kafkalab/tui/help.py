"""The help dialog: every key and palette command, read from the same registry as the bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from kafkalab.tui.commands import UI_COMMANDS, action_specs


def _key_text(key: str, display: str | None) -> str:
    if display:
        return display
    return key.replace("question_mark", "?").replace(",", " ")


def help_table(screen_bindings: list[Binding]) -> Table:
    """A table of keys, palette titles and what each does."""
    table = Table(box=None, expand=True, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("key", no_wrap=True, style="bold")
    table.add_column("command palette", no_wrap=True)
    table.add_column("what it does", ratio=1)
    for command in UI_COMMANDS:
        key = _key_text(command.key, command.key_display) if command.key else Text("palette", style="dim")
        table.add_row(key, command.title, command.help)
    for spec in action_specs():
        table.add_row(spec.key or Text("palette", style="dim"), spec.title + ("" if spec.key else " ..."), spec.help)
    for binding in screen_bindings:
        table.add_row(_key_text(binding.key, binding.key_display), f"this screen: {binding.description}",
                      binding.tooltip)
    table.add_row("ctrl+p", "command palette", "Search every command above by name, e.g. \"broker: kill 2\".")
    return table


class HelpScreen(ModalScreen[None]):
    """Every key binding and palette command with one sentence each."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "close", id="help.close",
                        tooltip="Close the help.")]

    def __init__(self, screen_bindings: list[Binding]) -> None:
        super().__init__()
        self._screen_bindings = screen_bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "kafkalab keys"
            body.border_subtitle = "escape to close"
            yield Static(help_table(self._screen_bindings))
