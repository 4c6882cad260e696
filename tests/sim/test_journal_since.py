"""``EventJournal.since``: the events after a sequence number, read from the newest end of a bounded journal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kafkalab.events.cluster import BrokerStarted
from kafkalab.events.journal import EventJournal
from kafkalab.sim.scheduler import Scheduler


@given(st.integers(1, 20), st.integers(0, 60), st.integers(-2, 70))
def test_since_gives_the_kept_events_after_a_sequence_number_oldest_first(kept, emitted, after):
    journal = EventJournal(Scheduler(), max_events=kept)
    for n in range(emitted):
        journal.emit(BrokerStarted, broker_id=n, logs=0, previous_stop="first")
    expected = [seq for seq in range(max(1, emitted - kept + 1), emitted + 1) if seq > after]
    assert [event.seq for event in journal.since(after)] == expected
