"""The selected topic's partitions drawn as logs: one lane of offset cells per partition.

Each lane shows the partition's leader, replicas, ISR, leader epoch and offsets; its
newest offsets as cells coloured by key; and markers under the cells for the log start
offset (``s``), the high watermark (``H``), the log end offset (``E``), consumer
groups' committed offsets (``↑group``) and running consumers' positions (``▲client``).
While a transaction is open in a partition, its last stable offset (``L``, KIP-98) shows
too, where it holds read_committed consumers back below the high watermark; transaction
markers are drawn ``◆``, records of aborted transactions ``░`` and of open ones ``▓``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

from rich.segment import Segment
from rich.text import Text

from kafkalab.cluster.inspect import LogWindow
from kafkalab.tui.cells import Marker, draw_cells, draw_markers, key_colour, window_start
from kafkalab.tui.widgets.lanes import GUTTER, LaneWidget
from kafkalab.views import PartitionView, TopicView


def ids(values: Sequence[int]) -> str:
    """``(1, 2)`` as ``[1, 2]``, the way Kafka's tools print replica lists."""
    return "[" + ", ".join(str(v) for v in values) + "]"


class PartitionLanes(LaneWidget):
    """Lanes of one topic's partitions; selecting a lane selects the partition."""

    EMPTY_TEXT = "  No topic yet: press c to create one."

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._topic: TopicView | None = None
        self._windows: Mapping[int, LogWindow] = {}
        self._markers: Mapping[int, Sequence[Marker]] = {}

    def show(self, topic: TopicView | None, windows: Mapping[int, LogWindow], selected: int,
             markers: Mapping[int, Sequence[Marker]] | None = None) -> None:
        """Draw ``topic``'s lanes with the cells the engine sent (nothing to do when nothing changed)."""
        markers = markers or {}
        if (topic, windows, selected, markers) == (self._topic, self._windows, self.selected_lane, self._markers):
            return
        self._topic = topic
        self._windows = windows
        self._markers = markers
        self.redraw(selected)

    def lane_count(self) -> int:
        return len(self._topic.partitions) if self._topic is not None else 0

    def lane_key(self, lane: int) -> Hashable:
        assert self._topic is not None
        partition = self._topic.partitions[lane]
        return (partition, self._windows.get(partition.partition),
                tuple(self._markers.get(partition.partition, ())))

    def lane_line(self, lane: int, row: int) -> Text | list[Segment]:
        assert self._topic is not None
        partition = self._topic.partitions[lane]
        if row == 0:
            return self._header(partition, lane == self.selected_lane)
        width = self.cells_width
        window = self._windows.get(partition.partition)
        first = window.first_offset if window is not None else window_start(
            partition.log_start_offset, partition.log_end_offset, width, width - self.record_width)
        dim = self.style_of("dim")
        if row == 1:
            prefix = ("…" if first > partition.log_start_offset else "") + str(first)
            gutter = Segment(prefix.rjust(GUTTER - 1)[-(GUTTER - 1):] + " ", self.line_style() + dim)
            return [gutter, *draw_cells(window, first, width, partition.high_watermark, key_colour,
                                        self.line_style(), self.line_style() + dim)]
        markers = [Marker(partition.log_start_offset, "s", dim),
                   Marker(partition.high_watermark, "H", self.style_of("hw")),
                   Marker(partition.log_end_offset, "E", self.style_of("marker")),
                   *self._markers.get(partition.partition, ())]
        if partition.last_stable_offset < partition.high_watermark:
            markers.append(Marker(partition.last_stable_offset, "L", self.style_of("warning")))
        text = Text(" " * GUTTER)
        text.append_text(draw_markers(first, width, markers))
        return text

    def _header(self, partition: PartitionView, selected: bool) -> Text:
        """The lane's first line: Kafka's describe columns, or where they do not fit, the same in order of need."""
        full = self._describe(partition, selected, compact=False)
        if full.cell_len <= self.line_width:
            return full
        return self._describe(partition, selected, compact=True)

    def _describe(self, partition: PartitionView, selected: bool, compact: bool) -> Text:
        gap = " · " if compact else "   "
        text = Text(("▶ " if selected else "  ") + partition.name.ljust(0 if compact else GUTTER), no_wrap=True)
        if partition.offline:
            text.append("  OFFLINE: no leader", self.style_of("offline"))
        else:
            text.append(f"  leader {partition.leader}")
        replicas = f"{gap}replicas {ids(partition.replicas)}"
        if not compact:
            text.append(replicas)
        text.append(f"{gap}ISR ")
        shrunk = len(partition.isr) < len(partition.replicas)
        text.append(ids(partition.isr), self.style_of("warning") if shrunk else "")
        offsets = (f"HW {partition.high_watermark} · LEO {partition.log_end_offset}" if compact else
                   f"start {partition.log_start_offset} · HW {partition.high_watermark} · "
                   f"LEO {partition.log_end_offset}")
        if partition.last_stable_offset < partition.high_watermark:
            offsets += f" · LSO {partition.last_stable_offset}"
        if compact:
            text.append(f"{gap}{offsets}", self.style_of("dim"))
            text.append(f"{replicas}{gap}epoch {partition.leader_epoch}")
        else:
            text.append(f"{gap}epoch {partition.leader_epoch}")
            text.append(f"{gap}{offsets}", self.style_of("dim"))
        return text
