"""The engine bridge: the cluster and session live on the real-time driver's thread; the UI gets frames.

The UI never calls the engine directly. It submits work (actions, clock commands, a new
``FrameRequest``) that the driver runs on its thread in order, and receives immutable
frames, action outcomes and failures as messages. Frames are built at most every
``frame_interval`` seconds while time runs, at once after any submitted work, and not
at all while paused and untouched, so an idle paused app costs next to nothing.

The bridge can switch to another cluster on the same thread (a lesson starts on a fresh
one; the user goes back to their own), and hosts what runs beside the session: a lesson,
a scenario being played, a recording.

Failures inside the engine are journaled (``ProcessFailed``) and reach the UI with the
frames. If the engine itself stops (its thread dies, or the cluster cannot start), the
UI gets ``EngineFailed`` at once and again for every command it sends afterwards, so
nothing the user does is silently dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future as ThreadFuture
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual.message import Message

from kafkalab.cluster.cluster import Cluster
from kafkalab.cluster.inspect import Inspector, LogWindow, ReplicaLog
from kafkalab.errors import KafkaError
from kafkalab.events.failures import ProcessFailed
from kafkalab.session.session import Session
from kafkalab.sim.network import DEFAULT_LATENCY_MS
from kafkalab.sim.process import Future as SimFuture
from kafkalab.sim.realtime_clock import MAX_SPEED, MIN_SPEED, RealtimeDriver
from kafkalab.tui.frames import ClockState, ConsumerPosition, Frame, FrameRequest, ListenerState
from kafkalab.tui.messages import ActionFinished, AppMailbox, EngineFailed, FrameReady
from kafkalab.tui.selection import Selection
from kafkalab.wire.connections import PortInUse

if TYPE_CHECKING:
    from kafkalab.actions.base import Action
    from kafkalab.actions.execute import ActionOutcome
    from kafkalab.lessons.model import Lesson
    from kafkalab.scenarios.model import ClusterSpec, Scenario
    from kafkalab.scenarios.recorder import Recorder
    from kafkalab.tui.lesson_host import LessonHost
    from kafkalab.tui.player import ScenarioPlayer
    from kafkalab.wire.listener import Listener

T = TypeVar("T")

#: The speeds ``+`` and ``-`` step through.
SPEEDS = (MIN_SPEED, 0.25, 0.5, 1.0, 2.0, 5.0, MAX_SPEED)
#: At most this many unacknowledged events travel in one frame; older ones only fill the journal.
MAX_FRAME_EVENTS = 2000


class EngineBridge:
    """Owns the engine thread: builds frames there and posts them to the UI."""

    def __init__(self, cluster: Cluster, *, paused: bool = False, speed: float = 1.0,
                 frame_interval: float = 0.1, custom_partitioner: str | None = None,
                 listener: Listener | None = None) -> None:
        self._cluster = cluster
        #: The Kafka listener real clients connect to, serving whichever cluster the bridge has open.
        self.listener = listener
        #: The data dir the bridge was opened on (the user's own cluster, unless it opened a lesson's).
        self.opened_dir = cluster.data_dir.path
        #: The links of the cluster the bridge was opened on, which going back to it keeps.
        self._home_latency_ms = cluster.network.default_latency_ms
        self._custom_partitioner = custom_partitioner
        self._start_paused = paused
        self._driver = RealtimeDriver(cluster.scheduler, on_tick=self._on_tick, paused=True, speed=speed,
                                      on_error=self._engine_stopped)
        self.frame_interval = frame_interval
        self._mailbox = AppMailbox()
        self._session: Session | None = None
        self._inspector = Inspector(cluster)
        self._request = FrameRequest()
        #: (generation, sequence number) of the newest event the UI has.
        self._acked: tuple[int, int] = (0, 0)
        self._generation = 0
        self._lesson: LessonHost | None = None
        self._player: ScenarioPlayer | None = None
        self._recorder: Recorder | None = None
        self._frame_number = 0
        self._published_clock: tuple[bool, float] | None = None
        self._dirty = True
        self._last_frame_at = 0.0
        self._started = False
        self._closed = False
        #: Why the cluster could not start, if it could not (the engine thread itself lives on).
        self._start_error: BaseException | None = None

    @classmethod
    def open(cls, path: Path | str, brokers: int | None = None, fresh: bool = False, seed: int | None = None,
             broker_config: dict[str, Any] | None = None, listen: tuple[str, int] | None = None,
             mode: str | None = None, controllers: int | None = None, link_latency_ms: float = DEFAULT_LATENCY_MS,
             **options: Any) -> EngineBridge:
        """Open (or create) the cluster in ``path`` (in ``mode``, if new), its links at ``link_latency_ms`` one way,
        with a Kafka listener per broker on ``listen`` (host, base port); KafkaError if the directory is locked or
        not ours, or a port is in use."""
        cluster = Cluster.open(path, brokers=brokers, seed=seed, broker_config=broker_config, fresh=fresh, mode=mode,
                               controllers=controllers, latency_ms=link_latency_ms)
        listener = None
        if listen is not None:
            # Imported only for a listener: the wire package and its codec (kio) cost start-up 60-80 ms of CPU
            # that a TUI without one (--no-listen, a lesson, a played scenario) never needs.
            from kafkalab.wire.listener import PORT_ADVICE, Listener

            try:
                listener = Listener(listen[0], listen[1], len(cluster.brokers),
                                    cluster.broker_config["socket.request.max.bytes"])
            except KafkaError as exc:
                cluster.close()
                if isinstance(exc, PortInUse):
                    raise KafkaError(exc.error, f"port {exc.port} (broker {exc.broker_id}) is already in use; "
                                                f"{PORT_ADVICE}, or --no-listen") from None
                raise
        return cls(cluster, listener=listener, **options)

    # -- any thread --------------------------------------------------------------------

    def unavailable(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        """Why the app's action ``action`` cannot run here (None: it can): on the lab, every action can."""
        return None

    def start(self, sink: Callable[[Message], Any] | None = None) -> None:
        """Start the engine thread, or attach ``sink`` (the app's ``post_message``) to a started one.

        Starting before the app has mounted lets the cluster come up while Textual starts;
        messages wait until a sink is attached.
        """
        if sink is not None:
            self._mailbox.connect(sink)
        if self._started:
            return
        self._started = True
        if self.listener is not None:
            self.listener.attach(self._cluster, self._driver)
        self._driver.start()
        self._submit(self._start_cluster)
        if not self._start_paused:
            self._driver.resume()

    def _submit(self, work: Callable[[], T], quiet: bool = False) -> ThreadFuture[T]:
        """Run ``work`` on the engine thread, then publish a frame showing its effect.

        On a stopped engine the UI hears why (unless ``quiet``: a change of close-ups is no command).
        """
        error = self.error
        if error is not None and not quiet:
            self._mailbox.post(EngineFailed(error))

        def run() -> T:
            try:
                return work()
            finally:
                self._dirty = True

        return self._driver.submit(run)

    def execute(self, action: Action) -> None:
        """Run ``action`` in the session; an ``ActionFinished`` message reports how it went."""

        def run() -> None:
            from kafkalab.actions.execute import execute  # loaded with the vocabulary ``action`` is from (issue 18)

            if self._session is None:
                return
            execute(self._session, action).add_done_callback(self._finished)

        self._submit(run)

    def request(self, request: FrameRequest) -> None:
        """Ask for different close-ups from now on (the visible screen or its selection changed)."""
        if request != self._request:
            self._submit(lambda: setattr(self, "_request", request), quiet=True)

    def acknowledge(self, frame: Frame) -> None:
        """The UI has the events in ``frame``; later frames start after them."""
        if frame.events:
            generation, seq = self._acked
            if frame.generation != generation or frame.events[-1].seq > seq:
                self._acked = (frame.generation, frame.events[-1].seq)

    def toggle_pause(self) -> None:
        self._driver.toggle_pause()
        self._submit(lambda: None)

    def set_paused(self, paused: bool) -> None:
        """Freeze or release virtual time."""
        if paused:
            self._driver.pause()
        else:
            self._driver.resume()
        self._submit(lambda: None)

    def step(self, duration_ms: float) -> None:
        """Advance virtual time by ``duration_ms`` at once (meant for while paused)."""
        self._driver.step(duration_ms)
        self._submit(lambda: None)

    def change_speed(self, steps: int) -> None:
        """Move ``steps`` places along ``SPEEDS`` (positive: faster)."""
        current = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - self._driver.speed))
        self._driver.set_speed(SPEEDS[max(0, min(len(SPEEDS) - 1, current + steps))])
        self._submit(lambda: None)

    # -- other clusters, lessons, plays and recordings -----------------------------------

    def start_lesson(self, lesson: Lesson, path: Path) -> ThreadFuture[None]:
        """Switch to a fresh cluster in ``path`` built to the lesson's spec, run its setup and host it."""

        def work() -> None:
            self._host_lesson(lesson, self._switch(path, lesson.cluster))

        return self._submit(work)

    def host_lesson(self, lesson: Lesson) -> None:
        """Run ``lesson`` on the current cluster (one opened fresh for it, as ``kafkalab lesson`` does)."""
        self._submit(lambda: self._host_lesson(lesson, self._session) if self._session is not None else None)

    def open_cluster(self, path: Path) -> ThreadFuture[None]:
        """Switch to the cluster stored in ``path`` (created with defaults if there is none)."""

        def work() -> None:
            self._switch(path, None)

        return self._submit(work)

    def play(self, scenario: Scenario) -> None:
        """Play ``scenario``'s steps on the current session, at the pace of the clock."""

        def work() -> None:
            from kafkalab.tui.player import ScenarioPlayer  # with the first play, not at start (issue 18)

            if self._session is not None:
                self._player = ScenarioPlayer(scenario, self._session, self._driver)
                self._player.start()

        self._submit(work)

    def on_lesson(self, work: Callable[[LessonHost], object]) -> None:
        """Run ``work(host)`` on the engine thread if a lesson is running."""
        self._submit(lambda: None if self._lesson is None else work(self._lesson))

    def on_player(self, work: Callable[[ScenarioPlayer], object]) -> None:
        """Run ``work(player)`` on the engine thread if a scenario is playing."""
        self._submit(lambda: None if self._player is None else work(self._player))

    def start_recording(self) -> None:
        """Record every action the session runs from now on."""

        def work() -> None:
            from kafkalab.scenarios.recorder import Recorder  # with the first recording, not at start (issue 18)

            if self._session is not None:
                self._recorder = self._recorder or Recorder(self._session)
                self._recorder.start()

        self._submit(work)

    def stop_recording(self, name: str) -> ThreadFuture[str]:
        """End the recording; the future holds it as scenario YAML named ``name``."""

        def work() -> str:
            if self._recorder is None or not self._recorder.recording:
                raise RuntimeError("nothing is being recorded")
            return self._recorder.stop(name)

        return self._submit(work)

    def run_on_engine(self, work: Callable[[Cluster], T]) -> ThreadFuture[T]:
        """Run ``work(cluster)`` on the engine thread: for scripts and benchmarks that set up a state
        (bulk load, a steady producer) the action vocabulary cannot express yet. The UI never calls it."""
        return self._submit(lambda: work(self._cluster))

    def sync(self) -> ThreadFuture[int]:
        """Publish a frame once everything submitted so far has run; the future holds its number."""
        return self._driver.submit(self._publish)

    @property
    def process_failures(self) -> list[ProcessFailed]:
        """Processes of the current cluster that failed with nobody to read their error (read after ``close``)."""
        return list(self._cluster.process_failures)

    @property
    def error(self) -> BaseException | None:
        """Why the engine stopped (its thread died, or the cluster could not start), if it did."""
        return self._driver.error or self._start_error

    def close(self, timeout: float = 30.0) -> None:
        """Close the cluster cleanly on its thread (flush, clean-shutdown marker), then stop the thread."""
        if self._closed:
            return
        self._closed = True

        def close_all() -> None:
            # The listener's sockets are served on the engine thread: closed there, before the cluster.
            if self.listener is not None:
                self.listener.close()
            self._close_engine()

        if self._started and self._driver.error is None:
            self._driver.submit(close_all).result(timeout)
            self._driver.stop()
        else:
            self._driver.stop()
            close_all()

    # -- engine thread -----------------------------------------------------------------

    def _engine_stopped(self, error: BaseException) -> None:
        """The engine thread died (on its last breath, on that thread)."""
        self._mailbox.post(EngineFailed(error))

    def _start_cluster(self) -> Session:
        self._start_error = None
        # On the live clock a checkpoint's fsyncs must not stall the records in flight (issue 9).
        self._cluster.write_checkpoints_in_background(self._driver.submit)
        try:
            self._cluster.wait(self._cluster.start())
        except BaseException as exc:  # shown by the UI; the cluster stays as it is on disk
            self._start_error = exc
            self._mailbox.post(EngineFailed(exc))
            raise
        self._session = Session(self._cluster, self._cluster.meta.seed, self._custom_partitioner)
        return self._session

    def _host_lesson(self, lesson: Lesson, session: Session) -> None:
        from kafkalab.tui.lesson_host import LessonHost  # with the first lesson, not at start (issue 18)

        self._lesson = LessonHost(lesson, session)
        self._lesson.start()

    def _switch(self, path: Path, spec: ClusterSpec | None) -> Session:
        """Close the current cluster and start the one in ``path``: fresh to ``spec`` if given, else as stored.

        A lesson's cluster has the links its lesson was written and verified on (``kafkalab lessons verify``);
        a stored one, the links the bridge was opened with.

        A different directory is opened before the current cluster closes, so a refusal
        (locked, not ours) leaves the user where they were.
        """
        same = Path(path).resolve() == self._cluster.data_dir.path.resolve()

        def open_next() -> Cluster:
            if spec is None:
                return Cluster.open(path, latency_ms=self._home_latency_ms)
            return Cluster.open(path, brokers=spec.brokers, seed=spec.seed, broker_config=spec.config, fresh=True,
                                mode=spec.mode, controllers=spec.controllers)

        if same:
            self._close_engine()
        cluster = open_next()
        if not same:
            self._close_engine()
        self._cluster = cluster
        self._inspector = Inspector(cluster)
        self._driver.use_scheduler(cluster.scheduler)
        if self.listener is not None:
            self.listener.attach(cluster, self._driver)
        self._generation += 1
        self._session = self._lesson = self._player = self._recorder = None
        return self._start_cluster()

    def _close_engine(self) -> None:
        if self._session is not None:
            self._session.close()
        self._cluster.close()

    def _finished(self, future: SimFuture[ActionOutcome]) -> None:
        self._mailbox.post(ActionFinished(future.result()))

    def _on_tick(self) -> None:
        if self._session is None or self._cluster.closed:
            return
        now = time.monotonic()
        clock_changed = (self._driver.paused, self._driver.speed) != self._published_clock
        if not self._dirty and not clock_changed and (
                self._driver.paused or now - self._last_frame_at < self.frame_interval):
            return
        self._publish()

    def _publish(self) -> int:
        """Build a frame of the current state and what the request asks for, and post it."""
        self._dirty = False
        self._last_frame_at = time.monotonic()
        self._published_clock = (self._driver.paused, self._driver.speed)
        if self._session is None or self._cluster.closed:
            return self._frame_number
        self._frame_number += 1
        frame = self._build(self._frame_number, self._request)
        self._mailbox.post(FrameReady(frame))
        return frame.number

    def _build(self, number: int, request: FrameRequest) -> Frame:
        cluster = self._cluster
        view = cluster.snapshot()
        if request.lanes_of_settled_topic:
            topic = Selection().settled(view).topic
            if topic is not None:
                request = replace(request, lanes_topic=topic, lanes_of_settled_topic=False)
        acked_generation, acked_seq = self._acked
        after = acked_seq if acked_generation == self._generation else 0
        events = tuple(cluster.journal.since(max(after, cluster.journal.last_seq - MAX_FRAME_EVENTS)))
        clock = ClockState(cluster.scheduler.now_ms, self._driver.speed, self._driver.paused)
        inspector = self._inspector
        lanes: tuple[tuple[int, LogWindow], ...] = ()
        lanes_topic = view.topic(request.lanes_topic) if request.lanes_topic is not None else None
        if lanes_topic is not None:
            lanes = tuple(sorted(inspector.lane_windows(lanes_topic, request.lane_width).items()))
        replicas: tuple[ReplicaLog, ...] = ()
        if request.replication is not None:
            partition = view.partition(*request.replication)
            if partition is not None:
                replicas = inspector.replica_logs(partition, request.replication_width)
        records = None
        if request.records is not None and view.partition(request.records.topic, request.records.partition):
            wanted = request.records
            records = inspector.records(wanted.topic, wanted.partition, wanted.broker_id, wanted.first_offset,
                                        wanted.count)
        znodes = cluster.coordinator.view() if request.znodes and cluster.coordinator is not None else ()
        return Frame(number, view, clock, events, request, lanes, replicas, records, znodes, self._generation,
                     self._lesson.state() if self._lesson is not None else None,
                     self._player.state() if self._player is not None else None,
                     self._recorder is not None and self._recorder.recording,
                     self._positions(request.lanes_topic) if lanes else (),
                     ListenerState(self.listener.bootstrap, self.listener.connections())
                     if self.listener is not None else None,
                     tuple(self._session.clients.steady) if self._session is not None else (),
                     cluster.quorum.status() if request.quorum and cluster.quorum is not None else None)

    def _positions(self, topic: str | None) -> tuple[ConsumerPosition, ...]:
        """Where each running consumer of the session reads next in ``topic``'s partitions."""
        assert self._session is not None
        return tuple(ConsumerPosition(running.group, running.client_id, tp.topic, tp.partition, offset)
                     for running in self._session.clients.consumers.values()
                     for tp, offset in sorted(running.consumer.positions().items())
                     if tp.topic == topic)
