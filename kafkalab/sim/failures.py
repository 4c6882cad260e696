"""What becomes of an error nobody handled: a ``Failure`` handed to the scheduler's supervisor.

SimPy raises a failed event that no process handled. kafkalab does the same where no
supervisor is installed (a bare scheduler in a unit test); a cluster installs one that
turns each failure into a ``ProcessFailed`` event, so a process or timer that stops on
an error is always somebody's business (ARCHITECTURE.md, "Failures").
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafkalab.errors import KafkaError

#: Errors of the domain (Kafka's, ZooKeeper's); any other exception escaping a process is a bug in kafkalab.
DOMAIN_ERRORS: tuple[type[BaseException], ...] = (KafkaError,)


def register_domain_error(error_type: type[BaseException]) -> None:
    """Count ``error_type`` as a domain error (an expected outcome), not as a bug."""
    global DOMAIN_ERRORS
    DOMAIN_ERRORS = (*DOMAIN_ERRORS, error_type)


def first_report(error: BaseException) -> bool:
    """True the first time ``error`` is reported: one bug passing up through several tasks is one failure."""
    if getattr(error, "_kafkalab_reported", False):
        return False
    setattr(error, "_kafkalab_reported", True)  # noqa: B010 (exceptions carry a __dict__; a weakref set cannot hold them)
    return True


def callable_name(callback: Any) -> str:
    """A readable name for a timer callback (``Sender._run``) when it is all a failure can name."""
    return str(getattr(callback, "__qualname__", None) or type(callback).__name__)


@dataclass(frozen=True)
class Failure:
    """A process or timer callback of ``owner`` that stopped on ``error`` with nobody to read it."""

    #: Whose timers it ran on: ``broker-2``, ``producer-1``, ``session``, ``engine``.
    owner: str
    #: What stopped: the process's name (``replica fetcher from broker 1``) or the callback's.
    process: str
    error: BaseException

    @property
    def bug(self) -> bool:
        """True when the error is not a domain error: kafkalab itself went wrong."""
        return not isinstance(self.error, DOMAIN_ERRORS)

    @property
    def error_name(self) -> str:
        """Kafka's error name (``RECORD_LIST_TOO_LARGE``), else the exception's type (``ZeroDivisionError``)."""
        return self.error.name if isinstance(self.error, KafkaError) else type(self.error).__name__

    @property
    def message(self) -> str:
        """The error's own sentence."""
        return self.error.message if isinstance(self.error, KafkaError) else str(self.error)

    @property
    def where(self) -> str:
        """The innermost source line the error came from (``fetcher.py:120 in _run``), or "" if unknown."""
        frames = traceback.extract_tb(self.error.__traceback__)
        if not frames:
            return ""
        frame = frames[-1]
        return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
