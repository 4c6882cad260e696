"""The controller channel sends one request at a time per broker, and a removed broker's sender stays dead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafkalab.controller.channel import RETRY_BACKOFF_MS, ControllerChannel
from kafkalab.sim.network import Network, Responder
from kafkalab.sim.scheduler import Scheduler, TimerGroup

TIMEOUT_MS = 1000.0


class FakeBroker:
    """Answers every request after ``delay_ms`` and records what it received."""

    def __init__(self, scheduler: Scheduler, delay_ms: float = 0.0) -> None:
        self.scheduler = scheduler
        self.delay_ms = delay_ms
        self.received: list[Any] = []

    def handle(self, source: str, request: Any, respond: Responder) -> None:
        self.received.append(request)
        self.scheduler.call_later(self.delay_ms, respond, ("ok", request))


def setup() -> tuple[Scheduler, Network, ControllerChannel]:
    scheduler = Scheduler(start_ms=0)
    network = Network(scheduler, default_latency_ms=1.0)
    network.attach("broker-9", lambda source, request, respond: None)
    return scheduler, network, ControllerChannel("broker-9", TimerGroup(scheduler), network, TIMEOUT_MS)


def control_requests_to(network: Network, destination: str) -> int:
    return sum(1 for pending in network.pending_requests() if pending.destination == destination)


def run_checking(scheduler: Scheduler, duration_ms: float, check: Callable[[], None]) -> None:
    """Run ``duration_ms`` of virtual time, calling ``check`` after every timer."""
    end = scheduler.now_ms + duration_ms
    while (due := scheduler.next_due_ms()) is not None and due <= end:
        scheduler.step()
        check()
    scheduler.run_until(end)


def test_requests_go_out_in_order_one_at_a_time() -> None:
    scheduler, network, channel = setup()
    broker = FakeBroker(scheduler, delay_ms=5.0)
    network.attach("broker-1", broker.handle)
    for request in ("a", "b", "c"):
        channel.send(1, request)
    run_checking(scheduler, 100, lambda: _at_most_one_in_flight(network))
    assert broker.received == ["a", "b", "c"]


def test_a_failed_request_is_retried_after_the_backoff() -> None:
    scheduler, network, channel = setup()
    channel.send(1, "a")  # broker-1 is down: refused after one latency
    scheduler.run_for(10)
    broker = FakeBroker(scheduler)
    network.attach("broker-1", broker.handle)
    scheduler.run_for(RETRY_BACKOFF_MS)
    assert broker.received == ["a"]


def test_a_removed_brokers_retry_never_reaches_its_new_sender() -> None:
    # Seeds 4365 and 4730 of the fault campaign: a retry timer of the removed broker's queue
    # fired on the queue made when the broker came back and sent its head a second time.
    scheduler, network, channel = setup()
    channel.send(1, "old")  # refused: broker-1 is down, a retry is due in RETRY_BACKOFF_MS
    scheduler.run_for(10)
    channel.remove_broker(1)
    broker = FakeBroker(scheduler, delay_ms=RETRY_BACKOFF_MS)
    network.attach("broker-1", broker.handle)
    channel.send(1, "new")
    channel.send(1, "next")
    run_checking(scheduler, 5 * RETRY_BACKOFF_MS, lambda: _at_most_one_in_flight(network))
    assert broker.received == ["new", "next"]


def test_a_removed_brokers_late_response_is_dropped() -> None:
    scheduler, network, channel = setup()
    broker = FakeBroker(scheduler, delay_ms=50.0)
    network.attach("broker-1", broker.handle)
    channel.send(1, "old")
    scheduler.run_for(10)  # "old" reached the broker; its answer is 40 ms away
    channel.remove_broker(1)
    assert control_requests_to(network, "broker-1") == 0, "removing a broker closes its connection"
    channel.send(1, "new")
    channel.send(1, "next")
    run_checking(scheduler, 500, lambda: _at_most_one_in_flight(network))
    assert broker.received == ["old", "new", "next"]


def test_shutdown_stops_every_sender() -> None:
    scheduler, network, channel = setup()
    brokers = {broker_id: FakeBroker(scheduler, delay_ms=50.0) for broker_id in (1, 2)}
    for broker_id, broker in brokers.items():
        network.attach(f"broker-{broker_id}", broker.handle)
        channel.send(broker_id, "first")
        channel.send(broker_id, "second")
    scheduler.run_for(10)
    channel.shutdown()
    scheduler.run_for(500)
    assert [broker.received for broker in brokers.values()] == [["first"], ["first"]]
    assert network.pending_requests() == []


def _at_most_one_in_flight(network: Network) -> None:
    assert control_requests_to(network, "broker-1") <= 1, network.pending_requests()
