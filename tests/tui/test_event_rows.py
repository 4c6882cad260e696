"""Grouping events into list rows: repeats collapse per subject, internal topics' routine events fold."""

from __future__ import annotations

from itertools import count

from kafkalab.events.clients import ProduceRetried
from kafkalab.events.cluster import BrokerStopped, HighWatermarkAdvanced, IsrShrunk, LeaderElected
from kafkalab.events.journal import Event
from kafkalab.sim.scheduler import DEFAULT_START_MS
from kafkalab.tui.event_rows import EventRows
from kafkalab.tui.history import EventHistory
from kafkalab.tui.widgets.event_list import event_line

_seq = count(1)


def _stamp(event: Event, time_ms: float) -> Event:
    """``event`` as the journal would stamp it, ``time_ms`` after the cluster began."""
    return type(event)(**event.fields_dict(), seq=next(_seq), time_ms=DEFAULT_START_MS + time_ms)


def _retry(partition: int, time_ms: float) -> Event:
    return _stamp(ProduceRetried("producer-1", "orders", partition, 3, 1, "NETWORK_EXCEPTION"), time_ms)


def _hw(old: int, time_ms: float, topic: str = "orders") -> Event:
    return _stamp(HighWatermarkAdvanced(1, topic, 0, old, old + 1), time_ms)


def _elected(topic: str, partition: int, time_ms: float, unclean: bool = False) -> Event:
    return _stamp(LeaderElected(topic, partition, 2, 1, 1, (2,), "leader broker 1 failed", unclean), time_ms)


def _rows(events: list[Event], fold_internal: bool = True) -> list[str]:
    rows = EventRows(fold_internal)
    for event in events:
        rows.add(event)
    return [event_line(row).plain[13:].strip() for row in rows.newest_first()]  # without the time column


def test_repeats_of_one_subject_are_one_line_with_a_count_and_a_span() -> None:
    lines = _rows([_retry(0, 1000 + 100 * n) for n in range(72)])
    assert len(lines) == 1
    assert lines[0].startswith("produce     × 72 over 7.1 s: Producer producer-1 retries a batch")


def test_interleaved_subjects_keep_a_line_each_until_another_kind_of_event_comes_between() -> None:
    events = [_retry(n % 2, 1000 + n) for n in range(10)]
    events.append(_stamp(BrokerStopped(2, False), 2000))
    events += [_retry(0, 3000 + n) for n in range(3)]
    lines = _rows(events)
    assert [line.split(":", 1)[0] for line in lines] == [
        "produce     × 3 over 2 ms", "broker      Broker 2 crashed. Nobody is told", "produce     × 5 over 8 ms",
        "produce     × 5 over 8 ms"]
    assert "orders-0" in lines[2] + lines[3] and "orders-1" in lines[2] + lines[3]


def test_high_watermark_moves_read_as_one_move_and_leave_the_election_between_them() -> None:
    events = [_hw(n, 1000 + n) for n in range(36)] + [_elected("orders", 0, 2000)]
    events += [_hw(36 + n, 3000 + n) for n in range(4)]
    lines = _rows(events, fold_internal=False)
    assert len(lines) == 3
    assert lines[0].endswith("× 4 over 3 ms: High watermark of orders-0 on leader 1 moved 36 -> 40.")
    assert lines[1].startswith("election    Broker 2 leads orders-0")
    assert lines[2].endswith("× 36 over 35 ms: High watermark of orders-0 on leader 1 moved 0 -> 36.")


def test_internal_topics_routine_events_fold_under_one_line_that_holds_them() -> None:
    internal = [_elected("__consumer_offsets", n, 1000 + n) for n in range(25)]
    internal += [_stamp(IsrShrunk("__consumer_offsets", n, 2, (1,), (2,), "broker left"), 1100 + n) for n in range(25)]
    rows = EventRows()
    for event in [_elected("orders", 0, 900), *internal, _elected("__consumer_offsets", 30, 1200, unclean=True)]:
        rows.add(event)
    unclean, fold, orders = rows.newest_first()
    assert unclean.count == 1 and not unclean.is_fold  # an unclean election is news, even of an internal topic
    assert fold.is_fold and fold.count == 50 and fold.fold_counts() == (("IsrShrunk", 25), ("LeaderElected", 25))
    assert [member.count for member in fold.members] == [1] * 50
    assert event_line(fold).plain.endswith(
        "internal    ▸ __consumer_offsets: IsrShrunk × 25, LeaderElected × 25 (enter shows them)")
    assert orders.newest.fields_dict()["topic"] == "orders"


def test_the_history_groups_only_new_events_and_keeps_a_list_per_filter() -> None:
    history = EventHistory()
    history.extend([_retry(0, 1000 + n) for n in range(3)])
    produce = history.rows("produce", lambda event: event.kind == "produce")
    first = produce.newest_first()
    assert len(first) == 1 and first[0].count == 3
    assert history.rows("produce", lambda event: event.kind == "produce").newest_first() is first  # nothing new
    history.extend([_retry(0, 2000), _stamp(BrokerStopped(2, False), 2100)])
    assert [row.count for row in history.rows("produce", lambda event: event.kind == "produce").newest_first()] == [4]
    assert len(history.rows("all", lambda event: True).newest_first()) == 2
