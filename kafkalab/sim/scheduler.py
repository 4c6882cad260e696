"""The one scheduler every broker, the coordination service and the clients run on.

Time is virtual: ``now_ms`` only moves when the scheduler runs the next timer, so a
30 s session timeout passes in microseconds under test and in real time under the
TUI's driver (see ``realtime_clock.py``). The shape follows SimPy's core: one heap
of ``(time, sequence, timer)``; timers due at the same time run in the order they
were scheduled, which keeps runs deterministic for a given seed.

A callback that raises does not stop the clock: its error goes to the ``supervisor``
(the cluster journals it as ``ProcessFailed``) and the next timer runs. Without a
supervisor the error propagates, as SimPy raises a failure nobody handled.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kafkalab.sim.failures import Failure, callable_name, first_report

#: 2025-01-01T00:00:00Z. A fresh cluster's virtual clock starts here so that record
#: timestamps look like real epoch milliseconds and runs are reproducible.
DEFAULT_START_MS = 1_735_689_600_000
#: A timer group drops fired and cancelled timers from its list once it holds this many.
PRUNE_AT = 256
#: The heap is swept of cancelled timers after at least this many pushes (and its own size).
SWEEP_AFTER_PUSHES = 4096
#: The owner named for a failing timer that belongs to no ``TimerGroup`` (network deliveries, sessions).
ENGINE = "engine"


@dataclass(eq=False, slots=True)
class Timer:
    """A scheduled callback; ``cancel()`` stops it from running."""

    due_ms: float
    callback: Callable[..., Any]
    args: tuple[Any, ...] = ()
    cancelled: bool = field(default=False)

    def cancel(self) -> None:
        """Stop this timer from firing (a no-op if it already fired).

        The callback and its arguments are dropped at once: a cancelled timer waits in the
        heap until its due time and must not keep a whole request alive meanwhile.
        """
        self.cancelled = True
        self.callback = _do_nothing
        self.args = ()


def _do_nothing(*args: Any) -> None:
    """What a cancelled timer holds instead of its callback."""


class Scheduler:
    """A deterministic discrete-event scheduler with a virtual millisecond clock."""

    def __init__(self, start_ms: float = DEFAULT_START_MS) -> None:
        #: Current virtual time in epoch milliseconds. Only the scheduler moves it; an attribute rather than a
        #: property because everything reads it, a producer once per record (a property is a Python call).
        self.now_ms = float(start_ms)
        self._heap: list[tuple[float, int, Timer]] = []
        self._sequence = itertools.count()
        self._pushes_since_sweep = 0
        self.timers_run = 0
        #: Where failures nobody handled go (the cluster's journal); None raises them.
        self.supervisor: Callable[[Failure], None] | None = None

    def report(self, failure: Failure) -> None:
        """Hand ``failure`` to the supervisor (once per error); without one, raise its error."""
        if self.supervisor is None:
            raise failure.error
        if first_report(failure.error):
            self.supervisor(failure)

    def _contain(self, timer: Timer, error: Exception) -> None:
        """A timer's callback raised: report it and let the clock go on (raise without a supervisor)."""
        self.report(Failure(ENGINE, callable_name(timer.callback), error))

    def now_int_ms(self) -> int:
        """Current virtual time truncated to whole milliseconds (record timestamps)."""
        return int(self.now_ms)

    def call_at(self, due_ms: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run ``callback(*args)`` at virtual time ``due_ms`` (never in the past)."""
        if due_ms < self.now_ms:  # noqa: PLR1730 (a comparison costs less than calling max for every timer)
            due_ms = self.now_ms
        timer = Timer(due_ms, callback, args)
        heapq.heappush(self._heap, (due_ms, next(self._sequence), timer))
        pushes = self._pushes_since_sweep = self._pushes_since_sweep + 1
        if pushes > SWEEP_AFTER_PUSHES and pushes > len(self._heap):
            self._sweep_cancelled()
        return timer

    def _sweep_cancelled(self) -> None:
        """Drop cancelled timers from the heap (every request's timeout is cancelled long before it is due)."""
        self._pushes_since_sweep = 0
        live = [entry for entry in self._heap if not entry[2].cancelled]
        if len(live) < len(self._heap):
            heapq.heapify(live)
            self._heap[:] = live  # in place: a running loop holds this very list

    def call_later(self, delay_ms: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run ``callback(*args)`` after ``delay_ms`` of virtual time."""
        return self.call_at(self.now_ms + delay_ms if delay_ms > 0 else self.now_ms, callback, *args)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run ``callback(*args)`` at the current time, after what is already due now."""
        return self.call_at(self.now_ms, callback, *args)

    def next_due_ms(self) -> float | None:
        """When the next live timer is due, or None if nothing is scheduled."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def step(self) -> bool:
        """Run the next due timer, moving the clock to its time; False if none is left."""
        heap = self._heap
        while heap:
            due_ms, _, timer = heapq.heappop(heap)
            if timer.cancelled:
                continue
            self.now_ms = due_ms
            self.timers_run += 1
            try:  # inline rather than a call: this loop runs every timer of the engine
                timer.callback(*timer.args)
            except Exception as error:
                self._contain(timer, error)
            # A fired timer can stay referenced (its group's list, its owner) and must not keep
            # what it was called with alive: a follower's whole fetch request and answer, say.
            timer.callback = _do_nothing
            timer.args = ()
            return True
        return False

    def run_until(self, until_ms: float) -> None:
        """Run every timer due up to ``until_ms`` and leave the clock at ``until_ms``."""
        heap = self._heap
        while heap:
            due_ms, _, timer = heap[0]
            if due_ms > until_ms:
                break
            heapq.heappop(heap)
            if timer.cancelled:
                continue
            self.now_ms = due_ms
            self.timers_run += 1
            try:  # inline rather than a call: this loop runs every timer of the engine
                timer.callback(*timer.args)
            except Exception as error:
                self._contain(timer, error)
            # A fired timer can stay referenced (its group's list, its owner) and must not keep
            # what it was called with alive: a follower's whole fetch request and answer, say.
            timer.callback = _do_nothing
            timer.args = ()
        self.now_ms = max(self.now_ms, until_ms)

    def run_for(self, duration_ms: float) -> None:
        """Advance virtual time by ``duration_ms``, running everything due meanwhile."""
        self.run_until(self.now_ms + duration_ms)

    def run_while(self, condition: Callable[[], bool], timeout_ms: float) -> bool:
        """Run timers while ``condition()`` is true, for at most ``timeout_ms``.

        Returns True when the condition became false, False on timeout.
        """
        deadline = self.now_ms + timeout_ms
        while condition():
            due = self.next_due_ms()
            if due is None or due > deadline:
                self.run_until(deadline)
                return not condition()
            self.step()
        return True


class TimerGroup:
    """Timers that belong to one owner (a broker's incarnation) and die together.

    A crashed broker must not keep acting: cancelling its group stops every timer
    it had scheduled, with no flag checks scattered through the broker code. A failing
    callback is reported under the group's ``owner``.
    """

    def __init__(self, scheduler: Scheduler, owner: str = ENGINE) -> None:
        self.scheduler = scheduler
        #: Who these timers belong to, as failures name it: ``broker-2``, ``producer-1``, ``session``.
        self.owner = owner
        self._timers: list[Timer] = []
        self._prune_at = PRUNE_AT
        self.closed = False

    def call_later(self, delay_ms: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Like ``Scheduler.call_later``, owned by this group."""
        if len(self._timers) > self._prune_at:
            now = self.scheduler.now_ms
            self._timers = [timer for timer in self._timers if not timer.cancelled and timer.due_ms >= now]
            # Prune again only once the list has doubled, so many live timers cost O(1) per call.
            self._prune_at = max(PRUNE_AT, 2 * len(self._timers))
        timer = self.scheduler.call_later(delay_ms, self._guard, callback, args)
        if self.closed:
            timer.cancel()
        self._timers.append(timer)
        return timer

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> Timer:
        """Like ``Scheduler.call_soon``, owned by this group."""
        return self.call_later(0.0, callback, *args)

    def every(self, period_ms: float, callback: Callable[[], Any], first_delay_ms: float | None = None) -> None:
        """Run ``callback()`` every ``period_ms`` until the group is cancelled."""

        name = f"{callable_name(callback)} (every {period_ms:g} ms)"
        failing: str | None = None  # the error the last run failed with, reported once per run of failures

        def tick() -> None:
            # Kafka's KafkaScheduler (server-common, 3.9) logs "Uncaught exception in scheduled task"
            # and keeps the fixed-rate task going; so does this one, reporting the failure once.
            nonlocal failing
            try:
                callback()
                failing = None
            except Exception as error:
                text = f"{type(error).__name__}: {error}"
                if text != failing:
                    failing = text
                    self.scheduler.report(Failure(self.owner, name, error))
            finally:
                self.call_later(period_ms, tick)

        self.call_later(period_ms if first_delay_ms is None else first_delay_ms, tick)

    def _guard(self, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if self.closed:
            return
        try:
            callback(*args)
        except Exception as error:
            self.scheduler.report(Failure(self.owner, callable_name(callback), error))

    def cancel_all(self) -> None:
        """Cancel every timer of the group; later ``call_later`` calls do nothing."""
        self.closed = True
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
