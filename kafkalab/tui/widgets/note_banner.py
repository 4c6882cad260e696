"""The narration banner across the top of every view while a scenario plays: its latest ``note``."""

from __future__ import annotations

from textual.widgets import Static

from kafkalab.tui.markdown import markdown


class NoteBanner(Static):
    """The newest ``note`` of the scenario being played, large enough for an audience; hidden otherwise."""

    DEFAULT_CSS = """
    NoteBanner {
        height: auto; max-height: 8; padding: 0 2; border: thick $accent; background: $accent 15%;
        text-style: bold; display: none;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._note: str | None = None
        self.border_title = "narration"

    def show(self, note: str | None) -> None:
        """Show ``note`` (None hides the banner)."""
        if note == self._note:
            return
        self._note = note
        self.display = note is not None
        self.update(markdown(note) if note is not None else "")
