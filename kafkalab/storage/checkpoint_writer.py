"""Who writes a broker's periodic checkpoint files: the engine thread itself, or one writer thread per cluster.

Kafka writes ``replication-offset-checkpoint``, ``recovery-point-offset-checkpoint`` and
``log-start-offset-checkpoint`` from its ``kafka-scheduler`` threads
(``ReplicaManager.startHighWatermarkCheckPointThread``, ``LogManager.startupWithConfigOverrides``),
never from a request handler: each write is two fsyncs (the file, then its directory), 1-20 ms
on a busy disk. On the virtual clock (tests, scenarios) ``InlineCheckpointWriter`` writes at once,
so runs stay deterministic; on the real-time driver (TUI, ``kafkalab serve``)
``BackgroundCheckpointWriter`` takes the offsets the engine thread snapshotted and writes them on
its own thread, so no record in flight waits for those fsyncs.

Either way a write is whole or absent (``write_durably``: temp file, fsync, rename, fsync the
directory), and a refusing disk ends in the job's ``on_failure`` on the engine thread, the same
log-dir failure handling an inline write gets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from kafkalab.storage.checkpoints import write_offsets
from kafkalab.storage.files import KafkaStorageError


@dataclass(frozen=True)
class CheckpointJob:
    """One checkpoint file to write: ``offsets`` is a snapshot the caller no longer touches."""

    path: Path
    offsets: Mapping[tuple[str, int], int]
    #: Called on the engine thread when the disk refuses the write (the log dir goes offline).
    on_failure: Callable[[KafkaStorageError], None]

    def run(self) -> KafkaStorageError | None:
        """Write the file; the refusal, if the disk refused."""
        try:
            write_offsets(self.path, self.offsets)
        except KafkaStorageError as exc:
            return exc
        return None


class CheckpointWriter(Protocol):
    """Writes checkpoint jobs; ``flush`` and ``discard`` act on one log dir's jobs (on the engine thread)."""

    def write(self, job: CheckpointJob) -> None:
        """Write ``job`` now or soon; a newer job for the same file supersedes a pending one."""

    def flush(self, directory: Path) -> None:
        """Return once every job for ``directory`` is written, its failures handed to their ``on_failure``."""

    def discard(self, directory: Path) -> None:
        """Drop ``directory``'s pending jobs and wait out the one being written (a crash writes nothing more)."""

    def close(self) -> None:
        """Write what is pending and stop."""


class InlineCheckpointWriter:
    """Writes each job at once on the caller's thread: the virtual clock's writer, deterministic."""

    def write(self, job: CheckpointJob) -> None:
        error = job.run()
        if error is not None:
            job.on_failure(error)

    def flush(self, directory: Path) -> None:
        return None

    def discard(self, directory: Path) -> None:
        return None

    def close(self) -> None:
        return None


class BackgroundCheckpointWriter:
    """Writes jobs on one thread; failures go back to the engine thread through ``hand_back``.

    ``hand_back(work)`` runs ``work`` on the engine thread (the real-time driver's ``submit``).
    A ``flush`` delivers its directory's failures itself, so a clean shutdown sees them before it
    decides whether to write the clean-shutdown marker, whichever of the two comes first.
    """

    def __init__(self, hand_back: Callable[[Callable[[], None]], Any]) -> None:
        self._hand_back = hand_back
        self._changed = threading.Condition()
        #: Jobs not yet started, by file: a newer snapshot replaces an older one not yet written.
        self._pending: dict[Path, CheckpointJob] = {}
        self._writing: CheckpointJob | None = None
        #: Failures not yet handed to their ``on_failure``.
        self._failed: list[tuple[CheckpointJob, KafkaStorageError]] = []
        self._closed = False
        #: A bug that stopped the thread (not a refusing disk): raised by every later call, never lost.
        self._broken: BaseException | None = None
        self._thread: threading.Thread | None = None

    def write(self, job: CheckpointJob) -> None:
        with self._changed:
            self._raise_if_broken()
            if self._closed:
                raise RuntimeError("the checkpoint writer is closed")
            self._pending.pop(job.path, None)
            self._pending[job.path] = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kafkalab-checkpoints", daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def flush(self, directory: Path) -> None:
        with self._changed:
            self._changed.wait_for(lambda: not self._busy_in(directory) or self._broken is not None)
            self._raise_if_broken()
        self._deliver(directory)

    def discard(self, directory: Path) -> None:
        with self._changed:
            for path in [p for p in self._pending if p.parent == directory]:
                del self._pending[path]
            self._changed.wait_for(lambda: not self._busy_in(directory) or self._broken is not None)
            self._failed = [(job, error) for job, error in self._failed if job.path.parent != directory]

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
        with self._changed:
            self._raise_if_broken()

    def _raise_if_broken(self) -> None:
        if self._broken is not None:
            raise RuntimeError("the checkpoint writer thread stopped") from self._broken

    def _busy_in(self, directory: Path) -> bool:
        """Whether a job for ``directory`` is pending or being written (with the lock held)."""
        writing = self._writing is not None and self._writing.path.parent == directory
        return writing or any(path.parent == directory for path in self._pending)

    def _deliver(self, directory: Path) -> None:
        """Hand ``directory``'s failures to their jobs' ``on_failure`` (on the engine thread)."""
        with self._changed:
            mine = [(job, error) for job, error in self._failed if job.path.parent == directory]
            self._failed = [(job, error) for job, error in self._failed if job.path.parent != directory]
        for job, error in mine:
            job.on_failure(error)

    def _run(self) -> None:
        try:
            self._write_until_closed()
        except BaseException as exc:  # a bug, not a disk: every later call raises it on the engine thread
            with self._changed:
                self._broken = exc
                self._changed.notify_all()

    def _write_until_closed(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return  # closed, and everything written
                path = next(iter(self._pending))
                job = self._writing = self._pending.pop(path)
            error = job.run()
            with self._changed:
                self._writing = None
                if error is not None:
                    self._failed.append((job, error))
                self._changed.notify_all()
            if error is not None:
                self._hand_back(partial(self._deliver, path.parent))
