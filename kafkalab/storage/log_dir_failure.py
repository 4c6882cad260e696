"""Where a log dir's storage failures are reported (Kafka's ``LogDirFailureChannel``).

Every operation of a log on the file system runs inside ``guard``: an OSError there
becomes a KafkaStorageError naming the file and the operation, and the channel tells
its listener (the broker) once. Kafka then takes the log dir offline; a kafkalab broker
has one log dir, so, as Kafka 3.9 does when its last log dir fails, it halts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kafkalab.storage.files import KafkaStorageError


def _ignore(error: KafkaStorageError) -> None:
    """The listener of a channel nobody listens to (tests of the storage layer alone)."""


class LogDirFailureChannel:
    """The first storage failure of one log dir, and who to tell about it."""

    def __init__(self) -> None:
        #: The failure that took the log dir offline, if one did.
        self.failure: KafkaStorageError | None = None
        self.listener: Callable[[KafkaStorageError], None] = _ignore

    @property
    def offline(self) -> bool:
        """True once the log dir has failed."""
        return self.failure is not None

    def report(self, error: KafkaStorageError) -> None:
        """Take the log dir offline because of ``error`` (only the first failure is told to the listener)."""
        if self.failure is None:
            self.failure = error
            self.listener(error)

    @contextmanager
    def guard(self, path: Path | str, operation: str) -> Iterator[None]:
        """Report any OSError or KafkaStorageError raised inside, then raise it as a KafkaStorageError."""
        try:
            yield
        except (OSError, KafkaStorageError) as exc:
            raise self.failed(path, operation, exc) from None

    def failed(self, path: Path | str, operation: str, exc: OSError | KafkaStorageError) -> KafkaStorageError:
        """Report ``exc``, raised by ``operation`` on ``path``, and return it as the KafkaStorageError to raise.

        For hot paths that cannot afford a context manager per call (a log's reads and appends).
        """
        error = exc if isinstance(exc, KafkaStorageError) else KafkaStorageError(exc.filename or path, operation, exc)
        self.report(error)
        return error
