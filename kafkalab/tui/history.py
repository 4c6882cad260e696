"""What the UI remembers across frames: recent events and throughput samples.

Both are pure functions of the frames the UI received, so they survive coalesced
frames (events arrive as "everything since the last acknowledged one", rates as
deltas over virtual time) and need nothing from the engine.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable
from itertools import islice, takewhile

from kafkalab.events.journal import Event
from kafkalab.tui.event_rows import EventRows
from kafkalab.views import ClusterView

#: Throughput is sampled once per this much virtual time.
SAMPLE_MS = 1000.0
#: Samples kept per sparkline (one minute of virtual time).
SAMPLES = 60


#: How many grouped lists (a view with its filter) are kept up to date at once.
GROUPED_LISTS = 8


class EventHistory:
    """The newest events the UI has seen, without duplicates, oldest first."""

    def __init__(self, limit: int = 10_000) -> None:
        self._events: deque[Event] = deque(maxlen=limit)
        self.last_seq = 0
        #: Bumped on every change so views can tell whether to redraw.
        self.version = 0
        self._grouped: OrderedDict[Hashable, tuple[Callable[[Event], bool], EventRows]] = OrderedDict()

    def extend(self, events: Iterable[Event]) -> list[Event]:
        """Add the events newer than any seen so far; returns those."""
        fresh = [event for event in events if event.seq > self.last_seq]
        if fresh:
            self._events.extend(fresh)
            self.last_seq = fresh[-1].seq
            self.version += 1
        return fresh

    def reset(self) -> None:
        """Forget every event (the app switched to another cluster, whose sequence numbers start over)."""
        self._events.clear()
        self._grouped.clear()
        self.last_seq = 0
        self.version += 1

    def rows(self, name: Hashable, wanted: Callable[[Event], bool], fold_internal: bool = True,
             limit: int = 5000) -> EventRows:
        """The events ``wanted`` selects, grouped into rows (``event_rows.py``) and kept up to date under ``name``.

        ``name`` stands for the list and its filter (``("replication", "orders", 0)``): only events
        newer than the last call are grouped, so a list of thousands costs little per frame.
        """
        entry = self._grouped.get(name)
        if entry is None:
            entry = self._grouped[name] = (wanted, EventRows(fold_internal, limit))
            if len(self._grouped) > GROUPED_LISTS:
                self._grouped.popitem(last=False)
        self._grouped.move_to_end(name)
        select, rows = entry
        fresh = list(takewhile(lambda event: event.seq > rows.seen_seq, reversed(self._events)))
        for event in reversed(fresh):
            if select(event):
                rows.add(event)
        rows.seen_seq = self.last_seq
        return rows

    def newest_first(self, kinds: frozenset[str] | None = None, limit: int | None = None,
                     without: frozenset[str] = frozenset()) -> list[Event]:
        """Events newest first, only of ``kinds`` when given and none of ``without``, at most ``limit``."""
        chosen = (event for event in reversed(self._events)
                  if (kinds is None or event.kind in kinds) and event.kind not in without)
        return list(islice(chosen, limit))

    def kinds(self) -> list[str]:
        """Every event kind seen, sorted."""
        return sorted({event.kind for event in self._events})

    def __len__(self) -> int:
        return len(self._events)


class ThroughputHistory:
    """Records/s per topic and per broker over the last minute of virtual time."""

    def __init__(self) -> None:
        self.topics: dict[str, deque[float]] = {}
        self.brokers: dict[int, deque[float]] = {}
        #: The view the next sample counts from. Its counts are summed only when a sample is taken: a frame
        #: comes many times per sampling interval, and each sum walks every partition of the cluster.
        self._last_view: ClusterView | None = None
        #: Bumped on every sample so views can tell whether to redraw.
        self.version = 0

    def reset(self) -> None:
        """Forget every sample (the app switched to another cluster)."""
        self.topics.clear()
        self.brokers.clear()
        self._last_view = None
        self.version += 1

    def add(self, view: ClusterView) -> bool:
        """Take a sample if a sampling interval passed since the last; True if one was taken."""
        last = self._last_view
        if last is None or view.time_ms < last.time_ms:
            self._last_view = view
            return False
        elapsed = view.time_ms - last.time_ms
        if elapsed < SAMPLE_MS:
            return False
        per_second = 1000.0 / elapsed
        last_topic_ends, topic_ends = topic_log_ends(last), topic_log_ends(view)
        for name, end in topic_ends.items():
            # A restarted broker or a truncated log can move a counter back; that is no negative traffic.
            rate = max(0, end - last_topic_ends.get(name, end)) * per_second
            self.topics.setdefault(name, deque([0.0] * SAMPLES, maxlen=SAMPLES)).append(rate)
        last_broker_in = {b.broker_id: b.records_in for b in last.brokers}
        for broker in view.brokers:
            count = broker.records_in
            rate = max(0, count - last_broker_in.get(broker.broker_id, count)) * per_second
            self.brokers.setdefault(broker.broker_id, deque([0.0] * SAMPLES, maxlen=SAMPLES)).append(rate)
        for gone in set(self.topics) - set(topic_ends):
            del self.topics[gone]
        self._last_view = view
        self.version += 1
        return True


def topic_log_ends(view: ClusterView) -> dict[str, int]:
    """Each topic's log end offsets summed over its partitions."""
    return {t.name: sum(p.log_end_offset for p in t.partitions) for t in view.topics}
