"""Replication of the selected partition: its replicas' logs aligned by offset, and what happened to them."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from kafkalab.events.journal import Event
from kafkalab.tui.frames import Frame, FrameRequest
from kafkalab.tui.screens.base import LabScreen, retitle, show_text
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.event_list import EventList
from kafkalab.tui.widgets.kept_lines import Box
from kafkalab.tui.widgets.partition_lanes import ids
from kafkalab.tui.widgets.replica_lanes import ReplicaLanes, epoch_legend
from kafkalab.views import PartitionView

REPLICATION_KINDS = frozenset({"election", "isr", "hw", "replication", "produce"})


def partition_summary(partition: PartitionView | None) -> Text:
    """The partition's committed state as ZooKeeper holds it."""
    if partition is None:
        return Text("No partition selected: create a topic with c.")
    text = Text(f"{partition.name}", style="bold")
    text.append(f"   leader {partition.leader if partition.leader is not None else 'none (OFFLINE)'}")
    text.append(f"   leader epoch {partition.leader_epoch}   replicas {ids(partition.replicas)}")
    text.append(f"   ISR {ids(partition.isr)}   high watermark {partition.high_watermark}")
    text.append("\n[ ] other partition   { } other topic   — the high watermark is the smallest log end "
                "offset in the ISR; a follower that truncates after a failover loses only uncommitted records",
                style="dim")
    return text


def concerns(event: Event, partition: PartitionView) -> bool:
    """True if ``event`` is about ``partition``'s replication."""
    values = event.fields_dict()
    return (event.kind in REPLICATION_KINDS and values.get("topic") == partition.topic
            and values.get("partition") == partition.partition)


class ReplicationScreen(LabScreen):
    """Leader and followers of one partition, side by side on the same offsets."""

    VIEW_TITLE = "replication"

    def compose_body(self) -> ComposeResult:
        yield Static(id="replication-summary")
        with Box(id="replicas-box") as box:
            box.border_subtitle = ("█ committed  ▒ above this replica's HW  · next  │  s log start  "
                                   "H high watermark  E log end")
            yield ReplicaLanes(id="replicas")
        history = EventList(id="replication-events")
        history.border_title = "this partition's elections, ISR changes, high watermark moves and truncations"
        yield history

    def on_mount(self) -> None:
        self.query_one(ReplicaLanes).focus()

    def draw(self, frame: Frame, selection: Selection) -> None:
        partition = selection.partition_view(frame.view)
        show_text(self.query_one("#replication-summary", Static), partition_summary(partition))
        wanted = (selection.topic, selection.partition)
        replicas = frame.replicas if frame.request.replication == wanted else ()
        box = self.query_one("#replicas-box", Box)
        retitle(box, epoch_legend(replicas).plain if replicas else "replicas")
        self.query_one(ReplicaLanes).show(partition, replicas)
        history = self.query_one("#replication-events", EventList)
        if partition is None:
            history.show([])
        else:
            # The partition chosen is what the user looks at, internal or not: nothing of it is folded away.
            rows = self.lab.events.rows(("replication", partition.topic, partition.partition),
                                        lambda event: concerns(event, partition), fold_internal=False)
            history.show(rows.newest_first())

    def frame_request(self, selection: Selection) -> FrameRequest:
        if selection.topic is None:
            return FrameRequest()
        lanes = self.query_one(ReplicaLanes)
        return FrameRequest(replication=(selection.topic, selection.partition),
                            replication_width=lanes.record_width)

    def on_lane_widget_resized(self, message: ReplicaLanes.Resized) -> None:
        self.lab.request_frame()
