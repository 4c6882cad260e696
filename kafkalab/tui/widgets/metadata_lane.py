"""``__cluster_metadata-0`` as a lane of records, oldest left: select one with the arrows to read it.

Each cell names a record's type (``TOPIC`` for a TopicRecord, ``LEADER`` for the LeaderChange
control record a new leader writes first ...) under its offset; the line below marks where a
leader epoch begins. The lane holds the newest committed records the frame carries and
follows the newest until the user selects an older one (``end`` follows again).
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from kafkalab.cluster.quorum_views import MetadataEntry

#: Columns per record: a label of up to 9 and a gap.
CELL = 10
#: Cell labels for Kafka's record types (``MetadataRecordType``) and KRaft's control records.
LABELS = {
    "REGISTER_BROKER_RECORD": "REGISTER", "UNREGISTER_BROKER_RECORD": "UNREGISTER", "TOPIC_RECORD": "TOPIC",
    "PARTITION_RECORD": "PARTITION", "CONFIG_RECORD": "CONFIG", "PARTITION_CHANGE_RECORD": "PART-CHG",
    "FENCE_BROKER_RECORD": "FENCE", "UNFENCE_BROKER_RECORD": "UNFENCE", "REMOVE_TOPIC_RECORD": "RM-TOPIC",
    "FEATURE_LEVEL_RECORD": "FEATURE", "PRODUCER_IDS_RECORD": "PROD-IDS",
    "BROKER_REGISTRATION_CHANGE_RECORD": "REG-CHG", "LeaderChange": "LEADER", "SnapshotHeader": "SNAP-HEAD",
    "SnapshotFooter": "SNAP-FOOT",
}
#: Brokers in blue, topics and partitions in green, configs in purple, the rest plain.
STYLES = {
    "REGISTER_BROKER_RECORD": "#4363d8", "UNREGISTER_BROKER_RECORD": "#4363d8", "FENCE_BROKER_RECORD": "bold #e6194b",
    "UNFENCE_BROKER_RECORD": "#4363d8", "BROKER_REGISTRATION_CHANGE_RECORD": "#4363d8", "TOPIC_RECORD": "bold #3cb44b",
    "PARTITION_RECORD": "#3cb44b", "PARTITION_CHANGE_RECORD": "#f58231", "REMOVE_TOPIC_RECORD": "bold #3cb44b",
    "CONFIG_RECORD": "#911eb4",
}


def cell_label(entry: MetadataEntry) -> str:
    return LABELS.get(entry.record_type, entry.record_type.removesuffix("_RECORD")[:CELL - 1])


def cell_style(entry: MetadataEntry) -> str:
    return "dim italic" if entry.control else STYLES.get(entry.record_type, "")


class MetadataLane(Widget, can_focus=True):
    """The newest committed metadata records, one cell each, one of them selected."""

    DEFAULT_CSS = "MetadataLane { height: 3; }"
    BINDINGS = [
        Binding("left", "move(-1)", "older record", show=False, id="metadata.older",
                tooltip="Select the record before."),
        Binding("right", "move(1)", "newer record", show=False, id="metadata.newer",
                tooltip="Select the record after."),
        Binding("home", "oldest", "oldest record", show=False, id="metadata.oldest",
                tooltip="Select the oldest record shown."),
        Binding("end", "newest", "follow the newest", show=False, id="metadata.newest",
                tooltip="Select the newest record and keep following new ones."),
    ]

    class Selected(Message):
        """Another record is selected (None: the lane is empty)."""

        def __init__(self, entry: MetadataEntry | None) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._entries: tuple[MetadataEntry, ...] = ()
        #: The offset selected; None follows the newest record.
        self._chosen: int | None = None
        self._announced: MetadataEntry | None = None

    @property
    def entries(self) -> tuple[MetadataEntry, ...]:
        return self._entries

    def show(self, entries: tuple[MetadataEntry, ...]) -> None:
        if entries == self._entries:
            return
        self._entries = entries
        if self._chosen is not None and all(entry.offset != self._chosen for entry in entries):
            self._chosen = None  # the record left the window the frame carries
        self._changed()

    def _index(self) -> int:
        """The selected record's place in the lane (-1 when empty)."""
        if self._chosen is not None:
            for index, entry in enumerate(self._entries):
                if entry.offset == self._chosen:
                    return index
        return len(self._entries) - 1

    @property
    def selected(self) -> MetadataEntry | None:
        index = self._index()
        return self._entries[index] if index >= 0 else None

    def _select(self, index: int | None) -> None:
        """Select the record at ``index`` (the newest and following it when ``index`` is the last or None)."""
        last = len(self._entries) - 1
        self._chosen = None if index is None or index >= last else self._entries[max(0, index)].offset
        self._changed()

    def _changed(self) -> None:
        self.refresh()
        entry = self.selected
        if entry != self._announced:
            self._announced = entry
            self.post_message(self.Selected(entry))

    def action_move(self, step: int) -> None:
        if self._entries:
            self._select(self._index() + step)

    def action_oldest(self) -> None:
        if self._entries:
            self._select(0)

    def action_newest(self) -> None:
        self._select(None)

    def on_click(self, event: events.Click) -> None:
        index = self._window().start + event.x // CELL
        if 0 <= index < len(self._entries):
            self._select(index)

    def _window(self) -> range:
        """The indexes drawn: as many of the newest as fit, but never without the selected one (then leftmost).

        A function of the entries and the selection only, so the same state always draws the same lane.
        """
        visible = max(1, self.size.width // CELL)
        start = max(0, min(self._index(), len(self._entries) - visible))
        return range(start, min(len(self._entries), start + visible))

    def render(self) -> Text:
        if not self._entries:
            return Text("(no committed metadata records yet: the quorum has not elected a leader)", "dim")
        selected = self._index()
        offsets, cells, epochs = Text(no_wrap=True), Text(no_wrap=True), Text(no_wrap=True)
        previous_epoch = None
        window = self._window()
        for index in window:
            entry = self._entries[index]
            offsets.append(f"{entry.offset:<{CELL}}", "bold" if index == selected else "dim")
            style = cell_style(entry)
            if index == selected:
                style = f"{style} reverse bold" if self.has_focus else f"{style} bold underline"
            cells.append(f"{cell_label(entry):<{CELL - 1}}", style)
            cells.append(" ")
            # The first cell drawn says its epoch, and every cell where a new one begins.
            starts_epoch = entry.epoch != previous_epoch
            epochs.append(f"{'epoch ' + str(entry.epoch) if starts_epoch else '':<{CELL}}",
                          "#f58231" if entry.control else "dim")
            previous_epoch = entry.epoch
        return Text("\n").join((offsets, cells, epochs))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
