"""A replica's segment files: name (the base offset), offsets they hold, size, active or closed."""

from __future__ import annotations

from rich.text import Text

from kafkalab.cluster.inspect import DiskFile
from kafkalab.tui.widgets.broker_cards import human_bytes
from kafkalab.tui.widgets.keyed_table import Cell, KeyedTable


def segment_cells(segment: DiskFile) -> tuple[Cell, ...]:
    """One segment's row."""
    records = "" if segment.next_offset is None else f"{segment.next_offset - segment.base_offset:,}"
    return (segment.log_file, f"{segment.base_offset:,}",
            "" if segment.next_offset is None else f"{segment.next_offset:,}", records, human_bytes(segment.size_bytes),
            Text("active", style="bold green") if segment.is_active else Text("closed", style="dim"))


class SegmentTable(KeyedTable):
    """The segment files of the inspected replica, oldest first."""

    COLUMNS = ("file", "base offset", "next offset", "offsets", "size", "")

    def show(self, segments: tuple[DiskFile, ...]) -> None:
        self.sync({segment.log_file: segment_cells(segment) for segment in segments}, sort_key="file")
