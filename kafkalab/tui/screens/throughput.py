"""Throughput: records per second (of virtual time) into each topic and each broker, over the last minute."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from kafkalab.tui.frames import Frame
from kafkalab.tui.screens.base import LabScreen
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.rate_rows import RateRows


class ThroughputScreen(LabScreen):
    """Sparklines per topic (log end offsets growing) and per broker (records written to its logs)."""

    VIEW_TITLE = "throughput"

    def compose_body(self) -> ComposeResult:
        yield Static("Records per second of virtual time, sampled every virtual second over the last minute. "
                     "A topic's rate is how fast its partitions' log end offsets grow; a broker's is every record it "
                     "writes, as leader or follower, so with replication factor 3 each record is written three times.",
                     id="throughput-about")
        topics = RateRows(id="topic-rates")
        topics.border_title = "topics"
        yield topics
        brokers = RateRows(id="broker-rates")
        brokers.border_title = "brokers (records written: produced to it as leader, replicated to it as follower)"
        yield brokers

    def __init__(self) -> None:
        super().__init__()
        self._drawn_version = -1

    def draw(self, frame: Frame, selection: Selection) -> None:
        history = self.lab.throughput
        if history.version == self._drawn_version:
            return
        self._drawn_version = history.version
        self.query_one("#topic-rates", RateRows).show(history.topics)
        self.query_one("#broker-rates", RateRows).show({f"broker {b}": s for b, s in sorted(history.brokers.items())})
