"""The scheduler runs timers in time order, ties in scheduling order, and owns time."""

from hypothesis import given
from hypothesis import strategies as st

from kafkalab.sim.scheduler import Scheduler, Timer, TimerGroup


def test_timers_run_in_time_then_schedule_order() -> None:
    scheduler = Scheduler(start_ms=0)
    ran: list[str] = []
    scheduler.call_later(5, ran.append, "b")
    scheduler.call_later(1, ran.append, "a")
    scheduler.call_later(5, ran.append, "c")
    scheduler.run_until(10)
    assert ran == ["a", "b", "c"]
    assert scheduler.now_ms == 10


def test_run_until_stops_before_later_timers() -> None:
    scheduler = Scheduler(start_ms=0)
    ran: list[int] = []
    scheduler.call_later(30_000, ran.append, 1)
    scheduler.run_for(29_999)
    assert ran == []
    scheduler.run_for(1)
    assert ran == [1]


def test_cancelled_timer_never_fires() -> None:
    scheduler = Scheduler(start_ms=0)
    ran: list[int] = []
    timer = scheduler.call_later(1, ran.append, 1)
    timer.cancel()
    scheduler.run_for(5)
    assert ran == []


def test_timer_group_cancel_stops_periodic_work() -> None:
    scheduler = Scheduler(start_ms=0)
    group = TimerGroup(scheduler)
    ticks: list[float] = []
    group.every(100, lambda: ticks.append(scheduler.now_ms))
    scheduler.run_for(350)
    assert ticks == [100, 200, 300]
    group.cancel_all()
    scheduler.run_for(1000)
    assert ticks == [100, 200, 300]


def test_run_while_reports_timeout() -> None:
    scheduler = Scheduler(start_ms=0)
    assert scheduler.run_while(lambda: True, 50) is False
    assert scheduler.now_ms == 50


def test_a_moved_timer_runs_once_at_its_new_time_after_what_was_scheduled_for_then() -> None:
    scheduler = Scheduler(start_ms=0)
    ran: list[str] = []
    moved = scheduler.call_later(5, ran.append, "moved")
    scheduler.call_later(20, ran.append, "before")
    assert scheduler.move(moved, 20)
    scheduler.call_later(20, ran.append, "after")
    scheduler.run_until(19)
    assert ran == []
    scheduler.run_until(20)
    assert ran == ["before", "moved", "after"]
    assert not scheduler.move(moved, 30), "a timer that ran cannot be moved"
    scheduler.run_for(100)
    assert ran == ["before", "moved", "after"]


def test_a_timer_cannot_be_moved_once_cancelled_or_while_it_runs() -> None:
    scheduler = Scheduler(start_ms=0)
    ran: list[bool] = []
    cancelled = scheduler.call_later(5, ran.append, False)
    cancelled.cancel()
    assert not scheduler.move(cancelled, 1)
    running = scheduler.call_later(1, lambda: ran.append(scheduler.move(running, 50)))
    scheduler.run_for(100)
    assert ran == [False]


_OPERATION = st.tuples(st.sampled_from(["schedule", "move", "cancel", "run"]), st.integers(0, 7),
                       st.integers(0, 12))


@given(st.lists(_OPERATION, max_size=60))
def test_moving_a_timer_runs_everything_in_the_order_cancelling_and_scheduling_anew_would(
        operations: list[tuple[str, int, int]]) -> None:
    """``move`` is an optimization of cancel-and-reschedule: a seed's order of events must not change."""
    moving, replacing = Scheduler(start_ms=0), Scheduler(start_ms=0)
    ran_moving: list[tuple[float, int]] = []
    ran_replacing: list[tuple[float, int]] = []
    timers_moving: dict[int, Timer] = {}
    timers_replacing: dict[int, Timer] = {}
    for kind, name, due in operations:
        if kind == "run":
            moving.run_for(due)
            replacing.run_for(due)
        elif kind == "schedule":
            timers_moving[name] = moving.call_at(moving.now_ms + due, lambda n=name: ran_moving.append((moving.now_ms, n)))
            timers_replacing[name] = replacing.call_at(replacing.now_ms + due,
                                                       lambda n=name: ran_replacing.append((replacing.now_ms, n)))
        elif kind == "cancel" and name in timers_moving:
            timers_moving[name].cancel()
            timers_replacing[name].cancel()
        elif kind == "move" and name in timers_moving:
            old = timers_replacing[name]
            assert moving.move(timers_moving[name], moving.now_ms + due) == old.pending
            if old.pending:
                old.cancel()
                timers_replacing[name] = replacing.call_at(replacing.now_ms + due,
                                                           lambda n=name: ran_replacing.append((replacing.now_ms, n)))
        assert moving.next_due_ms() == replacing.next_due_ms()
    moving.run_for(1000)
    replacing.run_for(1000)
    assert ran_moving == ran_replacing
