"""What the engine thread hands the UI: immutable frames, and what the UI asks to be in them.

A frame is one consistent picture: the cluster view, the clock, the events the UI has
not acknowledged yet, and the close-ups the visible screen asked for in its
``FrameRequest``. Nothing in a frame points into engine objects, so the UI may keep it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from kafkalab.cluster.inspect import LogWindow, RecordsPage, ReplicaLog
from kafkalab.cluster.views import ClusterView
from kafkalab.coordination.server import ZnodeView
from kafkalab.events.journal import Event
from kafkalab.sim.scheduler import DEFAULT_START_MS


@dataclass(frozen=True)
class RecordsRequest:
    """A window of records of one replica: what the record inspector has on screen."""

    topic: str
    partition: int
    broker_id: int
    first_offset: int
    count: int


@dataclass(frozen=True)
class FrameRequest:
    """The close-ups the visible screen needs; everything else is left uncomputed."""

    lanes_topic: str | None = None
    lane_width: int = 0
    replication: tuple[str, int] | None = None
    replication_width: int = 0
    records: RecordsRequest | None = None
    znodes: bool = False


@dataclass(frozen=True)
class ClockState:
    """The virtual clock as the clock bar shows it."""

    now_ms: float
    speed: float
    paused: bool

    @property
    def wall_text(self) -> str:
        """Virtual time as a UTC date and time with milliseconds."""
        moment = datetime.fromtimestamp(self.now_ms / 1000, tz=timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{int(self.now_ms) % 1000:03d}"

    @property
    def elapsed_text(self) -> str:
        """Virtual time since the cluster was first created, e.g. ``T+83.250s``."""
        return f"T+{(self.now_ms - DEFAULT_START_MS) / 1000:,.3f}s"


@dataclass(frozen=True)
class Frame:
    """One picture of the cluster for the UI, numbered in the order the engine built them."""

    number: int
    view: ClusterView
    clock: ClockState
    #: Events after the last one the UI acknowledged, oldest first.
    events: tuple[Event, ...]
    request: FrameRequest
    lanes: tuple[tuple[int, LogWindow], ...] = ()
    replicas: tuple[ReplicaLog, ...] = ()
    records: RecordsPage | None = None
    znodes: tuple[ZnodeView, ...] = ()

    def lane(self, partition: int) -> LogWindow | None:
        """The drawn tail of ``partition``'s log, if the frame has it."""
        for number, window in self.lanes:
            if number == partition:
                return window
        return None
