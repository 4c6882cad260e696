"""The event journal: one ordered log of typed events with a virtual timestamp each.

The TUI's timeline, lesson goals and scenario expectations all read this journal, so
every event carries a one-sentence plain-English ``describe()`` a learner can read and
a longer ``explain()`` that says why it happened and what Kafka would do.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from itertools import islice
from typing import Any, ClassVar, ParamSpec, TypeVar

from kafkalab.sim.scheduler import Scheduler


@dataclass(frozen=True)
class Event:
    """Something that changed in the cluster, at virtual time ``time_ms``."""

    #: The filter group this event belongs to in the timeline (``broker``, ``election`` ...).
    kind: ClassVar[str] = "event"
    #: Stamped with the wall clock (a change seen on an attached cluster) rather than the lab's virtual time.
    wall_clock: ClassVar[bool] = False

    seq: int = field(default=0, kw_only=True)
    time_ms: float = field(default=0.0, kw_only=True)

    @property
    def name(self) -> str:
        """The event's type name, e.g. ``LeaderElected``."""
        return type(self).__name__

    def describe(self) -> str:
        """One sentence a learner can read in the timeline."""
        return self.name

    def explain(self) -> str:
        """A longer explanation: why this happened and what Apache Kafka does here."""
        doc = type(self).__doc__ or ""
        return " ".join(doc.split())

    def fields_dict(self) -> dict[str, Any]:
        """The event's own fields (without seq and time), for reports and goal checks."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("seq", "time_ms")}


E = TypeVar("E", bound=Event)
#: An event type's own fields, as its constructor takes them.
Fields = ParamSpec("Fields")


class EventJournal:
    """An append-only, bounded journal of events ordered by sequence number."""

    def __init__(self, scheduler: Scheduler, max_events: int = 200_000) -> None:
        self._scheduler = scheduler
        self._events: deque[Event] = deque(maxlen=max_events)
        self._next_seq = 1
        self._listeners: list[Callable[[Event], None]] = []

    def emit(self, event_type: Callable[Fields, E], *args: Fields.args, **fields: Fields.kwargs) -> E:
        """Record a new ``event_type`` built from ``fields``, stamped with the next sequence number and the virtual time.

        The fields are typed as the event's own constructor takes them, so mypy checks every
        call site; ``seq`` and ``time_ms`` are the journal's to give.
        """
        build: Any = event_type  # the stamp is added to fields the signature above leaves to callers
        event: E = build(*args, seq=self._next_seq, time_ms=self._scheduler.now_ms, **fields)
        self._next_seq += 1
        self._events.append(event)
        for listener in self._listeners:
            listener(event)
        return event

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest event (0 when empty)."""
        return self._next_seq - 1

    def since(self, seq: int) -> list[Event]:
        """Events with a sequence number greater than ``seq``, oldest first."""
        if not self._events:
            return []
        first = self._events[0].seq
        start = max(0, seq + 1 - first)
        if start >= len(self._events):
            return []
        # From the newest end: a frame asks for the few events after the UI's last, of up to 200,000 kept.
        newest = list(islice(reversed(self._events), len(self._events) - start))
        newest.reverse()
        return newest

    def __iter__(self) -> Iterator[Event]:
        return iter(list(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def of_type(self, event_type: type[E]) -> list[E]:
        """Every retained event of ``event_type``, oldest first."""
        return [event for event in self._events if isinstance(event, event_type)]

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener(event)`` on the engine thread for each new event."""
        self._listeners.append(listener)
