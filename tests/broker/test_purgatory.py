"""The purgatory: waiting operations complete on a check or at their deadline, and nothing completed stays alive."""

from __future__ import annotations

import gc
import weakref

from kafkalab.broker.purgatory import Purgatory
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.scheduler import Scheduler, TimerGroup

A, B, C = (TopicPartition("orders", p) for p in range(3))


class Request:
    """Stands for what a waiting operation holds on to: a follower's fetch request."""


def _watch(purgatory: Purgatory, keys: tuple[TopicPartition, ...], ready: list[bool],
           outcome: list[str]) -> weakref.ref[Request]:
    request = Request()

    def try_complete() -> bool:
        if ready[0]:
            outcome.append(f"completed {request!r:.0}")
        return ready[0]

    purgatory.try_complete_else_watch(keys, try_complete, lambda: outcome.append("expired"), 500)
    return weakref.ref(request)


def test_an_operation_completed_through_one_key_is_released_by_the_others() -> None:
    scheduler = Scheduler()
    purgatory = Purgatory(TimerGroup(scheduler))
    ready, outcome = [False], []
    request = _watch(purgatory, (A, B, C), ready, outcome)
    assert [purgatory.waiting(key) for key in (A, B, C)] == [1, 1, 1]
    ready[0] = True
    purgatory.check_and_complete(A)
    assert outcome == ["completed "]
    gc.collect()
    # B and C are never checked again (a quiet partition), yet nothing holds the request.
    assert request() is None
    scheduler.run_for(1000)
    assert outcome == ["completed "]  # its deadline does not fire after it completed


def test_an_operation_not_ready_expires_once_at_its_deadline_and_is_released() -> None:
    scheduler = Scheduler()
    purgatory = Purgatory(TimerGroup(scheduler))
    outcome: list[str] = []
    request = _watch(purgatory, (A, B), [False], outcome)
    purgatory.check_and_complete(A)
    scheduler.run_for(499)
    assert outcome == []
    scheduler.run_for(1)
    assert outcome == ["expired"]
    assert purgatory.waiting(A) == purgatory.waiting(B) == 0
    gc.collect()
    assert request() is None


def test_a_completion_that_starts_another_check_leaves_every_list_right() -> None:
    """A completion's answer can check another key at once (a produce moving the high watermark)."""
    scheduler = Scheduler()
    purgatory = Purgatory(TimerGroup(scheduler))
    outcome: list[str] = []
    nested_ready = [False]
    nested = _watch(purgatory, (B, C), nested_ready, outcome)

    def try_complete() -> bool:
        nested_ready[0] = True
        purgatory.check_and_complete(B)  # completes the other operation while A's list is walked
        purgatory.try_complete_else_watch((A, C), lambda: False, lambda: outcome.append("late expired"), 500)
        return True

    purgatory.try_complete_else_watch((A, B), lambda: False, lambda: None, 500)
    purgatory.try_complete_else_watch((A, C), try_complete, lambda: outcome.append("expired"), 500)
    purgatory.check_and_complete(A)
    assert outcome == ["completed "]
    # The operation added during the walk still waits on both its keys; nothing completed waits anywhere.
    assert [purgatory.waiting(key) for key in (A, B, C)] == [2, 1, 1]
    gc.collect()
    assert nested() is None


def test_watch_waits_without_a_first_check_and_completes_on_a_key_check_or_the_deadline() -> None:
    scheduler = Scheduler()
    purgatory = Purgatory(TimerGroup(scheduler))
    checks: list[int] = []
    outcome: list[str] = []

    def try_complete() -> bool:
        checks.append(len(checks))
        return len(checks) > 1  # the second check completes it

    purgatory.watch((A, B), try_complete, lambda: outcome.append("expired"), 500)
    assert checks == [] and purgatory.waiting(A) == purgatory.waiting(B) == 1
    purgatory.check_and_complete(B)
    assert len(checks) == 1 and purgatory.waiting(B) == 1
    purgatory.check_and_complete(A)
    assert len(checks) == 2 and purgatory.waiting(A) == purgatory.waiting(B) == 0
    scheduler.run_for(1000)
    assert outcome == []
    purgatory.watch((C,), lambda: False, lambda: outcome.append("expired"), 500)
    scheduler.run_for(499)
    assert outcome == []
    scheduler.run_for(1)
    assert outcome == ["expired"] and purgatory.waiting(C) == 0


def test_deadlines_expire_in_the_places_their_own_timers_would_have_taken() -> None:
    """The deadlines share one timer, yet each expires where a timer scheduled when it started waiting would run."""
    scheduler = Scheduler()
    group = TimerGroup(scheduler)
    purgatory = Purgatory(group)
    outcome: list[str] = []
    purgatory.watch((A,), lambda: False, lambda: outcome.append(f"first at {scheduler.now_ms % 1000:g}"), 500)
    group.call_later(500, lambda: outcome.append("a timer scheduled between them"))
    purgatory.watch((B,), lambda: False, lambda: outcome.append(f"second at {scheduler.now_ms % 1000:g}"), 500)
    completed = [False]
    purgatory.watch((C,), lambda: completed[0], lambda: outcome.append("completed, yet expired"), 50)
    purgatory.watch((C,), lambda: False, lambda: outcome.append(f"shorter at {scheduler.now_ms % 1000:g}"), 100)
    completed[0] = True
    purgatory.check_and_complete(C)  # the earliest deadline then passes without an expiry
    scheduler.run_for(1000)
    assert outcome == ["shorter at 100", "first at 500", "a timer scheduled between them", "second at 500"]
    purgatory.watch((A,), lambda: False, lambda: outcome.append("after a quiet while"), 500)
    scheduler.run_for(499)
    assert outcome[-1] == "second at 500"
    scheduler.run_for(1)
    assert outcome[-1] == "after a quiet while"


def test_the_deadlines_of_a_wait_length_are_forgotten_once_nothing_of_that_length_waits() -> None:
    # A network client picks each fetch's max_wait_ms: a thousand different waits must not leave a thousand
    # deadline queues behind (the "memory stays bounded" for hostile clients).
    scheduler = Scheduler()
    purgatory = Purgatory(TimerGroup(scheduler))
    outcome: list[str] = []
    for wait_ms in range(1, 1001):
        purgatory.watch((A,), lambda: False, lambda: outcome.append("expired"), wait_ms)
    ready = [False]
    _watch(purgatory, (B,), ready, outcome)  # 500 ms, the length one of the thousand has too
    ready[0] = True
    purgatory.check_and_complete(B)
    scheduler.run_for(2000)
    assert outcome.count("expired") == 1000
    assert purgatory._deadlines == {}
    # A wait of a length met before gets a new queue, and still expires on time.
    purgatory.watch((C,), lambda: False, lambda: outcome.append("late"), 500)
    scheduler.run_for(499)
    assert "late" not in outcome
    scheduler.run_for(1)
    assert outcome[-1] == "late" and purgatory._deadlines == {}
