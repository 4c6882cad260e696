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


def test_a_waiter_is_waited_in_on_the_engine_thread_and_submitted_work_wakes_it() -> None:
    """The Kafka listener's sockets are served this way: the engine thread waits in their select."""

    class Waiter:
        def __init__(self) -> None:
            self.threads: set[str] = set()
            self.woken = threading.Event()

        def wait(self, timeout: float) -> None:
            self.threads.add(threading.current_thread().name)
            self.woken.wait(timeout)
            self.woken.clear()

        def wake(self) -> None:
            self.woken.set()

    waiter = Waiter()
    driver = RealtimeDriver(Scheduler(start_ms=0), tick_seconds=60.0)
    driver.start()
    try:
        driver.submit(lambda: driver.set_waiter(waiter)).result(5)
        # The engine now sleeps in the waiter for up to a minute; submitted work wakes it at once.
        assert driver.submit(lambda: 42).result(5) == 42
        assert waiter.threads == {"kafkalab-engine"}
        driver.submit(lambda: driver.set_waiter(None)).result(5)
    finally:
        driver.stop()
