"""The base of every view that draws logs as lanes of three lines, with the Line API.

Only lines on screen are built, and a lane's lines are kept under a key made of the
data they show (``KeptLines``), so a frame rebuilds only the lanes that changed and a topic
with hundreds of partitions costs no more per frame than one with three.
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kafkalab.tui.widgets.kept_lines import KeptLines
from kafkalab.tui.widgets.strips import text_strip

LINES_PER_LANE = 3
#: Columns left of the cells, for the first drawn offset.
GUTTER = 10
#: Free slots drawn after the log end, where the next records go; wide enough for labels like ``H=E=↑group``.
SPARE = 12


class LaneWidget(ScrollView, KeptLines, can_focus=True):
    """Lanes of three lines each (header, cells, markers); up and down move a selected lane."""

    # The scrollbar's room is kept whether it shows or not: the number of cells asked of the engine
    # never depends on how many lanes there are, and the cells do not shift when a scrollbar appears.
    DEFAULT_CSS = """
    LaneWidget { background: $surface; overflow-x: hidden; scrollbar-gutter: stable; }
    LaneWidget > .lanes--selected { background: $boost; text-style: bold; }
    LaneWidget > .lanes--offline { color: $error; text-style: bold; }
    LaneWidget > .lanes--warning { color: $warning; text-style: bold; }
    LaneWidget > .lanes--dim { color: $text-muted; }
    LaneWidget > .lanes--marker { color: $accent; text-style: bold; }
    LaneWidget > .lanes--hw { color: $success; text-style: bold; }
    """
    COMPONENT_CLASSES = {"lanes--selected", "lanes--offline", "lanes--warning", "lanes--dim", "lanes--marker",
                         "lanes--hw"}
    BINDINGS = [
        Binding("up", "move(-1)", "previous lane", show=False, id="lanes.up", tooltip="Select the lane above."),
        Binding("down", "move(1)", "next lane", show=False, id="lanes.down", tooltip="Select the lane below."),
    ]
    #: Shown on the first line when there are no lanes.
    EMPTY_TEXT = ""

    class LaneChosen(Message):
        """The user selected lane ``index``."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Resized(Message):
        """The width changed, so the engine should send a different number of cells."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selected_lane = 0
        #: The key each lane had when it was last drawn, to repaint only lanes that changed.
        self._drawn: dict[int, Hashable] = {}

    @property
    def cells_width(self) -> int:
        """How many offset cells fit in a lane."""
        return max(8, self.line_width - GUTTER - 1)

    @property
    def record_width(self) -> int:
        """How many of a lane's cells show records: the rest are free slots past the log end.

        A narrow lane keeps at most a third of its cells free (at least ``H=E``'s three), so the
        newest records and the high watermark and log end markers stay in sight.
        """
        cells = self.cells_width
        return cells - max(3, min(SPARE, cells // 3))

    def lane_count(self) -> int:
        """How many lanes to draw."""
        return 0

    def lane_key(self, lane: int) -> Hashable:
        """Everything lane ``lane``'s lines depend on: while it is equal, cached lines are reused."""
        return lane

    def lane_line(self, lane: int, row: int) -> Text | list[Segment]:
        """Line ``row`` (0 header, 1 cells, 2 markers) of lane ``lane``."""
        return Text()

    def redraw(self, selected_lane: int) -> None:
        """Draw again (new data arrived): only visible lanes whose key changed are repainted."""
        size = Size(self.scrollable_content_region.width, self.lane_count() * LINES_PER_LANE)
        if selected_lane != self.selected_lane or size != self.virtual_size:
            self.selected_lane = selected_lane
            self.virtual_size = size
            self.refresh()
            return
        top = self.scroll_offset.y
        width = max(size.width, self.size.width)
        last = min(self.lane_count(), (top + self.size.height + LINES_PER_LANE - 1) // LINES_PER_LANE)
        for lane in range(top // LINES_PER_LANE, last):
            if self._drawn.get(lane) != self.lane_key(lane):
                self.refresh(Region(0, lane * LINES_PER_LANE - top, width, LINES_PER_LANE))

    def scroll_to_selected(self) -> None:
        """Bring the selected lane into view."""
        top = self.selected_lane * LINES_PER_LANE
        height = self.scrollable_content_region.height
        if top < self.scroll_offset.y or top + LINES_PER_LANE > self.scroll_offset.y + height:
            self.scroll_to(y=max(0, top - height // 2), animate=False)

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized())

    def action_move(self, delta: int) -> None:
        if self.lane_count():
            self.post_message(self.LaneChosen((self.selected_lane + delta) % self.lane_count()))

    def on_click(self, event: events.Click) -> None:
        lane = (event.y + self.scroll_offset.y) // LINES_PER_LANE
        if 0 <= lane < self.lane_count():
            self.post_message(self.LaneChosen(lane))

    def line_key(self, y: int) -> Hashable:
        line = y + self.scroll_offset.y
        lane, row = divmod(line, LINES_PER_LANE)
        if lane >= self.lane_count():
            return line == 0
        key = self.lane_key(lane)
        self._drawn[lane] = key
        return key, row, lane == self.selected_lane

    def render_line(self, y: int) -> Strip:
        line = y + self.scroll_offset.y
        lane, row = divmod(line, LINES_PER_LANE)
        style = self.line_style()
        if lane >= self.lane_count():
            text: Text | list[Segment] = Text(self.EMPTY_TEXT if line == 0 else "")
        else:
            text = self.lane_line(lane, row)
            if lane == self.selected_lane and row == 0:
                style = style + self.component_style("lanes--selected")
        return text_strip(text, self.app.console, self.line_width, style)

    def style_of(self, name: str) -> Style:
        """The Rich style of component class ``lanes--<name>``."""
        return self.component_style(f"lanes--{name}")
