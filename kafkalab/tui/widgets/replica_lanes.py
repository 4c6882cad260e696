"""One partition's replicas drawn as logs aligned by offset, cells coloured by leader epoch.

Aligned replicas make replication visible: a follower's lag is the gap between its log
end and the leader's, the high watermark trails the slowest in-sync replica, and after
a failover a truncated tail rewritten under a new leader epoch changes colour.
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.segment import Segment
from rich.text import Text

from kafkalab.cluster.inspect import ReplicaLog
from kafkalab.tui.cells import EPOCH_COLOURS, Marker, draw_cells, draw_markers, epoch_colour
from kafkalab.tui.widgets.lanes import GUTTER, LaneWidget
from kafkalab.views import PartitionView


def epoch_legend(replicas: tuple[ReplicaLog, ...]) -> Text:
    """Which colour each leader epoch present in the drawn cells has."""
    epochs = sorted({e for r in replicas for e in r.window.epochs if e >= 0})
    text = Text("cells coloured by leader epoch: ")
    for epoch in epochs:
        text.append("█", f"{EPOCH_COLOURS[epoch % len(EPOCH_COLOURS)]}")
        text.append(f" {epoch}  ")
    return text


class ReplicaLanes(LaneWidget):
    """The replicas of one partition, leader first, on a shared offset axis."""

    EMPTY_TEXT = "  No partition selected."

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._partition: PartitionView | None = None
        self._replicas: tuple[ReplicaLog, ...] = ()

    def show(self, partition: PartitionView | None, replicas: tuple[ReplicaLog, ...]) -> None:
        """Draw ``replicas`` of ``partition`` (as the engine sent them; nothing to do when unchanged)."""
        if (partition, replicas) == (self._partition, self._replicas):
            return
        self._partition = partition
        self._replicas = replicas
        self.redraw(self.selected_lane)

    def lane_count(self) -> int:
        return len(self._replicas)

    def lane_key(self, lane: int) -> Hashable:
        # A follower's header shows its lag behind the leader, so the leader's end is part of every lane.
        return self._replicas[lane], self._leader_end()

    def lane_line(self, lane: int, row: int) -> Text | list[Segment]:
        replica = self._replicas[lane]
        window = replica.window
        dim = self.style_of("dim")
        if row == 0:
            return self._header(replica)
        if row == 1:
            gutter = Segment(str(window.first_offset).rjust(GUTTER - 1) + " ", self.line_style() + dim)
            cells = window if replica.online else None
            return [gutter, *draw_cells(cells, window.first_offset, self.cells_width, replica.high_watermark,
                                        epoch_colour, self.line_style(), self.line_style() + dim)]
        if not replica.online:
            return Text(" " * GUTTER + "broker is down: its log stays on disk and is recovered on restart", dim)
        markers = [Marker(replica.log_start_offset, "s", dim), Marker(replica.high_watermark, "H", self.style_of("hw")),
                   Marker(replica.log_end_offset, "E", self.style_of("marker"))]
        text = Text(" " * GUTTER)
        text.append_text(draw_markers(window.first_offset, self.cells_width, markers))
        return text

    def _header(self, replica: ReplicaLog) -> Text:
        text = Text(f"  broker {replica.broker_id}".ljust(GUTTER + 2), style="bold")
        leader = self._leader_end()
        if not replica.online:
            text.append("DOWN", self.style_of("offline"))
        elif replica.is_leader:
            text.append("LEADER", self.style_of("marker"))
        else:
            text.append("follower")
        text.append("   ")
        if replica.in_isr:
            text.append("in ISR", self.style_of("hw"))
        else:
            text.append("out of sync", self.style_of("warning"))
        if replica.online:
            text.append(f"   start {replica.log_start_offset} · HW {replica.high_watermark} · LEO "
                        f"{replica.log_end_offset}", self.style_of("dim"))
            if not replica.is_leader and leader is not None:
                text.append(f"   lag {max(0, leader - replica.log_end_offset)}")
        if replica.epoch_starts:
            starts = ", ".join(f"{epoch}@{offset}" for epoch, offset in replica.epoch_starts[-4:])
            text.append(f"   epochs {starts}", self.style_of("dim"))
        return text

    def _leader_end(self) -> int | None:
        leader = next((r for r in self._replicas if r.is_leader and r.online), None)
        return leader.log_end_offset if leader is not None else None
