"""The base of the small modal dialogs: enter or the first button submits, escape or Cancel closes."""

from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Input

Result = TypeVar("Result")


class Dialog(ModalScreen[Result | None]):
    """A dialog whose subclass decides what submitting means (``action_submit``); cancel dismisses with None."""

    AUTO_FOCUS = "Input, Select"
    BINDINGS = [
        Binding("escape", "cancel", "cancel", id="dialog.cancel", tooltip="Close without doing anything."),
        Binding("ctrl+s", "submit", "ok", id="dialog.submit", tooltip="Accept the values."),
    ]

    def buttons(self, submit_label: str) -> ComposeResult:
        """The dialog's two buttons, to yield at the end of ``compose``."""
        with Horizontal(classes="form-buttons"):
            yield Button(submit_label, variant="primary", id="dialog-submit")
            yield Button("Cancel", id="dialog-cancel")

    def action_submit(self) -> None:
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "dialog-submit":
            self.action_submit()
        else:
            self.action_cancel()
