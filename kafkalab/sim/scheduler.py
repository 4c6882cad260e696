"""The one scheduler every broker, the coordination service and the clients run on.

Time is virtual: ``now_ms`` only moves when the scheduler runs the next timer, so a
30 s session timeout passes in microseconds under test and in real time under the
TUI's driver (see ``realtime_clock.py``). The shape follows SimPy's core: one heap
of ``(time, sequence, timer)``; timers due at the same time run in the order they
were scheduled, which keeps runs deterministic for a given seed.

A timer that is pushed back again and again (a Raft replica's poll wakeup, moved at every
poll) is ``move``d rather than cancelled and scheduled anew: it takes a new place in the
order exactly as a new timer would, but its heap entry stays where it was until it comes
up, and only then goes back in at the timer's latest place. The order of a seed's events
is the same either way; the heap is spared a push and a dead entry per move.

A callback that raises does not stop the clock: its error goes to the ``supervisor``
(the cluster journals it as ``ProcessFailed``) and the next timer runs. Without a
supervisor the error propagates, as SimPy raises a failure nobody handled.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kafkalab.sim.failures import Failure, callable_name, first_report

#: 2025-01-01T00:00:00Z. A fresh cluster's virtual clock starts here so that record
#: timestamps look like real epoch milliseconds and runs are reproducible.
DEFAULT_START_MS = 1_735_689_600_000
#: A timer group drops fired and cancelled timers from its list once it holds this many.
PRUNE_AT = 256
#: The heap is swept of cancelled timers after at least this many pushes (and its own size). Nearly every
#: purgatory deadline is cancelled (three per acks=all request): swept only after 4,096 pushes, they kept
#: the heap at thousands of entries that every push and pop climbed through, and each was popped at its due time.
SWEEP_AFTER_PUSHES = 256
#: The owner named for a failing timer that belongs to no ``TimerGroup`` (network deliveries, sessions).
ENGINE = "engine"

#: Where a timer stands in the order of events: its due time, then its sequence number.
Place = tuple[float, int]


@dataclass(eq=False, slots=True)
class Timer:
    """A scheduled callback; ``cancel()`` stops it from running."""

    due_ms: float
    callback: Callable[..., Any]
    args: tuple[Any, ...] = ()
    cancelled: bool = field(default=False)
    #: Its place among the timers due at ``due_ms``: the order it was scheduled (or last moved) in.
    sequence: int = 0
    #: The key of the heap entry that stands for it; later than ``(due_ms, sequence)`` only after a ``move``.
    queued_ms: float = 0.0
    queued_sequence: int = 0

    @property
    def pending(self) -> bool:
        """Neither run (nor running) nor cancelled."""
        return self.callback is not _do_nothing

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

    def _contain(self, callback: Callable[..., Any], error: Exception) -> None:
        """A timer's callback raised: report it and let the clock go on (raise without a supervisor)."""
        self.report(Failure(ENGINE, callable_name(callback), error))

    def now_int_ms(self) -> int:
        """Current virtual time truncated to whole milliseconds (record timestamps)."""
        return int(self.now_ms)

    def call_at(self, due_ms: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run ``callback(*args)`` at virtual time ``due_ms`` (never in the past)."""
        if due_ms < self.now_ms:  # noqa: PLR1730 (a comparison costs less than calling max for every timer)
            due_ms = self.now_ms
        sequence = next(self._sequence)
        timer = Timer(due_ms, callback, args, False, sequence, due_ms, sequence)
        self._push(due_ms, sequence, timer)
        return timer

    def place_later(self, delay_ms: float) -> Place:
        """The place a timer scheduled now to run after ``delay_ms`` would take, for ``call_at_place`` or ``move_to``.

        Taking it is what scheduling does to the order of events: a timer later put at this
        place runs exactly where one scheduled now would have.
        """
        now = self.now_ms
        return (now + delay_ms if delay_ms > 0 else now), next(self._sequence)

    def call_at_place(self, place: Place, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run ``callback(*args)`` at ``place`` (from ``place_later``, and not passed yet)."""
        due_ms, sequence = place
        timer = Timer(due_ms, callback, args, False, sequence, due_ms, sequence)
        self._push(due_ms, sequence, timer)
        return timer

    def move(self, timer: Timer, due_ms: float) -> bool:
        """Run a pending ``timer`` at ``due_ms`` instead, after every timer already scheduled for then.

        The same as cancelling it and scheduling its callback anew, in the order of events
        too; only a move to an earlier time pushes a heap entry. False (and nothing moved)
        when the timer has run, is running or was cancelled.
        """
        if due_ms < self.now_ms:  # noqa: PLR1730 (as in call_at)
            due_ms = self.now_ms
        return self.move_to(timer, (due_ms, next(self._sequence)))

    def move_to(self, timer: Timer, place: Place) -> bool:
        """Run a pending ``timer`` at ``place`` (from ``place_later``, not passed yet) instead; False as ``move``."""
        if timer.callback is _do_nothing:
            return False
        due_ms, sequence = place
        timer.due_ms = due_ms
        timer.sequence = sequence
        if place < (timer.queued_ms, timer.queued_sequence):  # its entry would come up too late: a new one
            timer.queued_ms = due_ms
            timer.queued_sequence = sequence
            self._push(due_ms, sequence, timer)
        return True

    def _push(self, due_ms: float, sequence: int, timer: Timer) -> None:
        heapq.heappush(self._heap, (due_ms, sequence, timer))
        pushes = self._pushes_since_sweep = self._pushes_since_sweep + 1
        if pushes > SWEEP_AFTER_PUSHES and pushes > len(self._heap):
            self._sweep_cancelled()

    def _sweep_cancelled(self) -> None:
        """Drop cancelled timers and stale entries from the heap (every request's timeout is cancelled long before it is due)."""
        self._pushes_since_sweep = 0
        live = [entry for entry in self._heap if not entry[2].cancelled and entry[1] == entry[2].queued_sequence]
        if len(live) < len(self._heap):
            heapq.heapify(live)
            self._heap[:] = live  # in place: a running loop holds this very list

    def _requeue(self, sequence: int, timer: Timer) -> None:
        """An entry that is not its timer's place came up: put a moved timer back at its place, drop a stale entry."""
        if sequence == timer.queued_sequence:
            timer.queued_ms = timer.due_ms
            timer.queued_sequence = timer.sequence
            heapq.heappush(self._heap, (timer.due_ms, timer.sequence, timer))

    def call_later(self, delay_ms: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run ``callback(*args)`` after ``delay_ms`` of virtual time."""
        # ``call_at``'s body and ``_push``'s, inline: every message delivery and every Raft poll is scheduled here.
        due_ms = self.now_ms + delay_ms if delay_ms > 0 else self.now_ms
        sequence = next(self._sequence)
        timer = Timer(due_ms, callback, args, False, sequence, due_ms, sequence)
        heap = self._heap
        heapq.heappush(heap, (due_ms, sequence, timer))
        pushes = self._pushes_since_sweep = self._pushes_since_sweep + 1
        if pushes > SWEEP_AFTER_PUSHES and pushes > len(heap):
            self._sweep_cancelled()
        return timer

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run ``callback(*args)`` at the current time, after what is already due now."""
        return self.call_at(self.now_ms, callback, *args)

    def next_due_ms(self) -> float | None:
        """When the next live timer is due, or None if nothing is scheduled."""
        heap = self._heap
        while heap:
            _, sequence, timer = heap[0]
            if not timer.cancelled and sequence == timer.sequence:
                return heap[0][0]
            heapq.heappop(heap)
            if not timer.cancelled:
                self._requeue(sequence, timer)
        return None

    def step(self) -> bool:
        """Run the next due timer, moving the clock to its time; False if none is left."""
        entry = self._next_live(math.inf)
        if entry is None:
            return False
        self._run(*entry)
        return True

    def _next_live(self, limit_ms: float) -> tuple[float, Timer] | None:
        """Take the next live timer off the heap if it is due by ``limit_ms`` (dropping cancelled ones and moving
        rescheduled ones on the way); None if there is none by then."""
        heap = self._heap
        while heap:
            due_ms, sequence, timer = heap[0]
            if timer.cancelled:
                heapq.heappop(heap)
                continue
            if sequence != timer.sequence:
                heapq.heappop(heap)
                self._requeue(sequence, timer)
                continue
            if due_ms > limit_ms:
                return None
            heapq.heappop(heap)
            return due_ms, timer
        return None

    def _run(self, due_ms: float, timer: Timer) -> None:
        self.now_ms = due_ms
        self.timers_run += 1
        # A fired timer can stay referenced (its group's list, its owner) and must not keep what it
        # was called with alive: a follower's whole fetch request and answer, say. Dropped before
        # the call, so that the callback sees its own timer as no longer pending.
        callback, args = timer.callback, timer.args
        timer.callback = _do_nothing
        timer.args = ()
        try:
            callback(*args)
        except Exception as error:
            self._contain(callback, error)

    def run_until(self, until_ms: float) -> None:
        """Run every timer due up to ``until_ms`` and leave the clock at ``until_ms``."""
        heap = self._heap
        while heap:
            due_ms, sequence, timer = heap[0]
            if due_ms > until_ms:
                break
            heapq.heappop(heap)
            if timer.cancelled:
                continue
            if sequence != timer.sequence:
                self._requeue(sequence, timer)
                continue
            self.now_ms = due_ms
            self.timers_run += 1
            # Inline rather than ``_run``: this loop runs every timer of the engine.
            callback, args = timer.callback, timer.args
            timer.callback = _do_nothing
            timer.args = ()
            try:
                callback(*args)
            except Exception as error:
                self._contain(callback, error)
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
            entry = self._next_live(deadline)
            if entry is None:
                self.run_until(deadline)
                return not condition()
            self._run(*entry)
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
        return self._own(self.scheduler.call_later(delay_ms, self._guard, callback, args))

    def call_at_place(self, place: Place, callback: Callable[..., Any], *args: Any) -> Timer:
        """Like ``Scheduler.call_at_place``, owned by this group (a purgatory's deadlines take their places early)."""
        return self._own(self.scheduler.call_at_place(place, self._guard, callback, args))

    def _own(self, timer: Timer) -> Timer:
        """Count ``timer`` among the group's (cancelled at once if the group is closed)."""
        if len(self._timers) > self._prune_at:
            now = self.scheduler.now_ms
            self._timers = [t for t in self._timers if not t.cancelled and t.due_ms >= now]
            # Prune again only once the list has doubled, so many live timers cost O(1) per call.
            self._prune_at = max(PRUNE_AT, 2 * len(self._timers))
        if self.closed:
            timer.cancel()
        self._timers.append(timer)
        return timer

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> Timer:
        """Like ``Scheduler.call_soon``, owned by this group."""
        return self.call_later(0.0, callback, *args)

    def move_later(self, timer: Timer, delay_ms: float) -> bool:
        """Run this group's pending ``timer`` after ``delay_ms`` instead, as ``Scheduler.move`` does.

        False when it has run, is running or was cancelled: the caller schedules anew.
        """
        if self.closed:
            return False
        now = self.scheduler.now_ms
        return self.scheduler.move(timer, now + delay_ms if delay_ms > 0 else now)

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
