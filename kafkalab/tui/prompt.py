"""A one-field dialog: ask for a line of text (a file path) and check it before closing."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Static

from kafkalab.tui.dialog import Dialog


class TextPrompt(Dialog[str]):
    """Asks for one value; ``check`` returns why a value is refused (None accepts it)."""

    def __init__(self, title: str, help_text: str, value: str, button: str,
                 check: Callable[[str], str | None], keep_clear: Widget | None = None) -> None:
        super().__init__(keep_clear)
        self._title = title
        self._help = help_text
        self._value = value
        self._button = button
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="form-body") as body:
            body.border_title = self._title
            yield Static(self._help, classes="form-help")
            yield Input(self._value, id="prompt-value")
            yield from self.buttons(self._button)

    def action_submit(self) -> None:
        value = self.query_one("#prompt-value", Input).value.strip()
        problem = self._check(value)
        if problem is not None:
            self.notify(problem, title=self._title, severity="error", markup=False)
            return
        self.dismiss(value)
