"""Links deliver after latency, cut links lose messages, dead nodes refuse connections."""

from hypothesis import example, given
from hypothesis import strategies as st

from kafkalab.errors import Errors
from kafkalab.sim.network import COMPACT_TIMEOUTS_AT, Network
from kafkalab.sim.scheduler import Scheduler, Timer


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


_STEP = st.tuples(st.sampled_from(["send", "cancel", "timer", "run"]), st.sampled_from([2, 3, 5]), st.integers(0, 30))


@example([("send", 5, 0), ("send", 5, 0), ("timer", 5, 0), ("cancel", 5, 0)])  # the second's place, not a new one
@given(st.lists(_STEP, max_size=50))
def test_requests_time_out_exactly_where_a_timer_each_would_have_fired(steps: list[tuple[str, int, int]]) -> None:
    """Timeouts share one timer per timeout (an optimization); each still fires at its own place in the order."""
    scheduler, network = setup()
    network.cut("a", "b")
    reference = Scheduler(start_ms=0)
    got: list[tuple[float, str]] = []
    expected: list[tuple[float, str]] = []
    sent: list[tuple[int, Timer]] = []
    for kind, timeout, n in steps:
        if kind == "send":
            name = f"request {len(sent)}"
            message_id = network.request("a", "b", "ping", lambda _r, e, name=name: got.append((scheduler.now_ms, name)),
                                         timeout_ms=timeout)
            sent.append((message_id, reference.call_later(timeout, lambda name=name: expected.append((reference.now_ms,
                                                                                                      name)))))
        elif kind == "cancel" and sent:
            message_id, timer = sent[n % len(sent)]
            network.cancel(message_id)
            timer.cancel()
        elif kind == "timer":
            scheduler.call_later(timeout, lambda n=n: got.append((scheduler.now_ms, f"timer {n}")))
            reference.call_later(timeout, lambda n=n: expected.append((reference.now_ms, f"timer {n}")))
        else:
            scheduler.run_for(n)
            reference.run_for(n)
        assert scheduler.next_due_ms() == reference.next_due_ms()
    scheduler.run_for(100)
    reference.run_for(100)
    assert got == expected


def test_answered_requests_are_not_kept_behind_one_that_waits_long() -> None:
    """One timeout timer per timeout keeps its requests in order; a request stuck on a cut link must not make it
    keep every answered request sent after it until it times out."""
    scheduler, network = setup()
    network.attach("c", echo)
    network.cut("a", "c")
    stuck: list[Errors | None] = []
    network.request("a", "c", "ping", lambda _r, e: stuck.append(e), timeout_ms=30_000)
    answered: list[object] = []
    for _ in range(5_000):
        network.request("a", "b", "ping", lambda r, _e: answered.append(r), timeout_ms=30_000)
        scheduler.run_for(3)
    assert len(answered) == 5_000 and stuck == []
    assert len(network._timeouts[30_000].queue) <= 2 * COMPACT_TIMEOUTS_AT  # private: what this test is about
    scheduler.run_for(30_000)
    assert stuck == [Errors.REQUEST_TIMED_OUT]
