"""Events as the lists show them: repeats collapsed into one row, internal topics' routine events folded.

The journal keeps every event (``kafkalab run --json`` and lesson goals read all of them);
only the lists group them, so a producer retrying for 18 s or fifty ``__consumer_offsets``
partitions changing ISR read as one row each, and the election between them stands out.

Events of one type about one subject (a partition, a client, a group ...) that follow each
other collapse into a row with a count and a time span. Events of one type about several
subjects may interleave (three partitions' high watermarks moving), so each subject keeps
its own row until an event of another type comes between. Routine events of Kafka's internal
topics (elections, ISR changes, high watermarks, segments) that follow each other fold under
one row, which a list can expand.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, fields, replace

from kafkalab.events.cluster import HighWatermarkAdvanced
from kafkalab.events.journal import Event
from kafkalab.validation import is_internal

#: Fields that say what an event is about; the others say how much, how or why.
SUBJECT_FIELDS = frozenset({"topic", "partition", "broker_id", "group_id", "client_id", "node_id", "voter", "a", "b",
                            "client", "path", "owner", "process", "error"})
#: What an internal topic does by the hundred while nothing is wrong (an unclean election is news).
ROUTINE_EVENTS = frozenset({"LeaderElected", "IsrShrunk", "IsrExpanded", "HighWatermarkAdvanced", "SegmentRolled",
                            "SegmentsDeleted", "LogCompacted"})

#: Each event type's subject fields, looked up once (the lists group thousands of events).
_subject_fields: dict[type[Event], tuple[str, ...]] = {}


def repeat_key(event: Event) -> tuple[Hashable, ...]:
    """What makes two events repeats of each other: the same type about the same subject."""
    event_type = type(event)
    names = _subject_fields.get(event_type)
    if names is None:
        names = _subject_fields[event_type] = tuple(f.name for f in fields(event) if f.name in SUBJECT_FIELDS)
    return (event_type.__name__, *(getattr(event, name) for name in names))


def internal_routine_topic(event: Event) -> str | None:
    """The internal topic ``event`` is routine business of, if it is."""
    topic = getattr(event, "topic", None)
    if event.name not in ROUTINE_EVENTS or not isinstance(topic, str) or not is_internal(topic):
        return None
    return None if getattr(event, "unclean", False) else topic


@dataclass(frozen=True)
class EventRow:
    """One row of an event list: an event, a run of its repeats, or a fold of internal topics' routine events."""

    #: The events the row stands for, newest first.
    events: tuple[Event, ...]
    #: For a fold, its rows (themselves events or repeats); empty otherwise.
    members: tuple[EventRow, ...] = ()

    @property
    def newest(self) -> Event:
        return self.events[0]

    @property
    def oldest(self) -> Event:
        return self.events[-1]

    @property
    def count(self) -> int:
        """How many events the row stands for."""
        return len(self.events)

    @property
    def span_ms(self) -> float:
        """Virtual time from the oldest event to the newest."""
        return self.newest.time_ms - self.oldest.time_ms

    @property
    def is_fold(self) -> bool:
        return bool(self.members)

    @property
    def row_id(self) -> int:
        """Stays the same while newer events join the row: its oldest event's sequence number."""
        return self.oldest.seq

    def summary_event(self) -> Event:
        """The event a row of repeats reads as: the newest; high-watermark moves as one move from first to last."""
        newest, oldest = self.newest, self.oldest
        if isinstance(newest, HighWatermarkAdvanced) and isinstance(oldest, HighWatermarkAdvanced):
            return replace(newest, old=oldest.old)
        return newest

    def fold_topics(self) -> tuple[str, ...]:
        """The internal topics a fold holds events of."""
        return tuple(sorted({str(getattr(event, "topic", "")) for event in self.events}))

    def fold_counts(self) -> tuple[tuple[str, int], ...]:
        """How many events of each type a fold holds, most first."""
        counts: dict[str, int] = {}
        for event in self.events:
            counts[event.name] = counts.get(event.name, 0) + 1
        return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


class _Block:
    """Events that follow each other and group together: one type's run (a row per subject) or a fold."""

    def __init__(self, fold: bool, event_type: type[Event]) -> None:
        self.fold = fold
        self.event_type = event_type
        #: For a run, its rows; for a fold, the runs inside it (each a block of its own).
        self.rows: dict[tuple[Hashable, ...], list[Event]] = {}
        self.runs: list[_Block] = []
        self.events: list[Event] = []
        self._frozen: tuple[EventRow, ...] | None = None

    def takes(self, event: Event, fold: bool) -> bool:
        """True if ``event``, newer than everything here, belongs to this block."""
        return fold == self.fold and (fold or type(event) is self.event_type)

    def add(self, event: Event) -> None:
        self._frozen = None
        self.events.append(event)
        if not self.fold:
            self.rows.setdefault(repeat_key(event), []).append(event)
            return
        if not self.runs or not self.runs[-1].takes(event, False):
            self.runs.append(_Block(False, type(event)))
        self.runs[-1].add(event)

    def newest_first(self) -> tuple[EventRow, ...]:
        """This block's rows, newest first (a fold is one row, or its only event's)."""
        if self._frozen is None:
            if self.fold and len(self.events) > 1:
                members = tuple(row for run in reversed(self.runs) for row in run.newest_first())
                self._frozen = (EventRow(tuple(reversed(self.events)), members),)
            else:
                rows = self.rows.values() if not self.fold else [self.events]
                self._frozen = tuple(EventRow(tuple(reversed(events)))
                                     for events in sorted(rows, key=lambda events: -events[-1].seq))
        return self._frozen


class EventRows:
    """The rows of a stream of events, grouped as they arrive; only the newest block changes when more come."""

    def __init__(self, fold_internal: bool = True, limit: int = 5000) -> None:
        self.fold_internal = fold_internal
        #: At most this many events are kept (whole blocks are forgotten, oldest first).
        self.limit = limit
        #: The sequence number of the newest event offered to this list, kept or not (its owner's to set).
        self.seen_seq = 0
        self.event_count = 0
        self._blocks: list[_Block] = []
        self._rows: list[EventRow] | None = []

    def add(self, event: Event) -> None:
        """Add ``event``, newer than every event added before."""
        fold = self.fold_internal and internal_routine_topic(event) is not None
        if not self._blocks or not self._blocks[-1].takes(event, fold):
            self._blocks.append(_Block(fold, type(event)))
        self._blocks[-1].add(event)
        self.event_count += 1
        while self.event_count > self.limit and len(self._blocks) > 1:
            self.event_count -= len(self._blocks.pop(0).events)
        self._rows = None

    def newest_first(self) -> list[EventRow]:
        """Every row, newest first."""
        if self._rows is None:
            self._rows = [row for block in reversed(self._blocks) for row in block.newest_first()]
        return self._rows
