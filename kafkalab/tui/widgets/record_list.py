"""Records of one replica, one line per offset, fetched from the engine only for the lines on screen.

The list is as tall as the log (log end offset minus log start offset lines) but holds
only the page the engine last sent; scrolling asks for another page through a
``WindowMoved`` message, as toolong reads only the visible part of a huge file.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kafkalab.cluster.inspect import RecordRow, RecordsPage
from kafkalab.storage.records import Header
from kafkalab.tui.widgets.strips import text_strip

HEADER = f"{'offset':>10}  {'timestamp (CreateTime)':<23}  {'epoch':>5}  {'key':<16}  value / headers"


def shown_bytes(data: bytes | None, limit: int) -> str:
    """Bytes as text when they are UTF-8, else hex; ``null`` for a missing key or value (a tombstone)."""
    if data is None:
        return "null"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "0x" + data.hex()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def shown_headers(headers: tuple[Header, ...]) -> str:
    return " ".join(f"{h.key}={shown_bytes(h.value, 20)}" for h in headers)


def record_line(row: RecordRow, high_watermark: int) -> Text:
    """One record: offset, timestamp, leader epoch, key, value and headers; uncommitted ones marked."""
    moment = datetime.fromtimestamp(row.timestamp / 1000, tz=UTC)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{row.timestamp % 1000:03d}" if row.timestamp >= 0 else "-"
    committed = row.offset < high_watermark
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{row.offset:>10}", "bold" if committed else "bold italic yellow")
    text.append(f"  {stamp:<23}  {row.leader_epoch:>5}  ", "dim")
    if row.marker >= 0:
        # A control record: Kafka's tools print its type, never its bytes (DumpLogSegments).
        text.append(f"{'(marker)':<16}  ", "dim")
        text.append(f"{'COMMIT' if row.marker else 'ABORT'} marker of producer {row.transactional_producer}'s "
                    f"transaction", "italic")
        return text
    text.append(f"{shown_bytes(row.key, 16):<16}  ", "bold")
    text.append(shown_bytes(row.value, 200))
    if row.headers:
        text.append("  " + shown_headers(row.headers), "italic")
    if not committed:
        text.append("   ▒ above the high watermark: not yet readable by consumers", "yellow")
    return text


class RecordList(ScrollView, can_focus=True):
    """A scrollable list of a replica's records, loaded a screenful at a time."""

    DEFAULT_CSS = "RecordList { background: $surface; overflow-x: hidden; }"
    BINDINGS = [
        Binding("home", "scroll_home", "oldest", show=False, id="records.oldest", tooltip="Jump to the log start."),
        Binding("end", "scroll_end", "newest", show=False, id="records.newest", tooltip="Jump to the newest record."),
    ]

    class WindowMoved(Message):
        """Different offsets are on screen now."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._page: RecordsPage | None = None
        self._rows: dict[int, RecordRow] = {}
        self._window: tuple[int, int] = (0, 0)

    def show(self, page: RecordsPage | None) -> None:
        """Draw the records of ``page`` (and placeholders for offsets not loaded yet)."""
        if page == self._page:
            return
        self._page = page
        self._rows = {row.offset: row for row in page.rows} if page is not None else {}
        count = max(0, page.log_end_offset - page.log_start_offset) if page is not None and page.online else 0
        self.virtual_size = Size(self.scrollable_content_region.width, count)
        self.refresh()

    def visible_offsets(self, log_start: int) -> tuple[int, int]:
        """``(first offset, how many)`` on screen for a log starting at ``log_start``."""
        return log_start + self.scroll_offset.y, max(1, self.scrollable_content_region.height)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.post_message(self.WindowMoved())

    def on_resize(self) -> None:
        self.post_message(self.WindowMoved())

    def render_line(self, y: int) -> Strip:
        page = self._page
        width = self.scrollable_content_region.width
        style = self.rich_style
        if page is None:
            return text_strip(Text("  Select a partition (create a topic with c)." if y == 0 else ""),
                              self.app.console, width, style)
        if not page.online:
            message = (f"  Broker {page.broker_id} is down, so its log cannot be read now; its segment files "
                       f"stay on disk (listed below). Press b for another replica.")
            return text_strip(Text(message if y == 0 else "", style="italic"), self.app.console, width, style)
        offset = page.log_start_offset + y + self.scroll_offset.y
        row = self._rows.get(offset)
        if offset >= page.log_end_offset:
            text = Text("  (empty log: produce with p)" if offset == page.log_start_offset else "")
        elif row is None:
            text = Text(f"{offset:>10}  …", style="dim")
        else:
            text = record_line(row, page.high_watermark)
        return text_strip(text, self.app.console, width, style)
