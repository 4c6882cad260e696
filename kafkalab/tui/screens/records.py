"""The record inspector and disk view: a replica's records and the segment files that hold them."""

from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from kafkalab.cluster.inspect import RecordsPage
from kafkalab.tui.frames import Frame, FrameRequest, RecordsRequest
from kafkalab.tui.screens.base import LabScreen, show_text
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.kept_lines import Box
from kafkalab.tui.widgets.record_list import HEADER, RecordList
from kafkalab.tui.widgets.segment_table import SegmentTable


def replica_summary(page: RecordsPage | None, leader: int | None) -> Text:
    """Which replica is shown, where it lives on disk and its offsets."""
    if page is None:
        return Text("No partition selected.")
    role = "leader" if page.broker_id == leader else "follower"
    text = Text(f"{page.topic}-{page.partition}", style="bold")
    text.append(f" on broker {page.broker_id} ({role})")
    if page.online:
        text.append(f"   start {page.log_start_offset} · HW {page.high_watermark} · LEO {page.log_end_offset}")
    else:
        text.append("   broker down", "bold red")
    text.append("\nfiles in ")
    text.append(f"{page.directory}{os.sep}", "bold")
    text.append("\nb next replica   [ ] other partition   { } other topic   home/end oldest/newest", style="dim")
    return text


class RecordsScreen(LabScreen):
    """Records of the selected partition's chosen replica above, its segment files below."""

    VIEW_TITLE = "records & disk"

    def compose_body(self) -> ComposeResult:
        yield Static(id="records-summary")
        with Box(id="records-box") as box:
            box.border_title = HEADER
            yield RecordList(id="records")
        segments = SegmentTable(id="segments")
        segments.border_title = "segment files (named by base offset, with .index and .timeindex beside each)"
        yield segments

    def on_mount(self) -> None:
        self.query_one(RecordList).focus()

    def draw(self, frame: Frame, selection: Selection) -> None:
        page = frame.records
        wanted = self._records_request(selection)
        if page is not None and (wanted is None or (page.topic, page.partition, page.broker_id) !=
                                 (wanted.topic, wanted.partition, wanted.broker_id)):
            page = None
        partition = selection.partition_view(frame.view)
        show_text(self.query_one("#records-summary", Static),
                  replica_summary(page, partition.leader if partition is not None else None))
        self.query_one(RecordList).show(page)
        self.query_one(SegmentTable).show(page.files if page is not None else ())

    def _records_request(self, selection: Selection) -> RecordsRequest | None:
        frame = self.lab.frame
        if frame is None or selection.topic is None:
            return None
        partition = selection.partition_view(frame.view)
        broker = selection.replica(frame.view)
        if partition is None or broker is None:
            return None
        replica = next((r for r in partition.replica_views if r.broker_id == broker), None)
        log_start = replica.log_start_offset if replica is not None and replica.online else 0
        first, count = self.query_one(RecordList).visible_offsets(log_start)
        return RecordsRequest(selection.topic, selection.partition, broker, first, count)

    def frame_request(self, selection: Selection) -> FrameRequest:
        return FrameRequest(records=self._records_request(selection))

    def on_record_list_window_moved(self, message: RecordList.WindowMoved) -> None:
        self.lab.request_frame()
