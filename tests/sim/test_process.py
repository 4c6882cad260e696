"""Generator processes wait on futures and sleeps, die with their timer group, and never fail unseen."""

import pytest

from kafkalab.errors import Errors, KafkaError
from kafkalab.sim.failures import Failure
from kafkalab.sim.process import Future, Process, SerialQueue, Sleep, spawn
from kafkalab.sim.scheduler import Scheduler, TimerGroup


def supervised(owner: str = "broker-1") -> tuple[TimerGroup, list[Failure]]:
    """A timer group on a scheduler whose supervisor collects the failures it is handed."""
    scheduler = Scheduler(start_ms=0)
    failures: list[Failure] = []
    scheduler.supervisor = failures.append
    return TimerGroup(scheduler, owner), failures


def failing(error: Exception, after_ms: float = 0) -> Process[None]:
    if after_ms:
        yield Sleep(after_ms)
    raise error


def test_process_waits_for_sleep_and_future() -> None:
    scheduler = Scheduler(start_ms=0)
    group = TimerGroup(scheduler)
    answer: Future[int] = Future()

    def process():
        yield Sleep(10)
        value = yield answer
        return value * 2

    result = spawn(group, process(), name="doubler")
    scheduler.call_later(20, answer.set_result, 21)
    scheduler.run_for(100)
    assert result.result() == 42


def test_kafka_error_fails_the_future_not_the_engine() -> None:
    group = TimerGroup(Scheduler(start_ms=0))

    def process():
        raise KafkaError(Errors.NOT_ENOUGH_REPLICAS)
        yield  # pragma: no cover

    result = spawn(group, process(), name="p").claim()
    with pytest.raises(KafkaError, match="NOT_ENOUGH_REPLICAS"):
        result.result()


def test_many_completed_futures_do_not_recurse() -> None:
    group = TimerGroup(Scheduler(start_ms=0))

    def process():
        total = 0
        for i in range(50_000):
            total += yield Future.completed(i)
        return total

    assert spawn(group, process(), name="sum").result() == sum(range(50_000))


def test_cancelled_group_stops_process() -> None:
    scheduler = Scheduler(start_ms=0)
    group = TimerGroup(scheduler)
    steps: list[int] = []

    def process():
        steps.append(1)
        yield Sleep(10)
        steps.append(2)

    spawn(group, process(), name="p")
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

    queue.submit(lambda: job("a"), name="a")
    queue.submit(lambda: job("b"), name="b")
    scheduler.run_for(100)
    assert log == ["a start", "a end", "b start", "b end"]


def test_a_failure_nobody_claims_goes_to_the_supervisor_with_its_owner_and_name() -> None:
    group, failures = supervised()
    spawn(group, failing(KafkaError(Errors.RECORD_LIST_TOO_LARGE), after_ms=5), name="replica fetcher from broker 2")
    group.scheduler.run_for(10)
    assert [(f.owner, f.process, f.error_name, f.bug) for f in failures] == [
        ("broker-1", "replica fetcher from broker 2", "RECORD_LIST_TOO_LARGE", False)]


def test_without_a_supervisor_an_unclaimed_failure_raises_out_of_the_scheduler() -> None:
    group = TimerGroup(Scheduler(start_ms=0))
    spawn(group, failing(KafkaError(Errors.NOT_ENOUGH_REPLICAS)), name="p")
    with pytest.raises(KafkaError, match="NOT_ENOUGH_REPLICAS"):
        group.scheduler.run_for(1)


def test_a_claimed_kafka_error_is_the_callers_to_read() -> None:
    group, failures = supervised()
    task = spawn(group, failing(KafkaError(Errors.NOT_ENOUGH_REPLICAS)), name="p").claim()
    group.scheduler.run_for(1)
    assert failures == [] and isinstance(task.error, KafkaError)


def test_a_bug_is_reported_even_when_claimed_and_only_once_on_its_way_up() -> None:
    group, failures = supervised()

    def outer() -> Process[None]:
        yield spawn(group, failing(ZeroDivisionError("division by zero"), after_ms=1), name="inner")

    task = spawn(group, outer(), name="outer").claim()
    group.scheduler.run_for(5)
    assert isinstance(task.error, ZeroDivisionError)
    assert [(f.process, f.error_name, f.bug) for f in failures] == [("inner", "ZeroDivisionError", True)]
    assert failures[0].where.startswith("test_process.py:")


def test_a_process_waiting_on_a_task_takes_its_kafka_error() -> None:
    group, failures = supervised()

    def waiter() -> Process[str]:
        try:
            yield spawn(group, failing(KafkaError(Errors.NOT_ENOUGH_REPLICAS), after_ms=1), name="inner")
        except KafkaError as error:
            return error.name
        return "no error"

    task = spawn(group, waiter(), name="waiter")
    group.scheduler.run_for(5)
    assert task.result() == "NOT_ENOUGH_REPLICAS" and failures == []


def test_a_failing_timer_callback_is_reported_and_the_clock_goes_on() -> None:
    group, failures = supervised("producer-1")
    ran: list[float] = []

    def broken() -> None:
        raise ValueError("bad")

    group.call_later(5, broken)
    group.call_later(10, lambda: ran.append(group.scheduler.now_ms))
    group.scheduler.run_for(20)
    assert ran == [10.0]
    assert [(f.owner, f.process, f.error_name) for f in failures] == [
        ("producer-1", "test_a_failing_timer_callback_is_reported_and_the_clock_goes_on.<locals>.broken", "ValueError")]


def test_a_failing_periodic_callback_is_named_once_and_keeps_running() -> None:
    group, failures = supervised()
    calls: list[int] = []

    def check_isr() -> None:
        calls.append(1)
        if len(calls) in (1, 2, 3, 6):
            raise RuntimeError("broken check")

    group.every(100, check_isr)
    group.scheduler.run_for(1000)
    assert len(calls) == 10, "Kafka's scheduler keeps a periodic task going after it throws"
    assert len(failures) == 2, "once per run of the same failure"
    assert all(f.process.endswith("check_isr (every 100 ms)") for f in failures)


def test_serial_queue_reports_a_failed_event_and_runs_the_next() -> None:
    group, failures = supervised()
    queue = SerialQueue(group)
    ran: list[str] = []

    def ok() -> Process[None]:
        ran.append("next")
        yield Sleep(1)

    queue.submit(lambda: failing(KafkaError(Errors.NOT_CONTROLLER)), name="controller event BrokerChange")
    queue.submit(ok, name="controller event TopicChange")
    group.scheduler.run_for(10)
    assert ran == ["next"]
    assert [f.process for f in failures] == ["controller event BrokerChange"]
