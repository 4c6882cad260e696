"""The fetching side of KIP-227 sessions against the broker's own session bookkeeping.

Whatever partitions a fetcher wants round after round, and whatever goes wrong in between,
the partitions the broker's session holds must be exactly what the fetcher asked for last:
otherwise the broker would answer for partitions nobody wants, or miss one.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.broker.fetch_sessions import FetchSession
from kafkalab.clients.fetch_session_handler import NO_SESSION, FetchSessionHandler
from kafkalab.errors import Errors
from kafkalab.protocol.fetch import INITIAL_SESSION_EPOCH, FetchPartition, FetchResponse
from kafkalab.protocol.types import TopicPartition

SESSION_ID = 7

partitions = st.dictionaries(st.builds(TopicPartition, st.sampled_from(["a", "b"]), st.integers(0, 3)),
                             st.builds(FetchPartition, st.integers(0, 5), st.integers(0, 2)), max_size=8)
outcomes = st.sampled_from(["ok", "ok", "ok", Errors.FETCH_SESSION_ID_NOT_FOUND,
                            Errors.INVALID_FETCH_SESSION_EPOCH, "lost"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(partitions, outcomes), min_size=1, max_size=12))
def test_the_brokers_session_always_holds_what_the_fetcher_wants(rounds):
    handler = FetchSessionHandler()
    broker: FetchSession | None = None
    for wanted, outcome in rounds:
        sent = handler.build(wanted)
        if sent.full:
            broker = FetchSession(SESSION_ID, 1, dict(sent.partitions), 0.0)
        else:
            assert broker is not None and sent.session_id == SESSION_ID and sent.epoch == broker.next_epoch
            broker.update(sent.partitions, sent.forgotten)
            broker.next_epoch += 1
            assert broker.partitions == wanted
        if outcome == "lost":
            handler.handle_error()
        elif outcome == "ok":
            assert handler.handle_response(sent, FetchResponse({}, Errors.NONE, SESSION_ID))
        else:
            assert not handler.handle_response(sent, FetchResponse({}, outcome))
            broker = None


def test_an_incremental_request_names_only_what_changed_and_what_left():
    handler = FetchSessionHandler()
    a0, a1, b0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)
    first = handler.build({a0: FetchPartition(0), a1: FetchPartition(0)})
    assert first.full and first.session_id == NO_SESSION
    handler.handle_response(first, FetchResponse({}, Errors.NONE, SESSION_ID))
    second = handler.build({a0: FetchPartition(3), b0: FetchPartition(0)})
    assert (second.session_id, second.epoch) == (SESSION_ID, 1)
    assert second.partitions == {a0: FetchPartition(3), b0: FetchPartition(0)} and second.forgotten == (a1,)
    handler.handle_response(second, FetchResponse({}, Errors.NONE, SESSION_ID))
    assert handler.build({a0: FetchPartition(3), b0: FetchPartition(0)}).partitions == {}


def test_errors_start_over_as_kafkas_handler_does():
    handler = FetchSessionHandler(SESSION_ID, 4)
    sent = handler.build({})
    handler.handle_response(sent, FetchResponse({}, Errors.INVALID_FETCH_SESSION_EPOCH))
    # Close the broken session and ask for a new one, naming the old id so the broker can drop it.
    assert (handler.session_id, handler.next_epoch) == (SESSION_ID, INITIAL_SESSION_EPOCH)
    handler.handle_response(handler.build({}), FetchResponse({}, Errors.FETCH_SESSION_ID_NOT_FOUND))
    assert (handler.session_id, handler.next_epoch) == (NO_SESSION, INITIAL_SESSION_EPOCH)
    full = handler.build({})
    handler.handle_response(full, FetchResponse({}, Errors.NONE, NO_SESSION))
    assert handler.build({}).full  # the broker kept no session: every request stays full


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(partitions, outcomes, st.booleans()), min_size=1, max_size=12))
def test_naming_only_the_partitions_that_may_have_changed_builds_the_same_requests(rounds):
    # A follower's fetcher passes only the partitions touched since its last request (``build_changed``),
    # some of them unchanged; the requests must be those ``build`` makes from every wanted partition.
    every, changed_only = FetchSessionHandler(), FetchSessionHandler()
    previous: dict[TopicPartition, FetchPartition] = {}
    for wanted, outcome, touch_unchanged in rounds:
        expected = every.build(wanted)
        if changed_only.full_due:
            sent = changed_only.build(wanted)
        else:
            touched = {tp: fetch for tp, fetch in wanted.items() if touch_unchanged or previous.get(tp) != fetch}
            sent = changed_only.build_changed({**dict.fromkeys(tp for tp in previous if tp not in wanted), **touched})
        assert (sent.session_id, sent.epoch, sent.partitions, set(sent.forgotten)) == \
            (expected.session_id, expected.epoch, expected.partitions, set(expected.forgotten))
        previous = wanted
        for handler in (every, changed_only):
            if outcome == "lost":
                handler.handle_error()
            elif outcome == "ok":
                handler.handle_response(sent, FetchResponse({}, Errors.NONE, SESSION_ID))
            else:
                handler.handle_response(sent, FetchResponse({}, outcome))
