"""The dashboard: broker cards, the topic list and the selected topic's partitions drawn as logs."""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from textual.app import ComposeResult

from kafkalab.cluster.inspect import LogWindow
from kafkalab.tui.cells import KEY_COLOURS, Marker
from kafkalab.tui.frames import ConsumerPosition, Frame, FrameRequest
from kafkalab.tui.screens.base import LabScreen, retitle
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.backdrop import Row
from kafkalab.tui.widgets.broker_cards import BrokerCards
from kafkalab.tui.widgets.event_list import EventList
from kafkalab.tui.widgets.kept_lines import Box
from kafkalab.tui.widgets.partition_lanes import PartitionLanes
from kafkalab.tui.widgets.topic_list import TopicList
from kafkalab.views import ClusterView, TopicView

#: High watermark moves would drown every other event while records flow.
NOISY_KINDS = frozenset({"hw"})
#: The recent-events panel groups at most this many of the newest events, into at most this many lines.
RECENT_EVENTS, RECENT_ROWS = 2000, 50
LEGEND = "█ committed ▒ above HW · next │ s log start H high watermark E log end ↑group commit ▲consumer"
#: The legend while the lanes show transactions (KIP-98): their glyphs and the LSO, in the same width.
TXN_LEGEND = "█ committed ▒ above HW ◆ txn marker ░ aborted ▓ open │ s start H HW L LSO E end ↑group ▲consumer"


def shows_transactions(topic: TopicView | None, windows: Mapping[int, LogWindow]) -> bool:
    """True when a lane draws a transaction's cells or an LSO below its high watermark."""
    if topic is None:
        return False
    return any(window.kinds for window in windows.values()) or topic.holds_readers_back


def lane_markers(view: ClusterView, positions: tuple[ConsumerPosition, ...],
                 topic: str | None) -> dict[int, tuple[Marker, ...]]:
    """Per partition of ``topic``: each group's committed offset (what it resumes from after a restart)
    and each running consumer's position (what its next poll reads), in the group's colour."""
    markers: dict[int, list[Marker]] = {}
    colours = {group.group_id: KEY_COLOURS[n % len(KEY_COLOURS)] for n, group in enumerate(view.groups)}
    for group in view.groups:
        style = Style(color=colours[group.group_id], bold=True)
        for row in group.partitions:
            if row.topic == topic and row.current_offset is not None:
                markers.setdefault(row.partition, []).append(Marker(row.current_offset, f"↑{group.group_id}", style))
    for position in positions:
        if position.topic == topic:
            style = Style(color=colours.get(position.group), italic=True)
            markers.setdefault(position.partition, []).append(Marker(position.offset, f"▲{position.client_id}", style))
    return {partition: tuple(found) for partition, found in markers.items()}


class DashboardScreen(LabScreen):
    """Everything at a glance: who is up, who leads, and what each partition's log holds."""

    VIEW_TITLE = "dashboard"

    def __init__(self) -> None:
        super().__init__()
        self._events_version = -1
        #: The legend under the lanes now: assigning a border subtitle repaints the whole box, lanes and all.
        self._legend = LEGEND

    def compose_body(self) -> ComposeResult:
        yield BrokerCards()
        with Row(id="dashboard-main"):
            yield TopicList()
            with Box(id="lanes-box") as box:
                box.border_subtitle = LEGEND
                yield PartitionLanes(id="lanes")
        recent = EventList(id="recent-events", show_cursor=False)
        recent.border_title = "recent events (5: all of them, with explanations)"
        yield recent

    def on_mount(self) -> None:
        self.query_one(PartitionLanes).focus()

    def draw(self, frame: Frame, selection: Selection) -> None:
        view = frame.view
        self.query_one(BrokerCards).show(view.brokers)
        self.query_one(TopicList).show(view.topics, selection.topic)
        topic = selection.topic_view(view)
        box = self.query_one("#lanes-box", Box)
        retitle(box, f"{topic.name}: partitions as logs (cells coloured by key)" if topic else "partitions")
        windows = dict(frame.lanes) if frame.request.lanes_topic == selection.topic else {}
        legend = TXN_LEGEND if shows_transactions(topic, windows) else LEGEND
        if legend != self._legend:
            self._legend = box.border_subtitle = legend
        markers = lane_markers(view, frame.positions, selection.topic)
        self.query_one(PartitionLanes).show(topic, windows, selection.partition, markers)
        if self.lab.events.version != self._events_version:
            self._events_version = self.lab.events.version
            recent = self.query_one("#recent-events", EventList)
            rows = self.lab.events.rows("dashboard", lambda event: event.kind not in NOISY_KINDS, limit=RECENT_EVENTS)
            recent.show(rows.newest_first()[:RECENT_ROWS])

    def frame_request(self, selection: Selection) -> FrameRequest:
        lanes = self.query_one(PartitionLanes)
        if not lanes.size.width:
            return FrameRequest()  # not laid out yet: lanes read for a guessed width are redrawn at once (``Resized``)
        return FrameRequest(lanes_topic=selection.topic, lane_width=lanes.record_width,
                            lanes_of_settled_topic=selection.topic is None)

    def on_topic_list_topic_chosen(self, message: TopicList.TopicChosen) -> None:
        self.lab.select(topic=message.topic)

    def on_lane_widget_lane_chosen(self, message: PartitionLanes.LaneChosen) -> None:
        self.lab.select(partition=message.index)
        self.query_one(PartitionLanes).scroll_to_selected()

    def on_lane_widget_resized(self, message: PartitionLanes.Resized) -> None:
        self.lab.request_frame()
