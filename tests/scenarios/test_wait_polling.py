"""Waits re-check their expectations when the journal or the session moved, and at least every RECHECK_MS."""

from __future__ import annotations

from lab_clusters import Clusters

from kafkalab.actions.polling import POLL_MS, RECHECK_MS, poll_until
from kafkalab.actions.results import CheckResult
from kafkalab.session.session import Session
from kafkalab.sim.process import spawn


def quiet_session(clusters: Clusters) -> Session:
    cluster = clusters.open(brokers=1)
    cluster.run_for(1000)  # let start-up events settle
    return Session(cluster)


def test_a_quiet_cluster_is_checked_every_recheck_interval_not_every_poll(clusters: Clusters) -> None:
    session = quiet_session(clusters)
    scheduler = session.scheduler
    start = scheduler.now_ms
    true_from = start + 1000
    checked_at: list[float] = []

    def evaluate() -> list[CheckResult]:
        checked_at.append(scheduler.now_ms)
        return [CheckResult("clock", {}, {}, scheduler.now_ms >= true_from)]

    results = session.cluster.wait(spawn(session.group, poll_until(session, evaluate, 5000), name="wait").claim())
    assert results[0].ok
    # Nothing moved in the journal, so it looked every RECHECK_MS, not every POLL_MS ...
    assert len(checked_at) <= 1000 / RECHECK_MS + 2 < 1000 / POLL_MS
    # ... and saw the condition at most RECHECK_MS after it became true.
    assert true_from <= checked_at[-1] < true_from + RECHECK_MS + POLL_MS


def test_a_session_change_is_seen_at_the_next_poll(clusters: Clusters) -> None:
    session = quiet_session(clusters)
    scheduler = session.scheduler
    flag = [False]

    def flip() -> None:
        flag[0] = True
        session.record_produced("t", "k", 0)  # what a produce step does: the session's version moves

    scheduler.call_later(12, flip)
    started = scheduler.now_ms
    results = session.cluster.wait(spawn(session.group, poll_until(
        session, lambda: [CheckResult("flag", {}, {}, flag[0])], 5000), name="wait").claim())
    assert results[0].ok and scheduler.now_ms - started <= 12 + POLL_MS


def test_at_the_deadline_it_returns_what_still_fails(clusters: Clusters) -> None:
    session = quiet_session(clusters)
    started = session.scheduler.now_ms
    results = session.cluster.wait(spawn(session.group, poll_until(
        session, lambda: [CheckResult("never", {}, {}, False)], 300), name="wait").claim())
    assert not results[0].ok and session.scheduler.now_ms - started >= 300
