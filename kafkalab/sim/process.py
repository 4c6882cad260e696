"""Futures and generator-based processes on the scheduler (the SimPy pattern).

Brokers and the controller wait on network responses. Writing those waits as
``response = yield future`` keeps each protocol step readable in one function
instead of a chain of callbacks. A process belongs to a ``TimerGroup``: when the
group is cancelled (a broker crashes), its processes never resume.

Every process is supervised, as SimPy's failed events raise unless handled: ``spawn``
names it and returns a ``Task``; if it fails and nobody ``claim()``-ed the task (a caller
that reads its result) or waits on it (``yield task``), the failure goes to the
scheduler's supervisor, which the cluster turns into a ``ProcessFailed`` event.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from kafkalab.sim.failures import Failure
from kafkalab.sim.scheduler import TimerGroup

T = TypeVar("T")


class Future(Generic[T]):
    """A value that arrives later: a response, a completed operation or an error."""

    __slots__ = ("_callbacks", "_done", "_error", "_result")

    def __init__(self) -> None:
        self._done = False
        self._result: Any = None
        self._error: BaseException | None = None
        #: Made on the first ``add_done_callback``: most futures (a producer's records) never get one.
        self._callbacks: list[Callable[[Future[T]], None]] | None = None

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
        elif self._callbacks is None:
            self._callbacks = [callback]
        else:
            self._callbacks.append(callback)

    def _run_callbacks(self) -> None:
        callbacks, self._callbacks = self._callbacks, None
        for callback in callbacks or ():
            callback(self)


class Sleep:
    """Yield ``Sleep(ms)`` from a process to wait that long in virtual time."""

    __slots__ = ("delay_ms",)

    def __init__(self, delay_ms: float) -> None:
        self.delay_ms = delay_ms


Process = Generator[Any, Any, T]


class Task(Future[T]):
    """The outcome of a named process, supervised: an error nobody takes charge of is reported.

    ``claim()`` (a caller that reads the result) or a process waiting on the task takes charge
    of Kafka's and ZooKeeper's errors. A bug (any other exception) is reported even then, once,
    so no reader can swallow it.
    """

    __slots__ = ("_claimed", "group", "name")

    def __init__(self, group: TimerGroup, name: str) -> None:
        super().__init__()
        self.group = group
        #: What the process does, as a failure names it (``replica fetcher from broker 1``).
        self.name = name
        self._claimed = False

    def claim(self) -> Task[T]:
        """Take charge of this task's error: the caller reads ``result()`` or ``error``. Returns the task."""
        self._claimed = True
        return self

    def set_error(self, error: BaseException) -> None:
        """Fail with ``error``; unless claimed by the end of this instant, it is reported (a bug always is)."""
        if self._done:
            return
        # Looked at once the current callback has returned, so a caller can still claim a task
        # whose process failed before ``spawn`` returned it; scheduled before the callbacks run, so
        # a bug passing up through tasks that wait on this one is reported where it happened.
        self.group.scheduler.call_soon(self._report_if_unclaimed)
        super().set_error(error)

    def _report_if_unclaimed(self) -> None:
        if self._error is None:
            return
        failure = Failure(self.group.owner, self.name, self._error)
        if not self._claimed or failure.bug:
            self.group.scheduler.report(failure)


def spawn(group: TimerGroup, process: Process[T], *, name: str) -> Task[T]:
    """Run ``process`` (what it does: ``name``) until it returns; each ``yield future`` waits for that future.

    A yielded future's value is sent back into the generator and its error thrown in
    (a yielded ``Task`` is thereby claimed by the waiting process). Any exception the
    process raises fails the returned task: a Kafka error is an outcome, anything else
    a bug; see ``Task`` for who hears of it.
    """
    task: Task[T] = Task(group, name)
    _drive(group, process, task)
    return task


def _drive(group: TimerGroup, process: Process[T], task: Task[T]) -> None:
    """Advance ``process`` whenever what it waits for is done, settling ``task`` when it ends."""

    def advance(done: Future[Any] | None = None) -> None:
        """Resume the process with ``done``'s value or error (nothing after a ``Sleep`` or at the start).

        Registered as the awaited future's callback itself: a follower resumes its fetcher this way
        twice per produce request. Through the future's properties, which a ``RecordFuture`` answers
        from its batch.
        """
        while True:
            throw: BaseException | None = None
            send_value: Any = None
            if done is not None:
                throw = done.error
                send_value = None if throw is not None else done.result()
            if group.closed:
                process.close()
                return
            try:
                awaited = process.throw(throw) if throw is not None else process.send(send_value)
            except StopIteration as stop:
                task.set_result(stop.value)
                return
            except Exception as error:
                task.set_error(error)
                return
            if isinstance(awaited, Sleep):
                group.call_later(awaited.delay_ms, advance)
                return
            if isinstance(awaited, Task):
                awaited.claim()
            elif not isinstance(awaited, Future):
                task.set_error(TypeError(f"a process may yield a Future or Sleep, not {awaited!r}"))
                process.close()
                return
            if not awaited.done:
                awaited.add_done_callback(advance)
                return
            done = awaited  # already complete: continue in this loop rather than recursing

    advance()


class SerialQueue:
    """Runs processes one at a time in arrival order, like Kafka's controller event thread.

    One event failing does not stop the queue (Kafka's ``ControllerEventThread`` logs an
    uncaught error and takes the next event); the event's task reports the failure.
    """

    def __init__(self, group: TimerGroup) -> None:
        self._group = group
        self._queue: deque[tuple[Callable[[], Process[Any]], Task[Any]]] = deque()
        self._busy = False

    def submit(self, factory: Callable[[], Process[T]], *, name: str) -> Task[T]:
        """Queue ``factory()``'s process named ``name``; the task completes when it has run."""
        done: Task[T] = Task(self._group, name)
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
        done.add_done_callback(self._next_soon)
        _drive(self._group, factory(), done)

    def _next_soon(self, _: Future[Any]) -> None:
        self._group.call_soon(self._run_next)
