"""Generator processes wait on futures and sleeps, and die with their timer group."""

import pytest

from kafkalab.errors import Errors, KafkaError
from kafkalab.sim.process import Future, SerialQueue, Sleep, spawn
from kafkalab.sim.scheduler import Scheduler, TimerGroup


def test_process_waits_for_sleep_and_future() -> None:
    scheduler = Scheduler(start_ms=0)
    group = TimerGroup(scheduler)
    answer: Future[int] = Future()

    def process():
        yield Sleep(10)
        value = yield answer
        return value * 2

    result = spawn(group, process())
    scheduler.call_later(20, answer.set_result, 21)
    scheduler.run_for(100)
    assert result.result() == 42


def test_kafka_error_fails_the_future_not_the_engine() -> None:
    group = TimerGroup(Scheduler(start_ms=0))

    def process():
        raise KafkaError(Errors.NOT_ENOUGH_REPLICAS)
        yield  # pragma: no cover

    result = spawn(group, process())
    with pytest.raises(KafkaError, match="NOT_ENOUGH_REPLICAS"):
        result.result()


def test_many_completed_futures_do_not_recurse() -> None:
    group = TimerGroup(Scheduler(start_ms=0))

    def process():
        total = 0
        for i in range(50_000):
            total += yield Future.completed(i)
        return total

    assert spawn(group, process()).result() == sum(range(50_000))


def test_cancelled_group_stops_process() -> None:
    scheduler = Scheduler(start_ms=0)
    group = TimerGroup(scheduler)
    steps: list[int] = []

    def process():
        steps.append(1)
        yield Sleep(10)
        steps.append(2)

    spawn(group, process())
    group.cancel_all()
    scheduler.run_for(100)
    assert steps == [1]


def test_serial_queue_runs_one_at_a_time() -> None:
    scheduler = Scheduler(start_ms=0)
    queue = SerialQueue(TimerGroup(scheduler))
    log: list[str] = []

    def job(name: str):
        log.append(f"{name} start")
        yield Sleep(5)
        log.append(f"{name} end")

    queue.submit(lambda: job("a"))
    queue.submit(lambda: job("b"))
    scheduler.run_for(100)
    assert log == ["a start", "a end", "b start", "b end"]
