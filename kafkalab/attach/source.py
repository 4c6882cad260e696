"""An attached cluster as a source of views: describe rounds on a thread of their own, one per interval.

Rounds never overlap and never run on the UI thread: the poller thread runs one, builds its
view, narrates what changed since the last one, and hands the ``Snapshot`` to ``on_snapshot``
(the TUI's bridge posts it as a frame). A round that fails as a whole keeps the last view and
says why; the age of what is shown grows until a round succeeds again. The wall clock is read
here and nowhere else in this package, through ``clock``, so tests freeze it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from kafkalab.attach.build import AttachedViewBuilder
from kafkalab.attach.narrate import narrate
from kafkalab.attach.observe import Observation, reason
from kafkalab.events.journal import Event
from kafkalab.gc_pause import collector_paused
from kafkalab.views import ClusterView

#: Observed events kept for the timeline (older ones are dropped, as the lab's journal drops its oldest).
MAX_EVENTS = 20_000




class Observes(Protocol):
    """What runs a describe round (``observe.Observer``; a test gives a scripted one)."""

    def observe(self, now_ms: float) -> Observation: ...


@dataclass(frozen=True)
class Snapshot:
    """The newest view of the attached cluster, and how it was got."""

    view: ClusterView
    #: Wall-clock time the newest round that failed as a whole was tried (None: the last round succeeded).
    failed_at_ms: float | None
    #: Why that round failed, or what the last successful round could not learn.
    problems: tuple[str, ...]

    def age_ms(self, now_ms: float) -> float:
        """How old the shown data is at ``now_ms``."""
        return max(0.0, now_ms - self.view.time_ms)


class AttachSource:
    """Runs rounds, keeps the observed events, and publishes snapshots."""

    def __init__(self, observer: Observes, interval_s: float, *, clock: Callable[[], float] = time.time,
                 on_snapshot: Callable[[Snapshot], None] | None = None) -> None:
        self._observer = observer
        self.interval_s = interval_s
        self._clock = clock
        self._on_snapshot = on_snapshot
        self._builder = AttachedViewBuilder()
        self._events: deque[Event] = deque(maxlen=MAX_EVENTS)
        self._next_seq = 1
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None
        #: Why the newest round failed as a whole (None: it succeeded).
        self.failure: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def now_ms(self) -> float:
        """The wall clock, in milliseconds."""
        return self._clock() * 1000

    @property
    def latest(self) -> Snapshot | None:
        """The newest snapshot (None until the first round succeeded)."""
        with self._lock:
            return self._latest

    def events_since(self, seq: int) -> list[Event]:
        """Observed events numbered after ``seq``, oldest first."""
        with self._lock:
            return [event for event in self._events if event.seq > seq]

    def poll_once(self) -> Snapshot | None:
        """Run one round now (on the calling thread) and publish its snapshot; None while no round ever succeeded."""
        started = self.now_ms()
        try:
            # No automatic garbage collection while a round runs: a round of 10,000 partitions holds 30,000 of
            # confluent-kafka's futures (one per partition and offset kind) and their locks for seconds, so the
            # collector's passes meanwhile promote them to the oldest generation and start full passes over them,
            # 0.1-0.4 s each holding the interpreter lock, the UI thread's longest stalls while attached
            # (benchmarks/README.md). A round leaves no cyclic garbage (its objects are freed by their reference
            # counts), so nothing is lost by collecting after it instead.
            with collector_paused():
                seen = self._observer.observe(started)
        except Exception as exc:
            with self._lock:
                self.failure = reason(exc)
                previous = self._latest
                if previous is not None:
                    self._latest = replace(previous, failed_at_ms=started, problems=(f"no answer: {self.failure}",))
                snapshot = self._latest
        else:
            with self._lock:
                self.failure = None
                previous = self._latest
                with collector_paused():
                    view = self._builder.build(seen, self._next_seq - 1)
                new = narrate(previous.view, view) if previous is not None else []
                for event in new:
                    self._events.append(replace(event, seq=self._next_seq))
                    self._next_seq += 1
                view = replace(view, last_event_seq=self._next_seq - 1)
                snapshot = self._latest = Snapshot(view, None, seen.problems)
        if snapshot is not None and self._on_snapshot is not None:
            self._on_snapshot(snapshot)
        return snapshot

    def start(self) -> None:
        """Poll on a thread of its own until ``close``: one round, then wait out the rest of the interval."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="kafkalab-attach", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Start the next round now rather than at the end of the interval (an action changed the cluster)."""
        self._wake.set()

    def _run(self) -> None:
        # A round already run (the one that proved the cluster answers) counts as this interval's.
        if self.latest is not None:
            self._wake.wait(self.interval_s)
            self._wake.clear()
        while not self._stop.is_set():
            began = time.monotonic()
            self.poll_once()
            self._wake.wait(max(0.0, self.interval_s - (time.monotonic() - began)))
            self._wake.clear()

    def close(self, timeout: float = 30.0) -> None:
        """Stop polling; a round under way finishes first (its requests have their own timeout)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
