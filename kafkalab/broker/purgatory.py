"""Requests that wait at a broker for something to happen (Kafka's delayed-operation purgatory).

A fetch with nothing to return waits up to ``max_wait_ms`` for new data (long polling);
an ``acks=all`` produce waits until every in-sync replica has the records. Each waiting
operation watches the partitions it needs and is re-checked when they change; a follower's fetch
in a session watches one key for all its partitions (``ReplicaManager._check_fetches``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from kafkalab.sim.scheduler import Timer, TimerGroup


class DelayedOperation:
    """An operation completed by ``try_complete`` returning True, or by its deadline."""

    __slots__ = ("completed", "keys", "on_expire", "timer", "try_complete")

    def __init__(self, keys: tuple[Hashable, ...], try_complete: Callable[[], bool],
                 on_expire: Callable[[], None]) -> None:
        self.keys = keys
        self.try_complete = try_complete
        self.on_expire = on_expire
        self.completed = False
        self.timer: Timer | None = None


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

    def try_complete_else_watch(self, keys: tuple[Hashable, ...], try_complete: Callable[[], bool],
                                on_expire: Callable[[], None], timeout_ms: float) -> None:
        """Complete now if possible, else wait until a key is checked or ``timeout_ms`` passes."""
        if not try_complete():
            self.watch(keys, try_complete, on_expire, timeout_ms)

    def watch(self, keys: tuple[Hashable, ...], try_complete: Callable[[], bool],
              on_expire: Callable[[], None], timeout_ms: float) -> None:
        """Wait without trying first, for a caller that already knows the operation cannot complete now."""
        operation = DelayedOperation(keys, try_complete, on_expire)
        for key in keys:
            self._watchers.setdefault(key, []).append(operation)
        operation.timer = self._group.call_later(timeout_ms, self._expire, operation)

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
                    operation.completed = True
                    if operation.timer is not None:
                        operation.timer.cancel()
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

    def _expire(self, operation: DelayedOperation) -> None:
        if operation.completed:
            return
        operation.completed = True
        for key in operation.keys:
            waiting = self._watchers.get(key)
            if waiting is not None:
                self._watchers[key] = [op for op in waiting if op is not operation]
                if not self._watchers[key]:
                    del self._watchers[key]
        operation.on_expire()

    def waiting(self, key: Hashable) -> int:
        """How many operations wait on ``key``."""
        return sum(1 for op in self._watchers.get(key, ()) if not op.completed)
