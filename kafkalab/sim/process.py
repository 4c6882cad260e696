"""Futures and generator-based processes on the scheduler (the SimPy pattern).

Brokers and the controller wait on network responses. Writing those waits as
``response = yield future`` keeps each protocol step readable in one function
instead of a chain of callbacks. A process belongs to a ``TimerGroup``: when the
group is cancelled (a broker crashes), its processes never resume.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from kafkalab.errors import KafkaError
from kafkalab.sim.scheduler import TimerGroup

T = TypeVar("T")

#: Exceptions a process may raise to fail its own future instead of the whole engine.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (KafkaError,)


def register_expected_error(error_type: type[BaseException]) -> None:
    """Let ``error_type`` fail a process's future rather than propagate (domain errors)."""
    global EXPECTED_ERRORS
    EXPECTED_ERRORS = (*EXPECTED_ERRORS, error_type)


class Future(Generic[T]):
    """A value that arrives later: a response, a completed operation or an error."""

    __slots__ = ("_callbacks", "_done", "_error", "_result")

    def __init__(self) -> None:
        self._done = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Future[T]], None]] = []

    @classmethod
    def completed(cls, value: T) -> Future[T]:
        """A future that already holds ``value``."""
        future: Future[T] = cls()
        future.set_result(value)
        return future

    @classmethod
    def failed(cls, error: BaseException) -> Future[T]:
        """A future that already holds ``error``."""
        future: Future[T] = cls()
        future.set_error(error)
        return future

    @property
    def done(self) -> bool:
        """True once a result or an error is set."""
        return self._done

    @property
    def error(self) -> BaseException | None:
        """The error, if the future failed."""
        return self._error

    def result(self) -> T:
        """The value; raises the error if the future failed or is not done yet."""
        if not self._done:
            raise RuntimeError("future is not done")
        if self._error is not None:
            raise self._error
        return self._result

    def set_result(self, value: T) -> None:
        """Complete with ``value`` (later calls are ignored)."""
        if self._done:
            return
        self._done = True
        self._result = value
        self._run_callbacks()

    def set_error(self, error: BaseException) -> None:
        """Fail with ``error`` (later calls are ignored)."""
        if self._done:
            return
        self._done = True
        self._error = error
        self._run_callbacks()

    def add_done_callback(self, callback: Callable[[Future[T]], None]) -> None:
        """Call ``callback(self)`` when done (at once if already done)."""
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def _run_callbacks(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)


class Sleep:
    """Yield ``Sleep(ms)`` from a process to wait that long in virtual time."""

    __slots__ = ("delay_ms",)

    def __init__(self, delay_ms: float) -> None:
        self.delay_ms = delay_ms


Process = Generator[Any, Any, T]


def spawn(group: TimerGroup, process: Process[T]) -> Future[T]:
    """Run ``process`` until it returns; each ``yield future`` waits for that future.

    A yielded future's value is sent back into the generator and its error thrown in.
    A process raising one of EXPECTED_ERRORS fails the returned future; any other
    exception is a bug and propagates so tests fail loudly.
    """
    outcome: Future[T] = Future()

    def advance(send_value: Any = None, throw: BaseException | None = None) -> None:
        while True:
            if group.closed:
                process.close()
                return
            try:
                awaited = process.throw(throw) if throw is not None else process.send(send_value)
            except StopIteration as stop:
                outcome.set_result(stop.value)
                return
            except EXPECTED_ERRORS as error:
                outcome.set_error(error)
                return
            if isinstance(awaited, Sleep):
                group.call_later(awaited.delay_ms, advance)
                return
            if not isinstance(awaited, Future):
                raise TypeError(f"a process may yield a Future or Sleep, not {awaited!r}")
            if not awaited.done:
                awaited.add_done_callback(on_done)
                return
            # Already complete: continue in this loop rather than recursing.
            throw, send_value = awaited.error, (None if awaited.error else awaited.result())

    def on_done(future: Future[Any]) -> None:
        if future.error is not None:
            advance(throw=future.error)
        else:
            advance(future.result())

    advance()
    return outcome


class SerialQueue:
    """Runs processes one at a time in arrival order, like Kafka's controller event thread."""

    def __init__(self, group: TimerGroup) -> None:
        self._group = group
        self._queue: deque[tuple[Callable[[], Process[Any]], Future[Any]]] = deque()
        self._busy = False

    def submit(self, factory: Callable[[], Process[T]]) -> Future[T]:
        """Queue ``factory()``'s process; the future completes when it has run."""
        done: Future[T] = Future()
        self._queue.append((factory, done))
        if not self._busy:
            self._run_next()
        return done

    def __len__(self) -> int:
        return len(self._queue)

    def _run_next(self) -> None:
        if not self._queue or self._group.closed:
            self._busy = False
            return
        self._busy = True
        factory, done = self._queue.popleft()

        def finished(result: Future[Any]) -> None:
            if result.error is not None:
                done.set_error(result.error)
            else:
                done.set_result(result.result())
            self._group.call_soon(self._run_next)

        spawn(self._group, factory()).add_done_callback(finished)
