"""The event timeline: every narrated event newest first, filtered by kind, with the why of the highlighted one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import SelectionList, Static

from kafkalab.events.journal import Event
from kafkalab.tui.frames import Frame
from kafkalab.tui.screens.base import LabScreen
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.event_list import KIND_STYLES, EventList, event_time

#: How many of the newest events the timeline lists.
TIMELINE_LIMIT = 5000


def explanation(event: Event | None) -> Text:
    """The highlighted event: what happened, why, and what Kafka does; then its fields."""
    if event is None:
        return Text("Highlight an event to read why it happened and what Apache Kafka does.", style="dim")
    text = Text(f"{event.name}", style=KIND_STYLES.get(event.kind, "bold"))
    text.append(f"   {event_time(event)}   #{event.seq}   kind: {event.kind}\n\n", "dim")
    text.append(event.describe() + "\n\n", "bold")
    text.append(event.explain() + "\n\n")
    for key, value in event.fields_dict().items():
        text.append(f"{key}: ", "dim")
        text.append(f"{value}\n")
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
        with Horizontal(id="events-main"):
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
        events = self.lab.events.newest_first(chosen, TIMELINE_LIMIT)
        timeline = self.query_one(EventList)
        subtitle = f"{len(events)} shown of {len(self.lab.events)}"
        if timeline.border_subtitle != subtitle:
            timeline.border_subtitle = subtitle
        timeline.show(events)

    def on_selection_list_selected_changed(self, message: SelectionList.SelectedChanged[str]) -> None:
        self._refilter()

    def on_event_list_event_highlighted(self, message: EventList.EventHighlighted) -> None:
        self.query_one("#explanation", Static).update(explanation(message.event))

    def action_focus_filter(self) -> None:
        self.query_one("#event-kinds", SelectionList).focus()
