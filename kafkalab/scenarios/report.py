"""Printing a scenario run for people: each step, the events it caused, and what failed."""

from __future__ import annotations

from typing import Any, TextIO

from kafkalab.actions.results import CreateTopicResult, ExpectResult, NoteResult
from kafkalab.scenarios.model import Step
from kafkalab.scenarios.runner import RunReport, StepReport, check_line


def _summary(step: Step) -> str:
    values = step.action.as_step()[step.action.step]
    if not values:
        return ""
    text = ", ".join(f"{key}={_short(value)}" for key, value in values.items())
    return text if len(text) <= 90 else text[:87] + "..."


def _short(value: Any) -> str:
    return str(value).replace("'", "")


#: Event kinds too frequent to print unless asked (every high-watermark move).
QUIET_KINDS = frozenset({"hw"})


class TextReporter:
    """Writes a readable line per step as the run goes."""

    def __init__(self, out: TextIO, verbose: bool = False) -> None:
        self.out = out
        self.verbose = verbose

    def started(self, startup: list[str]) -> None:
        """What opening the cluster repaired or refused, before the first step."""
        for text in startup:
            self.out.write(f"      - {text}\n")

    def step(self, step: Step, report: StepReport) -> None:
        status = "ok" if report.ok else "FAILED"
        if report.error and report.ok:
            status = f"ok ({report.error} as expected)" if step.expect_error else f"ok (allowed {report.error})"
        self.out.write(f"[{step.index:>3}] {step.action.step} {_summary(step)} ... {status}\n")
        result = report.result
        if isinstance(result, NoteResult):
            self.out.write(f"      > {result.text}\n")
        if isinstance(result, CreateTopicResult) and result.warning:
            self.out.write(f"      WARNING: {result.warning}\n")
        quiet = 0
        for kind, text in report.events:
            if kind in QUIET_KINDS and not self.verbose:
                quiet += 1
                continue
            self.out.write(f"      - {text}\n")
        if quiet:
            self.out.write(f"      ({quiet} high-watermark move(s); --verbose shows them)\n")
        for check in result.checks if isinstance(result, ExpectResult) else ():
            mark = "✓" if check.ok else "✗"
            self.out.write(f"      {mark} {check_line(check.as_dict())}\n")
        # An expect step that ran failed for the checks marked ✗ above: its problem says nothing more.
        if report.problem and not (isinstance(result, ExpectResult) and not step.expect_error):
            self.out.write(f"      !! {report.problem}\n")

    def finish(self, report: RunReport) -> None:
        """The verdict, after every process that failed with nobody to read its error."""
        for event in report.process_failures:
            self.out.write(f"!! a process failed: {event.describe()}\n")
        self.out.write("PASSED\n" if report.ok else "FAILED\n")
