"""The base of the small modal dialogs: enter or the first button submits, escape or Cancel closes.

A dialog is its description on top, its fields in a scrolling middle and its buttons at
the bottom, so the description, the first field and the buttons are in sight on any
terminal. It sits beside the lesson or scenario panel rather than over it: the learner
reads the step while filling the form in.
"""

from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Region, Size, Spacing
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input

Result = TypeVar("Result")


def clear_of(panel: Region, screen: Size) -> Spacing:
    """The margin that keeps a dialog off ``panel``: a side panel along the right edge, or a strip along the bottom."""
    if panel.x > 0:
        return Spacing(0, screen.width - panel.x, 0, 0)
    return Spacing(0, 0, screen.height - panel.y, 0)


class Dialog(ModalScreen[Result | None]):
    """A dialog whose subclass decides what submitting means (``action_submit``); cancel dismisses with None."""

    #: The first field gets focus on mount, without Textual scrolling it to the middle of the form.
    AUTO_FOCUS = None
    BINDINGS = [
        Binding("escape", "cancel", "cancel", id="dialog.cancel", tooltip="Close without doing anything."),
        Binding("ctrl+s", "submit", "ok", id="dialog.submit", tooltip="Accept the values."),
        # Priority bindings run on the app's own message loop, before it reads the next key; as
        # ordinary bindings the field that had focus would handle tab, and a key typed right after
        # it would already be queued to that field (a busy machine then types into the wrong one).
        Binding("tab", "app.focus_next", "next field", show=False, priority=True, id="dialog.next_field",
                tooltip="Move to the next field."),
        Binding("shift+tab", "app.focus_previous", "previous field", show=False, priority=True,
                id="dialog.previous_field", tooltip="Move to the previous field."),
    ]

    def __init__(self, keep_clear: Widget | None = None) -> None:
        """``keep_clear``: a panel of the screen below that the dialog must not cover."""
        super().__init__()
        self._keep_clear = keep_clear

    def on_mount(self) -> None:
        panel = self._keep_clear
        if panel is not None and panel.region:
            # A margin on the form, not padding on the screen: a padded screen would crop the panel under it.
            margin = clear_of(panel.region, self.app.size)
            body = self.query_one("#form-body")
            body.styles.margin = margin
            body.styles.max_width = self.app.size.width - margin.width
            body.styles.max_height = self.app.size.height - margin.height
        fields = self.query("Input, Select")
        if fields:
            fields.first().focus(scroll_visible=False)

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
