"""The topic list: one line per topic, drawn with the Line API and kept per row (``KeptLines``).

Record counts change on every frame while producers run; only the rows whose values
changed are rebuilt, and the header stays on the first line while the rows scroll. A row's
counts walk all of its topic's partitions, so they are worked out once per topic view: the
same frame drawn again (after every key that moves the selection) reuses them.
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kafkalab.tui.widgets.kept_lines import KeptLines
from kafkalab.views import TopicView

#: (title, width) per column after the name, which takes the rest; numbers are right-aligned.
COLUMNS = (("parts", 5), ("RF", 2), ("under-rep", 9), ("offline", 7), ("records", 10))
#: The columns a narrow list keeps; the name then takes the colour of under-replicated or offline partitions.
NARROW_COLUMNS = (("parts", 5), ("RF", 2), ("records", 8))
#: A name column narrower than this makes the list drop to ``NARROW_COLUMNS``.
MIN_NAME_WIDTH = 9
Row = tuple[str, int, int, int, int, int, bool]


def topic_row(topic: TopicView) -> Row:
    """name, partitions, replication factor, under-replicated and offline partitions, records, internal."""
    under = sum(1 for p in topic.partitions if len(p.isr) < len(p.replicas))
    offline = sum(1 for p in topic.partitions if p.offline)
    records = sum(p.log_end_offset - p.log_start_offset for p in topic.partitions)
    replication = len(topic.partitions[0].replicas) if topic.partitions else 0
    return topic.name, len(topic.partitions), replication, under, offline, records, topic.internal


@lru_cache(maxsize=64)
def _bold(style: Style) -> Style:
    return style + Style(bold=True)


def _foreground(style: Style) -> Style:
    """Only the colour and weight of a component style, so a row keeps the cursor's background."""
    return Style(color=style.color, bold=style.bold)


def glyph_first(pieces: list[tuple[str, Style]]) -> list[Segment]:
    """Segments that each start with a visible character: a piece's leading blanks join the segment before.

    Some SVG renderers drop the leading blanks of a text run, which moved right-aligned
    numbers out of their columns in exported screenshots; a run that starts with a digit
    stays where the terminal draws it.
    """
    segments: list[Segment] = []
    for text, style in pieces:
        body = text.lstrip(" ")
        blanks = text[:len(text) - len(body)]
        if blanks and segments:
            segments[-1] = Segment(segments[-1].text + blanks, segments[-1].style)
        elif blanks:
            segments.append(Segment(blanks, style))
        if body:
            segments.append(Segment(body, style))
    return segments


class TopicList(ScrollView, KeptLines, can_focus=True):
    """Topics of the cluster with their health; moving the cursor selects a topic everywhere."""

    DEFAULT_CSS = """
    TopicList { background: $surface; overflow-x: hidden; }
    TopicList > .topic-list--header { text-style: bold; background: $panel; }
    TopicList > .topic-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    TopicList > .topic-list--cursor-blurred { background: $boost; }
    TopicList > .topic-list--dim { color: $text-muted; }
    TopicList > .topic-list--warning { color: $warning; text-style: bold; }
    TopicList > .topic-list--error { color: $error; text-style: bold; }
    """
    COMPONENT_CLASSES = {"topic-list--header", "topic-list--cursor", "topic-list--cursor-blurred", "topic-list--dim",
                         "topic-list--warning", "topic-list--error"}
    BINDINGS = [
        Binding("up", "move(-1)", "previous topic", show=False, id="topics.up", tooltip="Select the topic above."),
        Binding("down", "move(1)", "next topic", show=False, id="topics.down", tooltip="Select the topic below."),
    ]

    class TopicChosen(Message):
        """The user moved the cursor to a topic."""

        def __init__(self, topic: str) -> None:
            super().__init__()
            self.topic = topic

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: tuple[Row, ...] = ()
        self._cursor = 0
        #: Each topic's row with the view it was worked out from.
        self._topic_rows: dict[str, tuple[TopicView, Row]] = {}

    def show(self, topics: tuple[TopicView, ...], selected: str | None) -> None:
        """Show ``topics`` (in the view's order) with the cursor on ``selected``."""
        kept = self._topic_rows
        self._topic_rows = {}
        for topic in topics:
            row = kept.get(topic.name)
            # A topic that did not change is the same view object as in the last frame (ViewBuilder).
            self._topic_rows[topic.name] = row if row is not None and row[0] is topic else (topic, topic_row(topic))
        rows = tuple(self._topic_rows[topic.name][1] for topic in topics)
        names = [row[0] for row in rows]
        cursor = names.index(selected) if selected in names else min(self._cursor, max(0, len(rows) - 1))
        if rows == self._rows and cursor == self._cursor:
            return
        if cursor == self._cursor and len(rows) == len(self._rows):
            # Same topics, some counts moved: repaint only their rows, not the whole list.
            changed = [index for index, (old, new) in enumerate(zip(self._rows, rows, strict=True)) if old != new]
            self._rows = rows
            top, width = self.scroll_offset.y, max(self.virtual_size.width, self.size.width)
            for index in changed:
                self.refresh(Region(0, index + 1 - top, width, 1))
            return
        self._rows = rows
        self._cursor = cursor
        self.virtual_size = Size(self.scrollable_content_region.width, len(rows) + 1)
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        visible = self.scrollable_content_region.height - 1
        if self._cursor < self.scroll_offset.y:
            self.scroll_to(y=self._cursor, animate=False)
        elif visible > 0 and self._cursor >= self.scroll_offset.y + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False)

    def action_move(self, delta: int) -> None:
        if self._rows:
            index = max(0, min(len(self._rows) - 1, self._cursor + delta))
            self.post_message(self.TopicChosen(self._rows[index][0]))

    def on_click(self, event: events.Click) -> None:
        index = event.y - 1 + self.scroll_offset.y
        if event.y >= 1 and 0 <= index < len(self._rows):
            self.post_message(self.TopicChosen(self._rows[index][0]))

    def on_resize(self) -> None:
        # Rows are drawn to the width they get: never wider than the list, so it never scrolls sideways.
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._rows) + 1)

    def on_focus(self) -> None:
        # The cursor row takes the blurred cursor's colours when the list loses focus.
        self.refresh()

    on_blur = on_focus

    def line_key(self, y: int) -> Hashable:
        index = y - 1 + self.scroll_offset.y
        if y == 0 or index >= len(self._rows):
            return y == 0
        return self._rows[index], index == self._cursor, self.has_focus

    def render_line(self, y: int) -> Strip:
        width = self.line_width
        if y == 0:
            return self._header(width)
        index = y - 1 + self.scroll_offset.y
        if index >= len(self._rows):
            return Strip.blank(width, self.line_style())
        return self._row_strip(self._rows[index], index == self._cursor, width)

    @staticmethod
    def _columns(width: int) -> tuple[tuple[str, int], ...]:
        """The columns that fit beside a readable name in ``width`` cells."""
        full = width - sum(w + 1 for _, w in COLUMNS)
        return COLUMNS if full >= MIN_NAME_WIDTH else NARROW_COLUMNS

    def _name_width(self, width: int) -> int:
        return max(6, width - sum(w + 1 for _, w in self._columns(width)))

    def _header(self, width: int) -> Strip:
        style = self.line_style() + self.component_style("topic-list--header")
        text = " topic".ljust(self._name_width(width)) + "".join(
            " " + title.rjust(w) for title, w in self._columns(width))
        return Strip(glyph_first([(text, style)])).crop_extend(0, width, style)

    def _row_strip(self, row: Row, cursor: bool, width: int) -> Strip:
        name, partitions, replication, under, offline, records, internal = row
        base = self.line_style()
        if cursor:
            base = base + self.component_style(
                "topic-list--cursor" if self.has_focus else "topic-list--cursor-blurred")
        dim = base + _foreground(self.component_style("topic-list--dim"))
        warning = base + _foreground(self.component_style("topic-list--warning"))
        error = base + _foreground(self.component_style("topic-list--error"))
        columns = self._columns(width)
        values = {"parts": (partitions, base), "RF": (replication, base), "under-rep": (under, warning if under else dim),
                  "offline": (offline, error if offline else dim), "records": (records, base)}
        name_style = dim if internal else _bold(base) if cursor else base
        if columns is NARROW_COLUMNS and (offline or under):
            name_style = error if offline else warning
        name_width = self._name_width(width)
        shown = (" " + name)[:name_width].ljust(name_width)
        pieces = [(shown, name_style)]
        for title, column_width in columns:
            value, style = values[title]
            grouping = "," if title == "records" else ""
            pieces.append((f" {value:>{column_width}{grouping}}", style))
        return Strip(glyph_first(pieces)).crop_extend(0, width, base)
