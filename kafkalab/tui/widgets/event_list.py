"""The narrated events, newest first, drawn with the Line API so thousands of them scroll freely.

Rows come grouped (``kafkalab/tui/event_rows.py``): repeats show as one line with a count and a time
span, and internal topics' routine events as one fold that enter (or a click) opens.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import UTC, datetime

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kafkalab.events.journal import Event
from kafkalab.sim.scheduler import DEFAULT_START_MS
from kafkalab.tui.event_rows import EventRow
from kafkalab.tui.widgets.kept_lines import KeptLines
from kafkalab.tui.widgets.strips import text_strip

#: How each kind of event is tinted in lists (Kafka's failure modes in warm colours).
KIND_STYLES = {
    "broker": "bold #4363d8", "controller": "bold #911eb4", "election": "bold #e6194b", "isr": "bold #f58231",
    "hw": "#3cb44b", "replication": "bold #c2185b", "storage": "#9a6324", "topic": "bold #469990",
    "network": "bold #f032e6", "zookeeper": "#2fa8c4", "produce": "bold #e6194b", "group": "bold #5c6bc0",
    "commit": "#5c6bc0", "producer": "#8a9a1b", "consumer": "bold #2fa8c4", "quorum": "bold #808000",
}


def event_time(event: Event) -> str:
    """Virtual time since the cluster began, as every list shows it; an attached cluster's events are stamped with
    the wall clock, shown as UTC time of day."""
    if event.wall_clock:
        moment = datetime.fromtimestamp(event.time_ms / 1000, tz=UTC)
        return moment.strftime("%H:%M:%S.") + f"{int(event.time_ms) % 1000:03d}"
    return f"T+{(event.time_ms - DEFAULT_START_MS) / 1000:,.3f}s"


def duration(ms: float) -> str:
    """A span of virtual time, short: ``250 ms``, ``7.2 s``."""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:,.1f} s"


def repeats(row: EventRow) -> str:
    """How many events a row of repeats stands for, over how long: ``× 72 over 7.2 s``."""
    return f"× {row.count:,} " + (f"over {duration(row.span_ms)}" if row.span_ms >= 1 else "at once")


def fold_text(row: EventRow, expanded: bool) -> str:
    """A fold's line: which internal topic, what it holds, how to open it."""
    counts = ", ".join(f"{name} × {count:,}" for name, count in row.fold_counts())
    action = "enter hides them" if expanded else "enter shows them"
    return f"{'▾' if expanded else '▸'} {', '.join(row.fold_topics())}: {counts} ({action})"


def event_line(row: EventRow, expanded: bool = False, depth: int = 0) -> Text:
    """One row as a list line: time, kind, then the sentence (a fold's summary, a repeat's count first)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    newest = row.newest
    text.append(event_time(newest).rjust(13), "dim")
    if depth:
        text.append("  ")
    if row.is_fold:
        text.append(f"  {'internal':<11} ", "dim bold")
        text.append(fold_text(row, expanded), "dim")
        return text
    event = row.summary_event()
    text.append(f"  {event.kind:<11} ", KIND_STYLES.get(event.kind, "bold"))
    if row.count > 1:
        text.append(repeats(row) + ": ", "bold")
    text.append(event.describe())
    return text


class EventList(ScrollView, KeptLines, can_focus=True):
    """A cursor over rows of events; the highlighted row is announced for the explain panel."""

    DEFAULT_CSS = """
    EventList { background: $surface; overflow-x: hidden; }
    EventList > .event-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    EventList > .event-list--cursor-blurred { background: $boost; }
    """
    COMPONENT_CLASSES = {"event-list--cursor", "event-list--cursor-blurred"}
    BINDINGS = [
        Binding("up", "move(-1)", "newer", show=False, id="events.newer", tooltip="Highlight the next newer event."),
        Binding("down", "move(1)", "older", show=False, id="events.older", tooltip="Highlight the next older event."),
        Binding("pageup", "move(-20)", "page up", show=False, id="events.page_up", tooltip="20 events newer."),
        Binding("pagedown", "move(20)", "page down", show=False, id="events.page_down", tooltip="20 events older."),
        Binding("home", "first", "newest", show=False, id="events.newest", tooltip="Back to the newest event."),
        Binding("enter", "toggle_fold", "open fold", show=False, id="events.toggle_fold",
                tooltip="Show or hide the internal topics' events folded under the highlighted line."),
    ]

    class EventHighlighted(Message):
        """The cursor is on ``row``."""

        def __init__(self, row: EventRow | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, id: str | None = None, show_cursor: bool = True) -> None:
        super().__init__(id=id)
        self._rows: Sequence[EventRow] = ()
        #: What is drawn: each visible row and its depth (a fold's open rows are one deeper).
        self._lines: list[tuple[EventRow, int]] = []
        self._expanded: set[int] = set()
        self._cursor = 0
        self._show_cursor = show_cursor
        self._followed: tuple[int, int] | None = None

    @property
    def highlighted(self) -> EventRow | None:
        return self._lines[self._cursor][0] if 0 <= self._cursor < len(self._lines) else None

    @property
    def rows(self) -> Sequence[EventRow]:
        """The rows shown, newest first (a fold's own rows inside it)."""
        return self._rows

    def show(self, rows_newest_first: Sequence[EventRow]) -> None:
        """Show these rows; the cursor stays on the row it was on unless it was on the newest."""
        if rows_newest_first is self._rows:
            return
        self._rows = rows_newest_first
        self._relayout()

    def _relayout(self) -> None:
        previous = self.highlighted
        self._lines = [(row, 0) for row in self._rows]
        if self._expanded:
            self._lines = [line for row in self._rows for line in (
                [(row, 0), *((member, 1) for member in row.members)] if row.row_id in self._expanded else [(row, 0)])]
        if previous is not None and self._cursor > 0:
            self._cursor = next((i for i, (row, _) in enumerate(self._lines) if row.row_id == previous.row_id), 0)
        else:
            self._cursor = 0
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._lines))
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        current = self.highlighted
        followed = None if current is None else (current.row_id, current.count)
        if followed != self._followed:
            self._followed = followed
            self.post_message(self.EventHighlighted(current))

    def action_move(self, delta: int) -> None:
        if not self._lines:
            return
        self._cursor = max(0, min(len(self._lines) - 1, self._cursor + delta))
        self.scroll_to_region_of_cursor()
        self.refresh()
        self._announce()

    def action_first(self) -> None:
        self.action_move(-len(self._lines))

    def action_toggle_fold(self) -> None:
        """Open or close the fold under the cursor."""
        current = self.highlighted
        if current is None or not current.is_fold:
            return
        self._expanded ^= {current.row_id}
        self._relayout()

    def scroll_to_region_of_cursor(self) -> None:
        height = self.scrollable_content_region.height
        if self._cursor < self.scroll_offset.y:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= self.scroll_offset.y + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False)

    def on_click(self, event: events.Click) -> None:
        index = event.y + self.scroll_offset.y
        if 0 <= index < len(self._lines):
            self.action_move(index - self._cursor)
            self.action_toggle_fold()

    def line_key(self, y: int) -> Hashable:
        index = y + self.scroll_offset.y
        if index >= len(self._lines):
            return index == 0 and not self._lines
        row, depth = self._lines[index]
        cursor = self._show_cursor and index == self._cursor
        return row, depth, row.row_id in self._expanded, cursor, cursor and self.has_focus

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        style = self.line_style()
        if index >= len(self._lines):
            text = Text("  No events yet." if index == 0 and not self._lines else "")
        else:
            row, depth = self._lines[index]
            text = event_line(row, row.row_id in self._expanded, depth)
            if self._show_cursor and index == self._cursor:
                cursor = "event-list--cursor" if self.has_focus else "event-list--cursor-blurred"
                style = style + self.component_style(cursor)
        return text_strip(text, self.app.console, width, style)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
