"""Messages the engine thread posts to the app (``post_message`` is thread-safe)."""

from __future__ import annotations

from textual.message import Message

from kafkalab.actions.execute import ActionOutcome
from kafkalab.sim.failures import Failure
from kafkalab.tui.frames import Frame


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
