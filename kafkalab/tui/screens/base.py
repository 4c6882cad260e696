"""The frame every view shares: the clock bar on top, what the cluster waits for under it, the footer below,
a body fed with frames.

Beside the body sits the side panel of a running lesson or a scenario being played, and
above it the scenario's narration, so a learner or an audience can watch any view. On a
terminal narrower than ``WIDE_COLUMNS`` the panel starts folded (a lesson to a strip under
the views, a scenario's steps out of sight), so the views keep their width; ``t`` unfolds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from kafkalab.tui.frames import Frame, FrameRequest
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.backdrop import Backdrop
from kafkalab.tui.widgets.clock_bar import ClockBar
from kafkalab.tui.widgets.lab_footer import LabFooter
from kafkalab.tui.widgets.lesson_panel import LessonPanel
from kafkalab.tui.widgets.note_banner import NoteBanner
from kafkalab.tui.widgets.play_panel import PlayPanel
from kafkalab.tui.widgets.wait_banner import WaitBanner

if TYPE_CHECKING:
    from kafkalab.tui.app import KafkaLabApp

Panel = TypeVar("Panel", LessonPanel, PlayPanel)

#: Terminals at least this wide show the side panel beside the views unless the user folds it.
WIDE_COLUMNS = 120
#: Terminals at least this tall give the views their roomier heights.
TALL_ROWS = 36


def retitle(widget: Widget, title: str) -> None:
    """Set a border title only when it changes: every assignment repaints the widget."""
    if widget.border_title != title:
        widget.border_title = title


def show_text(widget: Static, text: Text) -> None:
    """Put ``text`` in a fixed-size Static, repainting only when it changed (and never relayouting)."""
    if widget.content != text:
        widget.update(text, layout=False)


class LabScreen(Screen[None], Backdrop):
    """A view of the cluster; subclasses compose a body, draw frames and say what close-ups they need."""

    #: Shown in the clock bar.
    VIEW_TITLE = ""

    def compose(self) -> ComposeResult:
        # The clock bar, narration and footer split the top and bottom off the screen, then a
        # panel splits off the right (app.tcss): the body lays out in what is left, with no
        # wrapper containers, each of which would be re-rendered behind every update.
        yield ClockBar(self.VIEW_TITLE)
        yield WaitBanner()
        yield NoteBanner()
        yield from self.compose_body()
        yield LabFooter()
        # The lesson and scenario panels follow, mounted with the first frame that has a lesson or a play
        # (``_side_panel``): most sessions have neither, and their widgets were half of the screen's (issue 18).

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
        self.query_one(WaitBanner).show(frame.view)
        self._show_side(frame)
        self.draw(frame, selection)

    def _show_side(self, frame: Frame) -> None:
        """The lesson or scenario panel (when there is one and the user has not hidden it) and the narration."""
        lab = self.lab
        unfolded = lab.side_panel_unfolded()
        lesson = lab.lessons.content(frame.lesson) if frame.lesson is not None else None
        lesson_panel = self._side_panel(LessonPanel, "lesson-panel", lesson is not None)
        show_lesson = frame.lesson is not None and lesson is not None and lesson_panel is not None
        if lesson_panel is not None and lesson_panel.display != show_lesson:
            lesson_panel.display = show_lesson
        if show_lesson and lesson_panel is not None and frame.lesson is not None and lesson is not None:
            lesson_panel.show(lesson, frame.lesson, lab.lessons.solution_shown(frame.lesson), folded=not unfolded)
        play_panel = self._side_panel(PlayPanel, "play-panel", frame.play is not None)
        show_play = frame.play is not None and unfolded and play_panel is not None
        if play_panel is not None and play_panel.display != show_play:
            play_panel.display = show_play
        if show_play and play_panel is not None and frame.play is not None:
            play_panel.show(frame.play, frame.clock)
        self.query_one(NoteBanner).show(frame.play.note if frame.play is not None else None)
        self.set_class((show_lesson or show_play) and unfolded, "-with-panel")

    def _side_panel(self, kind: type[Panel], panel_id: str, wanted: bool) -> Panel | None:
        """The screen's lesson or scenario panel once it is mounted; mounted now if ``wanted`` (then None until it
        is: the screen draws again when it is)."""
        mounted = self.query(kind)
        if mounted:
            panel = mounted.first()
            return panel if panel.is_mounted else None
        if wanted:
            self.call_next(self._mount_side_panel, kind(id=panel_id))
        return None

    async def _mount_side_panel(self, panel: Widget) -> None:
        # The screen may have gone meanwhile (the app quits); one frame may ask twice before the first mount is in.
        if self.is_attached and not self.query(type(panel)):
            await self.mount(panel)
            self.lab.redraw()

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

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual (pinned exactly) re-applies the whole stylesheet to every node of a screen it
        # resumes: about half of a screen switch on a large cluster. A mode switch has just brought
        # this screen's CSS up to date (``App.switch_mode`` refreshes it when the app's CSS changed
        # since, which ``_css_update_count`` records), and a class or pseudo-class change restyles
        # its nodes when it happens, so here the pass would change nothing.
        # Textual calls Screen's own handler after this one (it walks the classes); with this
        # handler, a public ``on_screen_resume`` here would not be called.
        if self._css_update_count == self.app._css_update_count:
            event.refresh_styles = False
        self.lab.screen_shown(self)

    def on_resize(self) -> None:
        # Crossing WIDE_COLUMNS folds or unfolds the side panel.
        self.lab.redraw()
