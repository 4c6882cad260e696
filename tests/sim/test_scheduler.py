"""The scheduler runs timers in time order, ties in scheduling order, and owns time."""

from kafkalab.sim.scheduler import Scheduler, TimerGroup


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
