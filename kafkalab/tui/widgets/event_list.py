"""The narrated events, newest first, drawn with the Line API so thousands of them scroll freely."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kafkalab.events.journal import Event
from kafkalab.sim.scheduler import DEFAULT_START_MS
from kafkalab.tui.widgets.lanes import text_strip

#: How each kind of event is tinted in lists (Kafka's failure modes in warm colours).
KIND_STYLES = {
    "broker": "bold #4363d8", "controller": "bold #911eb4", "election": "bold #e6194b", "isr": "bold #f58231",
    "hw": "#3cb44b", "replication": "bold #c2185b", "storage": "#9a6324", "topic": "bold #469990",
    "network": "bold #f032e6", "zookeeper": "#2fa8c4", "produce": "bold #e6194b", "group": "bold #5c6bc0",
    "commit": "#5c6bc0", "producer": "#8a9a1b", "consumer": "bold #2fa8c4",
}


def event_time(event: Event) -> str:
    """Virtual time since the cluster began, as every list shows it."""
    return f"T+{(event.time_ms - DEFAULT_START_MS) / 1000:,.3f}s"


def event_line(event: Event) -> Text:
    """One event as a list line: time, kind, sentence."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(event_time(event).rjust(13), "dim")
    text.append(f"  {event.kind:<11} ", KIND_STYLES.get(event.kind, "bold"))
    text.append(event.describe())
    return text


class EventList(ScrollView, can_focus=True):
    """A cursor over a list of events; the highlighted one is announced for the explain panel."""

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
    ]

    class EventHighlighted(Message):
        """The cursor is on ``event``."""

        def __init__(self, event: Event | None) -> None:
            super().__init__()
            self.event = event

    def __init__(self, id: str | None = None, show_cursor: bool = True) -> None:
        super().__init__(id=id)
        self._events: Sequence[Event] = ()
        self._cursor = 0
        self._show_cursor = show_cursor
        self._followed_seq: int | None = None

    @property
    def highlighted(self) -> Event | None:
        return self._events[self._cursor] if 0 <= self._cursor < len(self._events) else None

    def show(self, events_newest_first: Sequence[Event]) -> None:
        """Show these events; the cursor stays on the event it was on unless it was on the newest."""
        previous = self.highlighted
        self._events = events_newest_first
        if previous is not None and self._cursor > 0:
            self._cursor = next((i for i, e in enumerate(events_newest_first) if e.seq == previous.seq), 0)
        else:
            self._cursor = 0
        self.virtual_size = Size(self.scrollable_content_region.width, len(events_newest_first))
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        current = self.highlighted
        seq = current.seq if current is not None else None
        if seq != self._followed_seq:
            self._followed_seq = seq
            self.post_message(self.EventHighlighted(current))

    def action_move(self, delta: int) -> None:
        if not self._events:
            return
        self._cursor = max(0, min(len(self._events) - 1, self._cursor + delta))
        self.scroll_to_region_of_cursor()
        self.refresh()
        self._announce()

    def action_first(self) -> None:
        self.action_move(-len(self._events))

    def scroll_to_region_of_cursor(self) -> None:
        height = self.scrollable_content_region.height
        if self._cursor < self.scroll_offset.y:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= self.scroll_offset.y + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False)

    def on_click(self, event: events.Click) -> None:
        index = event.y + self.scroll_offset.y
        if 0 <= index < len(self._events):
            self.action_move(index - self._cursor)

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= len(self._events):
            text = Text("  No events yet." if index == 0 and not self._events else "")
        else:
            text = event_line(self._events[index])
            if self._show_cursor and index == self._cursor:
                cursor = "event-list--cursor" if self.has_focus else "event-list--cursor-blurred"
                style = style + self.get_component_rich_style(cursor)
        return text_strip(text, self.app.console, width, style)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

