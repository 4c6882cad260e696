"""Links deliver after latency, cut links lose messages, dead nodes refuse connections."""

from kafkalab.errors import Errors
from kafkalab.sim.network import Network
from kafkalab.sim.scheduler import Scheduler


def echo(source, request, respond):
    respond(("echo", request))


def setup(latency=1.0):
    scheduler = Scheduler(start_ms=0)
    network = Network(scheduler, default_latency_ms=latency)
    network.attach("a", echo)
    network.attach("b", echo)
    return scheduler, network


def test_request_response_round_trip_takes_two_latencies() -> None:
    scheduler, network = setup(latency=2.0)
    got = []
    network.request("a", "b", "ping", lambda r, e: got.append((scheduler.now_ms, r, e)), timeout_ms=100)
    scheduler.run_for(10)
    assert got == [(4.0, ("echo", "ping"), None)]


def test_cut_link_times_out() -> None:
    scheduler, network = setup()
    network.cut("a", "b")
    got = []
    network.request("a", "b", "ping", lambda r, e: got.append((scheduler.now_ms, e)), timeout_ms=100)
    scheduler.run_for(1000)
    assert got == [(100.0, Errors.REQUEST_TIMED_OUT)]


def test_dead_node_refuses_quickly() -> None:
    scheduler, network = setup()
    network.detach("b")
    got = []
    network.request("a", "b", "ping", lambda r, e: got.append((scheduler.now_ms, e)), timeout_ms=100)
    scheduler.run_for(1000)
    assert got == [(1.0, Errors.NETWORK_EXCEPTION)]


def test_crash_resets_waiting_requests() -> None:
    scheduler, network = setup()
    network.attach("slow", lambda source, request, respond: None)
    got = []
    network.request("a", "slow", "ping", lambda r, e: got.append((scheduler.now_ms, e)), timeout_ms=100)
    scheduler.run_for(5)
    network.detach("slow")
    scheduler.run_for(100)
    assert got == [(6.0, Errors.NETWORK_EXCEPTION)]


def test_latency_per_link() -> None:
    scheduler, network = setup(latency=1.0)
    network.set_latency("a", "b", 10.0)
    got = []
    network.request("a", "b", "ping", lambda r, e: got.append(scheduler.now_ms), timeout_ms=100)
    scheduler.run_for(50)
    assert got == [20.0]


def test_pending_requests_name_who_asked_whom_for_what() -> None:
    scheduler, network = setup()
    network.attach("slow", lambda source, request, respond: None)
    message_id = network.request("a", "slow", "ping", lambda r, e: None, timeout_ms=100)
    assert [(p.message_id, p.source, p.destination, p.kind) for p in network.pending_requests()] == [
        (message_id, "a", "slow", "str")]
    scheduler.run_for(1000)
    assert network.pending_requests() == []


def test_a_cancelled_request_never_calls_back() -> None:
    scheduler, network = setup()
    got = []
    message_id = network.request("a", "b", "ping", lambda r, e: got.append((r, e)), timeout_ms=100)
    scheduler.run_for(1.5)  # the request has arrived; its answer is on the wire
    network.cancel(message_id)
    scheduler.run_for(1000)
    assert got == []
    assert network.pending_requests() == []
