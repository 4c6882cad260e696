"""The event timeline: every narrated event newest first, filtered by kind, with the why of the highlighted one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import SelectionList, Static

from kafkalab.tui.event_rows import EventRow
from kafkalab.tui.frames import Frame
from kafkalab.tui.screens.base import LabScreen
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.backdrop import Row
from kafkalab.tui.widgets.event_list import KIND_STYLES, EventList, event_time, repeats

#: How many of the newest events the timeline groups into lines.
TIMELINE_LIMIT = 5000


def explanation(row: EventRow | None) -> Text:
    """The highlighted row: what happened, why, and what Apache Kafka does; then its fields."""
    if row is None:
        return Text("Highlight an event to read why it happened and what Apache Kafka does.", style="dim")
    if row.is_fold:
        return _fold_explanation(row)
    event = row.summary_event()
    text = Text(f"{event.name}", style=KIND_STYLES.get(event.kind, "bold"))
    text.append(f"   {event_time(event)}   #{event.seq}   kind: {event.kind}\n", "dim")
    if row.count > 1:
        text.append(f"{repeats(row)}: the same event about the same subject, #{row.oldest.seq} at "
                    f"{event_time(row.oldest)} to #{row.newest.seq}.\n", "bold")
    text.append("\n")
    text.append(event.describe() + "\n\n", "bold")
    text.append(event.explain() + "\n\n")
    for key, value in event.fields_dict().items():
        text.append(f"{key}: ", "dim")
        text.append(f"{value}\n")
    return text


def _fold_explanation(row: EventRow) -> Text:
    topics = ", ".join(row.fold_topics())
    text = Text(f"{topics}: {row.count:,} routine events", style="bold")
    text.append(f"   {event_time(row.oldest)} to {event_time(row.newest)}\n\n", "dim")
    text.append("Kafka's internal topics have partitions like any other: __consumer_offsets has 50 by default, "
                "so a broker that fails or comes back changes leaders, ISRs and high watermarks for dozens of "
                "them at once. Those events are folded here so the ones about your topics stand out; enter "
                "shows them one by one.\n\n")
    for name, count in row.fold_counts():
        text.append(f"{name}: ", "dim")
        text.append(f"{count:,}\n")
    return text


class EventsScreen(LabScreen):
    """The timeline with a kind filter on the left and the explanation below."""

    VIEW_TITLE = "events"
    BINDINGS = [Binding("f", "focus_filter", "filter kinds", id="events.filter",
                        tooltip="Move to the list of event kinds; space toggles a kind.")]

    def __init__(self) -> None:
        super().__init__()
        self._kinds: list[str] = []
        self._drawn_version = -1

    def compose_body(self) -> ComposeResult:
        with Row(id="events-main"):
            kinds: SelectionList[str] = SelectionList(id="event-kinds")
            kinds.border_title = "kinds (f)"
            yield kinds
            timeline = EventList(id="timeline")
            timeline.border_title = "events, newest first"
            yield timeline
        with VerticalScroll(id="explain-box") as box:
            box.border_title = "why"
            yield Static(explanation(None), id="explanation")

    def on_mount(self) -> None:
        self.query_one(EventList).focus()

    def draw(self, frame: Frame, selection: Selection) -> None:
        history = self.lab.events
        kinds_list = self.query_one("#event-kinds", SelectionList)
        for kind in history.kinds():
            if kind not in self._kinds:
                self._kinds.append(kind)
                kinds_list.add_option((Text(kind, style=KIND_STYLES.get(kind, "")), kind, True))
        if history.version != self._drawn_version:
            self._drawn_version = history.version
            self._refilter()

    def _refilter(self) -> None:
        chosen = frozenset(self.query_one("#event-kinds", SelectionList).selected)
        rows = self.lab.events.rows(("events", chosen), lambda event: event.kind in chosen, limit=TIMELINE_LIMIT)
        timeline = self.query_one(EventList)
        timeline.show(rows.newest_first())
        subtitle = f"{rows.event_count} shown of {len(self.lab.events)}, in {len(timeline.rows)} lines"
        if timeline.border_subtitle != subtitle:
            timeline.border_subtitle = subtitle

    def on_selection_list_selected_changed(self, message: SelectionList.SelectedChanged[str]) -> None:
        self._refilter()

    def on_event_list_event_highlighted(self, message: EventList.EventHighlighted) -> None:
        self.query_one("#explanation", Static).update(explanation(message.row))

    def action_focus_filter(self) -> None:
        self.query_one("#event-kinds", SelectionList).focus()
