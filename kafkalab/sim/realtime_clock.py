"""Drive the scheduler in real time on its own thread: the TUI's engine loop.

Virtual time follows the wall clock multiplied by ``speed`` (0.1x to 10x); ``pause``
freezes it and ``step`` advances it by a fixed amount while paused. Every change to
engine state happens on this thread: other threads hand work over with ``submit`` and
read what ``on_tick`` publishes. This module is the only place that reads a wall clock.

The scheduler contains what its timers raise, so the thread stops only on an error
outside them (in ``on_tick``); then ``on_error`` says so, and work submitted afterwards
fails at once with that error instead of waiting forever.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from kafkalab.sim.scheduler import Scheduler

T = TypeVar("T")

MIN_SPEED = 0.1
MAX_SPEED = 10.0
#: How far virtual time may fall behind before the driver stops trying to catch up.
MAX_LAG_MS = 1000.0


class Waiter(Protocol):
    """Something the engine thread can wait in (the Kafka listener's sockets) and other threads can wake."""

    def wait(self, timeout: float) -> None:
        """Block up to ``timeout`` seconds, or until woken, doing the waiter's own work meanwhile."""

    def wake(self) -> None:
        """Make a ``wait`` in progress return (any thread)."""


class RealtimeDriver:
    """Runs ``scheduler`` in step with the wall clock on a background thread."""

    def __init__(self, scheduler: Scheduler, on_tick: Callable[[], None] | None = None,
                 tick_seconds: float = 0.02, speed: float = 1.0, paused: bool = False,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.scheduler = scheduler
        self.on_tick = on_tick or (lambda: None)
        #: Called on the engine thread with the error that stopped it.
        self.on_error = on_error or (lambda error: None)
        self.tick_seconds = tick_seconds
        self._speed = speed
        self._paused = paused
        self._commands: queue.Queue[tuple[Callable[[], None], Future[Any]]] = queue.Queue()
        #: Held while work is queued or the thread dies, so no work is queued to a dead thread.
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._running = False
        self._wall_base = time.monotonic()
        self._sim_base = scheduler.now_ms
        self.error: BaseException | None = None
        self._waiter: Waiter | None = None

    # -- control (any thread) ------------------------------------------------------

    def start(self) -> None:
        """Start the engine thread."""
        self._running = True
        self._rebase()
        self._thread = threading.Thread(target=self._loop, name="kafkalab-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the engine thread after the work already submitted."""
        self._running = False
        self.submit(lambda: None)
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(self, work: Callable[[], T]) -> Future[T]:
        """Run ``work()`` on the engine thread; the future holds its result or exception.

        Once the thread has stopped on an error, the future fails at once with that error.
        """
        result: Future[T] = Future()

        def run() -> None:
            if not result.set_running_or_notify_cancel():
                return
            try:
                result.set_result(work())
            except BaseException as exc:  # handed to the caller through the future
                result.set_exception(exc)

        with self._lock:
            if self.error is not None:
                result.set_exception(self.error)
            else:
                self._commands.put((run, result))
        waiter = self._waiter
        if waiter is not None:
            waiter.wake()
        return result

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def speed(self) -> float:
        return self._speed

    def pause(self) -> None:
        """Freeze virtual time."""
        self.submit(lambda: self._set_paused(True))

    def resume(self) -> None:
        """Let virtual time run again."""
        self.submit(lambda: self._set_paused(False))

    def toggle_pause(self) -> None:
        self.submit(lambda: self._set_paused(not self._paused))

    def set_speed(self, speed: float) -> None:
        """Change how fast virtual time runs, clamped to 0.1x-10x."""
        self.submit(lambda: self._set_speed(speed))

    def step(self, duration_ms: float = 100.0) -> None:
        """While paused, advance virtual time by ``duration_ms``."""
        self.submit(lambda: self._step(duration_ms))

    def set_waiter(self, waiter: Waiter | None) -> None:
        """Wait in ``waiter`` instead of on the work queue (None: on the queue again); on the engine thread.

        The Kafka listener serves its sockets this way, on this thread: a request is handled when it
        arrives and its answer written when it exists, with no hand-over to another thread.
        """
        self._waiter = waiter

    # -- engine thread -------------------------------------------------------------

    def use_scheduler(self, scheduler: Scheduler) -> None:
        """Drive ``scheduler`` from now on (on the engine thread, when the app switches to another cluster)."""
        self.scheduler = scheduler
        self._rebase()

    def _rebase(self) -> None:
        self._wall_base = time.monotonic()
        self._sim_base = self.scheduler.now_ms

    def _set_paused(self, paused: bool) -> None:
        self._paused = paused
        self._rebase()

    def _set_speed(self, speed: float) -> None:
        self._speed = min(MAX_SPEED, max(MIN_SPEED, speed))
        self._rebase()

    def _step(self, duration_ms: float) -> None:
        self.scheduler.run_for(duration_ms)
        self._rebase()

    def _loop(self) -> None:
        try:
            while self._running:
                self._drain_commands()
                if not self._paused:
                    target = self._virtual_now()
                    if target - self.scheduler.now_ms > MAX_LAG_MS * self._speed:
                        self._rebase()  # the engine cannot keep up: slow down rather than burst
                        target = self.scheduler.now_ms
                    self.scheduler.run_until(target)
                self.on_tick()
                self._wait()
        except BaseException as exc:  # surfaced to the UI, which shows it and keeps running
            self._die(exc)

    def _die(self, error: BaseException) -> None:
        """The thread stops on ``error``: fail the work still queued and say so."""
        with self._lock:
            self.error = error
            self._running = False
            while not self._commands.empty():
                _, queued = self._commands.get_nowait()
                if not queued.done():
                    queued.set_exception(error)
        self.on_error(error)

    def _drain_commands(self) -> None:
        while True:
            try:
                command, _ = self._commands.get_nowait()
            except queue.Empty:
                return
            command()

    def _virtual_now(self) -> float:
        """Where virtual time stands by the wall clock now (the scheduler lags it while timers run)."""
        return self._sim_base + (time.monotonic() - self._wall_base) * 1000.0 * self._speed

    def _wait(self) -> None:
        timeout = self.tick_seconds if not self._paused else 0.25
        due = None if self._paused else self.scheduler.next_due_ms()
        if due is not None:
            # Wake when the next timer is due rather than at the next tick: a network client's
            # request crosses several timers (link latency, replication) and each tick would add up to 20 ms.
            # Measured from the wall clock, not from the scheduler's clock: running the last timers took
            # time, and a timer already due by the wall clock runs now instead of one more wait later.
            timeout = min(timeout, max(0.0, (due - self._virtual_now()) / 1000.0 / self._speed))
        waiter = self._waiter
        if waiter is not None:
            # Work submitted meanwhile wakes the waiter, and the next pass runs it. With work already
            # queued the waiter still looks once, without blocking: a steady stream of submitted work
            # must not starve the sockets.
            waiter.wait(timeout if self._commands.empty() else 0.0)
            return
        try:
            command, _ = self._commands.get(timeout=timeout) if timeout > 0 else self._commands.get_nowait()
        except queue.Empty:
            return
        command()
