"""The bridge for ``kafkalab attach``: frames of a real Kafka cluster instead of the lab's engine.

It offers the app what ``EngineBridge`` does, so every screen works unchanged, but the
frames come from an ``AttachSource`` (describe rounds on a thread of their own) and actions
run through the real client (``kafkalab.attach.actions``) on a worker thread. A frame is
posted after each round and once a second in between, so the age of the data shown keeps
counting. What needs the lab (the clock, lessons, plays, recordings, brokers and links) is
refused with its reason (``unavailable``); the app shows those keys disabled.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from textual.message import Message

from kafkalab.actions.base import Action
from kafkalab.attach.actions import RealClientActions, refusal
from kafkalab.attach.client import AttachError, client_config, confluent
from kafkalab.attach.observe import Observer
from kafkalab.attach.source import AttachSource, Observes, Snapshot
from kafkalab.events.failures import ProcessFailed
from kafkalab.tui.bridge import EngineBridge
from kafkalab.tui.frames import AttachedState, ClockState, Frame, FrameRequest
from kafkalab.tui.messages import ActionFinished, AppMailbox, FrameReady
from kafkalab.views import ClusterView

T = TypeVar("T")

#: The interpreter's thread switch interval while attached (Python's default is 5 ms). A describe round's Python work
#: (confluent-kafka completing a future per partition, the waits on them, the view's build) holds the interpreter lock
#: against the UI thread, which takes it back many times per key (each turn of its event loop lets go of it to poll
#: its file descriptors) and waits up to the interval each time: with 1 ms a running round of 10,000 partitions moved
#: p95 key-to-screen from 40 to 27 ms (benchmarks/tui_attach_key_latency.py, benchmarks/README.md).
SWITCH_INTERVAL_S = 0.001

#: Why the app's own commands that drive the lab are off while attached, by the app action's name.
_TIME = "time control needs the lab: a real cluster's clock cannot be paused, stepped or sped up"
_LESSONS = "lessons, scenario plays and recordings run on a lab cluster (kafkalab, kafkalab lesson, kafkalab play)"
UI_LAB_ONLY: dict[str, str] = {
    "toggle_pause": _TIME, "step_clock": _TIME, "change_speed": _TIME,
    "lesson": _LESSONS, "browse_lessons": _LESSONS, "play_step": _LESSONS, "start_recording": _LESSONS,
    "save_recording": _LESSONS,
}


class AttachBridge:
    """Publishes frames of an attached cluster and runs actions on it; no engine thread, no virtual clock."""

    #: No Kafka listener: the cluster is the one clients already use.
    listener = None

    def __init__(self, bootstrap: str, observer: Observes, actions: RealClientActions | None, *, interval_s: float,
                 allow_writes: bool, clock: Callable[[], float] = time.time, tick_s: float = 1.0) -> None:
        """``observer`` runs the describe rounds, ``actions`` the user's actions (None: none run); ``clock`` is the
        wall clock the data's age is counted on."""
        self.bootstrap = bootstrap
        self.allow_writes = allow_writes
        #: Where a learner "goes home" to: there is no lab cluster here (lessons are off).
        self.opened_dir = Path.cwd()
        self.frame_interval = tick_s
        self._source = AttachSource(observer, interval_s, clock=clock, on_snapshot=self.on_snapshot)
        #: Runs the user's actions through the real client (None: none run).
        self.actions = actions
        self._mailbox = AppMailbox()
        self._lock = threading.Lock()
        self._request = FrameRequest()
        self._acked = 0
        self._frame_number = 0
        self._closed = threading.Event()
        self._ticker: threading.Thread | None = None
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="kafkalab-attach-actions")
        #: The switch interval before ``start`` set ``SWITCH_INTERVAL_S``, given back on ``close``.
        self._switch_interval: float | None = None

    @classmethod
    def open(cls, bootstrap: str, properties: dict[str, str], *, interval_s: float, allow_writes: bool
             ) -> AttachBridge:
        """A bridge to the cluster at ``bootstrap`` with the client ``properties`` (``--command-config``), once it
        answered a first round; AttachError if confluent-kafka is missing, refuses the properties, or the cluster
        does not answer."""
        ck = confluent()
        config = client_config(bootstrap, properties)
        try:
            bridge = cls(bootstrap, Observer(config), None, interval_s=interval_s, allow_writes=allow_writes)
            bridge.actions = RealClientActions(config, bridge.latest_view, allow_writes=allow_writes)
        except ck.KafkaException as exc:
            raise AttachError(f"the client refused its config: {exc}") from None
        if bridge.poll() is None:
            raise AttachError(f"{bootstrap} did not answer: {bridge._source.failure}")
        return bridge

    def poll(self) -> Snapshot | None:
        """Run a describe round now, on the calling thread (before ``start``: later rounds run on their own)."""
        return self._source.poll_once()

    def latest_view(self) -> ClusterView | None:
        """The newest view of the cluster (None before the first round answered)."""
        snapshot = self._source.latest
        return snapshot.view if snapshot is not None else None

    # -- what the app asks of any bridge -------------------------------------------------

    def start(self, sink: Callable[[Message], Any] | None = None) -> None:
        """Start polling and ticking, or attach ``sink`` (the app's ``post_message``) to a started bridge."""
        if sink is not None:
            self._mailbox.connect(sink)
        if self._ticker is not None:
            return
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._ticker = threading.Thread(target=self._tick, name="kafkalab-attach-frames", daemon=True)
        self._ticker.start()
        self._source.start()

    def unavailable(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        """Why the app's action ``action`` (``start_action('kill_broker')``: its parameters) cannot run attached."""
        if action in UI_LAB_ONLY:
            return UI_LAB_ONLY[action]
        if action == "start_action" and parameters:
            refused = refusal(str(parameters[0]), self.allow_writes)
            return refused.message if refused is not None else None
        return None

    def execute(self, action: Action) -> None:
        """Run ``action`` through the real client; ``ActionFinished`` reports how it went, and a round follows."""

        def run() -> None:
            if self.actions is not None:
                self._mailbox.post(ActionFinished(self.actions.run(action)))
            self._source.wake()

        self._worker.submit(run)

    def request(self, request: FrameRequest) -> None:
        """Close-ups are the lab's (logs, records, znodes): an attached frame carries the request, not them."""
        self._request = request

    def acknowledge(self, frame: Frame) -> None:
        if frame.events:
            self._acked = max(self._acked, frame.events[-1].seq)

    def sync(self) -> ThreadFuture[int]:
        """Publish a frame now; the future holds its number."""
        future: ThreadFuture[int] = ThreadFuture()
        future.set_result(self._publish())
        return future

    @property
    def process_failures(self) -> list[ProcessFailed]:
        return []

    @property
    def error(self) -> BaseException | None:
        return None

    def close(self, timeout: float = 30.0) -> None:
        """Stop the rounds, the ticker and the action worker."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._source.close(timeout)
        self._worker.shutdown(wait=False, cancel_futures=True)
        if self.actions is not None:
            self.actions.close()  # consumers the user started leave their groups rather than time out of them
        if self._ticker is not None:
            self._ticker.join(timeout)
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)

    # The lab's commands: the app keeps them disabled while attached (``unavailable``), so these do nothing.

    def toggle_pause(self) -> None: ...

    def set_paused(self, paused: bool) -> None: ...

    def step(self, duration_ms: float) -> None: ...

    def change_speed(self, steps: int) -> None: ...

    def host_lesson(self, lesson: Any) -> None: ...

    def play(self, scenario: Any) -> None: ...

    def on_lesson(self, work: Callable[[Any], object]) -> None: ...

    def on_player(self, work: Callable[[Any], object]) -> None: ...

    def start_recording(self) -> None: ...

    def start_lesson(self, lesson: Any, path: Path) -> ThreadFuture[None]:
        return self._refused(_LESSONS)

    def open_cluster(self, path: Path) -> ThreadFuture[None]:
        return self._refused(_LESSONS)

    def stop_recording(self, name: str) -> ThreadFuture[str]:
        return self._refused(_LESSONS)

    @staticmethod
    def _refused(reason: str) -> ThreadFuture[Any]:
        future: ThreadFuture[Any] = ThreadFuture()
        future.set_exception(RuntimeError(reason))
        return future

    # -- frames --------------------------------------------------------------------------

    def _tick(self) -> None:
        while not self._closed.wait(self.frame_interval):
            self._publish()

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """A round finished (on the source's thread): show it at once."""
        if not self._closed.is_set():
            self._publish()

    def _publish(self) -> int:
        snapshot = self._source.latest
        if snapshot is None:
            return self._frame_number
        with self._lock:
            self._frame_number += 1
            number = self._frame_number
        self._mailbox.post(FrameReady(self._frame(number, snapshot)))
        return number

    def _frame(self, number: int, snapshot: Snapshot) -> Frame:
        now = self._source.now_ms()
        attached = AttachedState(self.bootstrap, snapshot.age_ms(now), not self.allow_writes,
                                 snapshot.failed_at_ms is not None, snapshot.problems)
        events = tuple(self._source.events_since(self._acked))
        return Frame(number, snapshot.view, ClockState(snapshot.view.time_ms, 1.0, False), events, self._request,
                     attached=attached)



#: What the app runs on: the lab's engine, or an attached cluster.
Bridge = EngineBridge | AttachBridge
