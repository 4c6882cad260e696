"""Waiting under virtual time until expectations hold, re-checking only when what they read may have changed.

Building a cluster snapshot for every check is most of a headless run's cost, and a wait
would otherwise rebuild it every few milliseconds of virtual time while nothing happens.
Everything an expectation reads either moves with an event in the journal (leaders, ISR,
high watermarks, commits, group states, znodes, links) or with the session's own counters
(records consumed, where keyed records went, the last error), so a check is repeated only
when one of those moved, and at least every ``RECHECK_MS`` for the rest (a follower's log
growing before the high watermark moves).
"""

from __future__ import annotations

from collections.abc import Callable

from kafkalab.actions.results import CheckResult
from kafkalab.session.session import Session
from kafkalab.sim.process import Process, Sleep

#: How often a wait looks whether anything changed, in virtual time.
POLL_MS = 5.0
#: However quiet the journal, a wait evaluates its expectations at least this often.
RECHECK_MS = 100.0


def poll_until(session: Session, evaluate: Callable[[], list[CheckResult]],
               timeout_ms: float) -> Process[list[CheckResult]]:
    """Evaluate until every result holds or ``timeout_ms`` of virtual time passed; returns the last results."""
    scheduler = session.scheduler
    journal = session.cluster.journal
    deadline = scheduler.now_ms + timeout_ms
    seen: tuple[int, int] | None = None
    checked_at = float("-inf")
    while True:
        now = scheduler.now_ms
        version = (journal.last_seq, session.version)
        if version != seen or now - checked_at >= RECHECK_MS or now >= deadline:
            seen, checked_at = version, now
            results = evaluate()
            if now >= deadline or all(result.ok for result in results):
                return results
        yield Sleep(POLL_MS)
