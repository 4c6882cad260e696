"""The real-time driver: work runs on its thread, and a thread that stops says why and refuses further work."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from kafkalab.sim.realtime_clock import RealtimeDriver
from kafkalab.sim.scheduler import Scheduler


def test_a_stopped_engine_thread_reports_its_error_and_fails_later_work_at_once() -> None:
    stopped: Future[BaseException] = Future()
    broken = [False]

    def tick() -> None:
        if broken[0]:
            raise RuntimeError("frame building broke")

    driver = RealtimeDriver(Scheduler(start_ms=0), on_tick=tick, paused=True, on_error=stopped.set_result)
    driver.start()
    try:
        assert driver.submit(lambda: 42).result(5) == 42
        driver.submit(lambda: broken.__setitem__(0, True)).result(5)
        error = stopped.result(5)
        assert isinstance(error, RuntimeError) and driver.error is error
        with pytest.raises(RuntimeError, match="frame building broke"):
            driver.submit(lambda: 42).result(0)
    finally:
        driver.stop()


def test_after_each_pass_runs_on_the_engine_thread_once_the_due_timers_have_run() -> None:
    scheduler = Scheduler(start_ms=0)
    seen: list[tuple[str, str]] = []
    passed: Future[None] = Future()

    def timer() -> None:
        seen.append(("timer", threading.current_thread().name))

    def after_pass() -> None:
        if seen and not passed.done():
            seen.append(("after", threading.current_thread().name))
            passed.set_result(None)

    driver = RealtimeDriver(scheduler)
    driver.after_each_pass(after_pass)
    driver.start()
    try:
        driver.submit(lambda: scheduler.call_later(0, timer)).result(5)
        passed.result(5)
    finally:
        driver.stop()
    assert seen == [("timer", "kafkalab-engine"), ("after", "kafkalab-engine")]
