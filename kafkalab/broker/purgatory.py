"""Requests that wait at a broker for something to happen (Kafka's delayed-operation purgatory).

A fetch with nothing to return waits up to ``max_wait_ms`` for new data (long polling);
an ``acks=all`` produce waits until every in-sync replica has the records. Each waiting
operation watches the partitions it needs and is re-checked when they change; a follower's fetch
in a session watches one key for all its partitions (``ReplicaManager._check_fetches``).

Nearly every operation completes long before its deadline (an ``acks=all`` produce in a
millisecond or two of its 30 s). The deadlines of operations that wait equally long therefore
share one timer, kept at the earliest (Kafka keeps all in one timing wheel, ``SystemTimer``),
instead of a timer each that was scheduled and cancelled for every request. Each deadline takes
its place in the order of events when its operation starts waiting, as its own timer would have,
so expiries run exactly where they did. With nothing left waiting a timer stays where it was and,
unless an operation comes first, wakes once for nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable

from kafkalab.sim.scheduler import Place, Timer, TimerGroup

#: Completed operations still in a deadline queue (behind one still waiting) before it is swept.
SWEEP_AFTER = 64


def _never() -> bool:
    """What a completed operation holds instead of its check: it must not keep its request alive."""
    return False


def _nothing() -> None:
    """What a completed operation holds instead of its expiry."""


class DelayedOperation:
    """An operation completed by ``try_complete`` returning True, or by its deadline."""

    __slots__ = ("completed", "deadlines", "keys", "on_expire", "try_complete")

    def __init__(self, keys: tuple[Hashable, ...], try_complete: Callable[[], bool],
                 on_expire: Callable[[], None], deadlines: _Deadlines) -> None:
        self.keys = keys
        self.try_complete = try_complete
        self.on_expire = on_expire
        self.completed = False
        self.deadlines = deadlines

    def finish(self) -> None:
        """Completed or expired: drop what it would have called, and the request and answer they hold."""
        self.completed = True
        self.try_complete = _never
        self.on_expire = _nothing


class _Deadlines:
    """The deadlines of operations that wait equally long, in the order they started waiting, and their timer.

    Their places in the order of events come in that order too, so the timer only ever moves later
    (moving it earlier would leave its old place queued where a new timer may have to go).
    """

    __slots__ = ("_expire", "_forget", "_group", "queue", "stale", "timer")

    def __init__(self, group: TimerGroup, expire: Callable[[DelayedOperation], None],
                 forget: Callable[[_Deadlines], None]) -> None:
        self._group = group
        self._expire = expire
        #: Called once the timer has run with nothing left waiting: a client picks its fetches' wait, so the
        #: purgatory must not keep one of these for every wait ever asked for.
        self._forget = forget
        #: (place, operation): each deadline's place in the order of events, the earliest first. Completed
        #: operations leave when they come first, or in a sweep.
        self.queue: deque[tuple[Place, DelayedOperation]] = deque()
        #: Completed operations still in ``queue``.
        self.stale = 0
        #: At the earliest waiting deadline (with none waiting, where it last was).
        self.timer: Timer | None = None

    def add(self, operation: DelayedOperation, timeout_ms: float) -> None:
        """``operation`` waits from now: its deadline takes the place its own timer would have taken."""
        queue = self.queue
        queue.append((self._group.scheduler.place_later(timeout_ms), operation))
        if len(queue) == 1:
            self.arm()

    def completed(self, operation: DelayedOperation) -> None:
        """``operation`` completed before its deadline."""
        self.stale += 1
        if self.queue[0][1] is operation:
            self.arm()
        elif self.stale > SWEEP_AFTER and 2 * self.stale > len(self.queue):
            # Completed operations behind one still waiting (a produce whose followers fell behind).
            self.queue = deque(entry for entry in self.queue if not entry[1].completed)
            self.stale = 0

    def arm(self) -> None:
        """Put the timer at the earliest deadline still waiting, dropping completed ones before it."""
        queue = self.queue
        while queue and queue[0][1].completed:
            queue.popleft()
            self.stale -= 1
        if not queue:
            return  # the timer stays where it is: moved on for the next operation, or a wakeup for nothing
        place = queue[0][0]
        timer = self.timer
        if timer is None or not self._group.scheduler.move_to(timer, place):
            self.timer = self._group.call_at_place(place, self._run)

    def _run(self) -> None:
        """The timer's run: the earliest waiting operation reached its deadline."""
        if self.queue:
            operation = self.queue.popleft()[1]
            self.arm()
            self._expire(operation)
        if not self.queue:
            self._forget(self)


class Purgatory:
    """Waiting operations keyed by what they watch: partitions, or a follower fetch session.

    An operation completed through one key leaves the watch lists of its other keys as
    soon as no check is walking a list. Kafka's ``DelayedOperationPurgatory`` leaves it
    there until ``purge.interval.requests`` (1000) such operations add up (its lists are
    shared between threads); kept until then here, a follower's fetch, which watches every
    partition it replicates (``__consumer_offsets`` has 50), held its request and answer
    alive and made the garbage collector's full passes take hundreds of milliseconds.
    """

    def __init__(self, group: TimerGroup) -> None:
        self._group = group
        self._watchers: dict[Hashable, list[DelayedOperation]] = {}
        #: How many checks are walking watch lists now (a completion can start another check).
        self._checking = 0
        #: Operations completed through one key that other keys' lists still hold.
        self._to_unwatch: list[DelayedOperation] = []
        #: The deadlines of the operations waiting, by how long they wait.
        self._deadlines: dict[float, _Deadlines] = {}

    def try_complete_else_watch(self, keys: tuple[Hashable, ...], try_complete: Callable[[], bool],
                                on_expire: Callable[[], None], timeout_ms: float) -> None:
        """Complete now if possible, else wait until a key is checked or ``timeout_ms`` passes."""
        if not try_complete():
            self.watch(keys, try_complete, on_expire, timeout_ms)

    def watch(self, keys: tuple[Hashable, ...], try_complete: Callable[[], bool],
              on_expire: Callable[[], None], timeout_ms: float) -> None:
        """Wait without trying first, for a caller that already knows the operation cannot complete now."""
        deadlines = self._deadlines.get(timeout_ms)
        if deadlines is None:
            deadlines = self._deadlines[timeout_ms] = _Deadlines(
                self._group, self._expire, lambda done: self._forget(timeout_ms, done))
        operation = DelayedOperation(keys, try_complete, on_expire, deadlines)
        for key in keys:
            self._watchers.setdefault(key, []).append(operation)
        deadlines.add(operation, timeout_ms)

    def check_and_complete(self, key: Hashable) -> None:
        """Re-check the operations waiting on ``key``; completed ones leave the purgatory."""
        operations = self._watchers.get(key)
        if not operations:
            return
        remaining = []
        self._checking += 1
        try:
            for operation in operations:
                if operation.completed:
                    continue
                if operation.try_complete():
                    operation.finish()
                    operation.deadlines.completed(operation)
                    if len(operation.keys) > 1:
                        self._to_unwatch.append(operation)
                else:
                    remaining.append(operation)
            if remaining:
                self._watchers[key] = remaining
            else:
                self._watchers.pop(key, None)
        finally:
            self._checking -= 1
        if not self._checking and self._to_unwatch:
            self._unwatch_completed()

    def _unwatch_completed(self) -> None:
        """Drop completed operations from every list that still holds them (no list is being walked)."""
        keys = {key for operation in self._to_unwatch for key in operation.keys}
        self._to_unwatch = []
        for key in keys:
            waiting = self._watchers.get(key)
            if waiting is None:
                continue
            live = [op for op in waiting if not op.completed]
            if live:
                self._watchers[key] = live
            else:
                del self._watchers[key]

    def _forget(self, timeout_ms: float, deadlines: _Deadlines) -> None:
        """Drop ``deadlines``, whose timer ran with nothing waiting (a later wait this long gets new ones)."""
        if self._deadlines.get(timeout_ms) is deadlines:
            del self._deadlines[timeout_ms]

    def _expire(self, operation: DelayedOperation) -> None:
        """``operation`` reached its deadline (``_Deadlines`` has moved its timer on)."""
        on_expire = operation.on_expire
        operation.finish()
        for key in operation.keys:
            waiting = self._watchers.get(key)
            if waiting is not None:
                self._watchers[key] = [op for op in waiting if op is not operation]
                if not self._watchers[key]:
                    del self._watchers[key]
        on_expire()

    def waiting(self, key: Hashable) -> int:
        """How many operations wait on ``key``."""
        return sum(1 for op in self._watchers.get(key, ()) if not op.completed)
