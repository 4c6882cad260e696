"""What the engine thread hands the UI: immutable frames, and what the UI asks to be in them.

A frame is one consistent picture: the cluster view, the clock, the events the UI has
not acknowledged yet, the close-ups the visible screen asked for in its ``FrameRequest``,
and the live state of a lesson or a scenario being played. Nothing in a frame points
into engine objects, so the UI may keep it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kafkalab.cluster.inspect import LogWindow, RecordsPage, ReplicaLog
from kafkalab.events.journal import Event
from kafkalab.sim.scheduler import DEFAULT_START_MS
from kafkalab.views import ClusterView, ZnodeView
from kafkalab.wire.connections import ConnectionInfo

if TYPE_CHECKING:
    from kafkalab.actions.results import CheckResult
    from kafkalab.cluster.quorum_views import QuorumStatus
    from kafkalab.scenarios.model import Step
    from kafkalab.scenarios.runner import StepReport


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
    #: No topic is selected yet: the lanes are of the topic the selection will settle on (``Selection.settled``), so
    #: the first frame carries them instead of the one after it (issue 18).
    lanes_of_settled_topic: bool = False
    replication: tuple[str, int] | None = None
    replication_width: int = 0
    records: RecordsRequest | None = None
    znodes: bool = False
    #: KRaft mode: the controller quorum (controllers, registrations, the metadata log's newest records).
    quorum: bool = False


@dataclass(frozen=True)
class ClockState:
    """The virtual clock as the clock bar shows it."""

    now_ms: float
    speed: float
    paused: bool
    #: The engine stopped on an error: this clock no longer moves.
    stopped: bool = False

    @property
    def wall_text(self) -> str:
        """Virtual time as a UTC date and time with milliseconds."""
        moment = datetime.fromtimestamp(self.now_ms / 1000, tz=UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{int(self.now_ms) % 1000:03d}"

    @property
    def elapsed_text(self) -> str:
        """Virtual time since the cluster was first created, e.g. ``T+83.250s``."""
        return f"T+{(self.now_ms - DEFAULT_START_MS) / 1000:,.3f}s"


@dataclass(frozen=True)
class ConsumerPosition:
    """Where a running consumer of the session reads next in one partition (its position, not its commit)."""

    group: str
    client_id: str
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class LessonState:
    """A lesson in progress as the engine thread last checked it (the lesson's text comes from its file)."""

    lesson_id: str
    #: The current step (0-based).
    step: int
    setting_up: bool
    #: Setup or solution steps that failed, as sentences.
    problems: tuple[str, ...]
    #: The current goal's expectations: live, or as they stood when the goal was met.
    goal: tuple[CheckResult, ...]
    met: bool
    completed: frozenset[int]
    #: Hints of the current step revealed so far, and in all steps of this run.
    hints_shown: int
    hints_total: int
    #: The learner's pick for the current step's prediction, and whether a pick is still open.
    prediction: int | None
    can_predict: bool
    #: The choice that proved right when the goal was met (None before, or if none did).
    right_choice: int | None
    solution_playing: bool


@dataclass(frozen=True)
class PlayState:
    """A scenario being played: its steps, the reports of those that ran, the narration shown now."""

    scenario: str
    file: str
    steps: tuple[Step, ...]
    reports: tuple[StepReport, ...]
    #: The step running now, if one is.
    current: int | None
    #: The newest ``note`` played, shown until the next one.
    note: str | None
    #: Waiting for the user to release the next step (single-step mode).
    holding: bool
    finished: bool

    @property
    def ok(self) -> bool:
        """True while no step has failed."""
        return all(report.ok for report in self.reports)


@dataclass(frozen=True)
class ListenerState:
    """The Kafka listener: where clients connect, and who is connected."""

    bootstrap: str
    connections: tuple[ConnectionInfo, ...]


@dataclass(frozen=True)
class AttachedState:
    """A real Kafka cluster shown instead of the lab (``kafkalab attach``): where, how fresh, whether writable."""

    bootstrap: str
    #: How old the shown data is: the wall-clock time since the describe round that got it began.
    age_ms: float
    read_only: bool
    #: Set while rounds fail as a whole: the data shown is the last that came.
    failing: bool
    #: What the newest round could not learn (or why it failed), one sentence each.
    problems: tuple[str, ...]


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
    #: Bumped each time the bridge switches to another cluster (a lesson starts, the user goes home).
    generation: int = 0
    lesson: LessonState | None = None
    play: PlayState | None = None
    recording: bool = False
    #: Positions of the session's running consumers in the lanes topic.
    positions: tuple[ConsumerPosition, ...] = ()
    #: The Kafka listener network clients connect to (None with ``--no-listen``).
    listener: ListenerState | None = None
    #: The ids of the session's running steady producers, in the order they started.
    steady_producers: tuple[str, ...] = ()
    #: KRaft mode: the controller quorum, when the screen asked for it.
    quorum: QuorumStatus | None = None
    #: Attached to a real cluster (None: the lab).
    attached: AttachedState | None = None

    def lane(self, partition: int) -> LogWindow | None:
        """The drawn tail of ``partition``'s log, if the frame has it."""
        for number, window in self.lanes:
            if number == partition:
                return window
        return None
