"""Messages the engine thread posts to the app (``post_message`` is thread-safe)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.message import Message

from kafkalab.sim.failures import Failure
from kafkalab.tui.frames import Frame

if TYPE_CHECKING:
    from kafkalab.actions.execute import ActionOutcome


class FrameReady(Message):
    """A new frame; a newer one waiting in the queue replaces it, so a busy UI skips stale frames."""

    def __init__(self, frame: Frame) -> None:
        super().__init__()
        self.frame = frame

    def can_replace(self, message: Message) -> bool:
        # Frames carry every event not yet acknowledged, so dropping an older one loses nothing.
        return isinstance(message, FrameReady)


class ActionFinished(Message):
    """An action submitted from the UI finished, with its result or Kafka error."""

    def __init__(self, outcome: ActionOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class EngineFailed(Message):
    """The engine stopped (its thread died, or the cluster could not start); the UI shows why and keeps the last frame.

    Posted when it happens and again for each command sent afterwards, which then does nothing.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error
        #: The error as failures describe it: its name, sentence and source line.
        self.failure = Failure("engine", "engine thread", error)


class AppMailbox:
    """Where a bridge posts messages for the app: they wait until the app connects its ``post_message`` (a bridge
    starts before the app has mounted), and of the frames waiting only the newest is kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sink: Callable[[Message], Any] | None = None
        self._waiting: list[Message] = []

    def connect(self, sink: Callable[[Message], Any]) -> None:
        """Deliver to ``sink`` from now on, what waited first."""
        with self._lock:
            self._sink = sink
            waiting, self._waiting = self._waiting, []
            for message in waiting:
                sink(message)

    def post(self, message: Message) -> None:
        """Deliver ``message`` (any thread), or keep it until the app connects."""
        with self._lock:
            sink = self._sink
            if sink is None:
                # Only the newest frame matters to an app that is not there yet.
                if isinstance(message, FrameReady):
                    self._waiting = [m for m in self._waiting if not isinstance(m, FrameReady)]
                self._waiting.append(message)
                return
        sink(message)
