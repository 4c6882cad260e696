"""Steps that direct a session rather than change the cluster: wait, expect, note."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.actions.base import MAX_STEP_MS, Action, ActionRun, doc, register
from kafkalab.actions.checks import Checks
from kafkalab.actions.polling import poll_until
from kafkalab.actions.results import ExpectResult, NoteResult, WaitResult
from kafkalab.errors import Errors, KafkaError, quoted
from kafkalab.session.session import Session
from kafkalab.sim.process import Sleep


@register
@dataclass(frozen=True)
class Wait(Action[WaitResult]):
    step = "wait"
    summary = "Let virtual time pass, or wait until expectations hold (failing after timeout_ms)."
    shorthand = "ms"

    ms: float | None = doc("Let this much virtual time pass.", None, minimum=0, maximum=MAX_STEP_MS)
    until: Checks | None = doc("Wait until these expectations hold (events count from the start of the wait).", None)
    timeout_ms: float = doc("Give up after this long; the step fails.", 60_000, minimum=0, maximum=MAX_STEP_MS)

    def run(self, session: Session) -> ActionRun[WaitResult]:
        start = session.scheduler.now_ms
        if self.ms is not None:
            yield Sleep(self.ms)
        if self.until is None:
            return WaitResult(session.scheduler.now_ms - start)
        since = session.cluster.journal.last_seq
        until = self.until
        results = yield from poll_until(session, lambda: until.evaluate(session, since), self.timeout_ms)
        failed = [result.as_dict() for result in results if not result.ok]
        if failed:
            raise KafkaError(Errors.REQUEST_TIMED_OUT, f"Still not true after {self.timeout_ms:g} ms: "
                                                       f"{quoted(failed, 500)}")
        return WaitResult(session.scheduler.now_ms - start)


@register
@dataclass(frozen=True)
class Expect(Action[ExpectResult]):
    step = "expect"
    summary = "Check the cluster now: leaders, ISR, offsets, groups, consumed records, events."
    inline = "checks"

    checks: Checks = doc("The expectations (the step's mapping itself).")

    def run(self, session: Session) -> ExpectResult:
        return ExpectResult(tuple(self.checks.evaluate(session)))


@register
@dataclass(frozen=True)
class Note(Action[NoteResult]):
    step = "note"
    summary = "Narration shown while a scenario plays."
    shorthand = "text"

    text: str = doc("What to tell the audience (Markdown).")

    def run(self, session: Session) -> NoteResult:
        return NoteResult(self.text)
