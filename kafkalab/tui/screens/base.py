"""The frame every view shares: the clock bar on top, the footer below, a body fed with frames."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from kafkalab.tui.frames import Frame, FrameRequest
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.clock_bar import ClockBar

if TYPE_CHECKING:
    from kafkalab.tui.app import KafkaLabApp


def retitle(widget: Widget, title: str) -> None:
    """Set a border title only when it changes: every assignment repaints the widget."""
    if widget.border_title != title:
        widget.border_title = title


def show_text(widget: Static, text: Text) -> None:
    """Put ``text`` in a fixed-size Static, repainting only when it changed (and never relayouting)."""
    if widget.content != text:
        widget.update(text, layout=False)


class LabScreen(Screen[None]):
    """A view of the cluster; subclasses compose a body, draw frames and say what close-ups they need."""

    #: Shown in the clock bar.
    VIEW_TITLE = ""

    def compose(self) -> ComposeResult:
        yield ClockBar(self.VIEW_TITLE)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """The view's own widgets."""
        return iter(())

    @property
    def lab(self) -> KafkaLabApp:
        """The app, typed."""
        return cast("KafkaLabApp", self.app)

    def show_frame(self, frame: Frame, selection: Selection) -> None:
        """Draw ``frame`` with ``selection`` (called by the app while this screen is visible)."""
        self.query_one(ClockBar).show(frame)
        self.draw(frame, selection)

    def draw(self, frame: Frame, selection: Selection) -> None:
        """Update the body's widgets from ``frame``."""

    def frame_request(self, selection: Selection) -> FrameRequest:
        """The close-ups this view needs for ``selection``."""
        return FrameRequest()

    def __init__(self) -> None:
        super().__init__()
        #: True once the body's widgets exist (a frame may arrive before that).
        self.ready = False

    def on_mount(self) -> None:
        self.ready = True
        self.lab.screen_shown(self)

    def on_screen_resume(self) -> None:
        self.lab.screen_shown(self)
