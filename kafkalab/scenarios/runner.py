"""Run a scenario headless under the virtual clock and report every step.

A run without a data dir uses a fresh temporary one and removes it afterwards; with
one, it opens the cluster persisted there, so one run can produce and a later run
consume. The run stops at the first failed step; the report says which and why.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafkalab.actions.base import MAX_STEP_MS
from kafkalab.actions.execute import ActionOutcome, execute
from kafkalab.actions.results import ActionResult, ExpectResult
from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError, quoted
from kafkalab.events.failures import ProcessFailed
from kafkalab.events.journal import Event
from kafkalab.scenarios.model import Scenario, Step
from kafkalab.session.session import Session


@dataclass
class StepReport:
    """What one step did: its result or error, the events it caused, and whether it passed."""

    index: int
    action: str
    ok: bool
    #: None when the step failed with a Kafka error.
    result: ActionResult | None
    error: str | None = None
    message: str | None = None
    #: (kind, sentence) of each event the step caused.
    events: list[tuple[str, str]] = field(default_factory=list)
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        report: dict[str, Any] = {"index": self.index, "action": self.action, "ok": self.ok,
                                  "result": self.result.as_json() if self.result is not None else {}}
        if self.error is not None:
            report["error"] = self.error
            report["message"] = self.message
        if self.problem is not None:
            report["problem"] = self.problem
        return report


@dataclass
class RunReport:
    """The whole run: each step, and every process that failed with nobody to read its error."""

    scenario: str
    ok: bool
    steps: list[StepReport]
    process_failures: list[ProcessFailed] = field(default_factory=list)
    #: What opening the stored cluster repaired or refused (recovered logs, unreadable checkpoints, failed disks).
    startup: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "ok": self.ok, "startup": self.startup,
                "steps": [step.as_json() for step in self.steps],
                "process_failures": [{"time_ms": event.time_ms, **event.fields_dict(), "text": event.describe()}
                                     for event in self.process_failures]}


#: Characters of an expectation's expected or found values a report line shows at most.
SHOWN_VALUES = 300


def check_line(check: dict[str, Any]) -> str:
    """``kind: expected {...}, found {...}``, each side cut short: a file's 10 MB value is not echoed back."""
    return f"{check['check']}: expected {quoted(check['expected'], SHOWN_VALUES)}, " \
           f"found {quoted(check['actual'], SHOWN_VALUES)}"


def judge(step: Step, outcome: ActionOutcome) -> str | None:
    """Why the step failed, or None if it passed (errors may be allowed or expected)."""
    error = outcome.error
    if error is not None:
        if step.expect_error == error.name or step.allow_errors:
            return None
        if step.expect_error:
            return f"expected error {step.expect_error} but got {error.name}: {error.message}"
        return f"{error.name}: {error.message}"
    if step.expect_error:
        return f"expected error {step.expect_error} but the step succeeded"
    result = outcome.result
    if isinstance(result, ExpectResult) and not result.ok:
        return "; ".join(check_line(check.as_dict()) for check in result.failed)
    return None


def report_step(step: Step, outcome: ActionOutcome, events: list[Event]) -> StepReport:
    """The report of one finished step: its outcome, the events it caused and the verdict of ``judge``."""
    problem = judge(step, outcome)
    error = outcome.error
    return StepReport(step.index, step.action.step, problem is None, outcome.result,
                      error.name if error else None, error.message if error else None,
                      [(event.kind, event.describe()) for event in events], problem)


class ScenarioRunner:
    """Runs one validated scenario and builds its report."""

    def __init__(self, scenario: Scenario, data_dir: Path | None = None, seed: int | None = None,
                 on_step: Callable[[Step, StepReport], None] | None = None,
                 custom_partitioner: str | None = None,
                 on_start: Callable[[list[str]], None] | None = None) -> None:
        self.scenario = scenario
        self.data_dir = data_dir
        self.seed = scenario.cluster.seed if seed is None else seed
        self.on_step = on_step or (lambda step, report: None)
        self.on_start = on_start or (lambda startup: None)
        self.custom_partitioner = custom_partitioner

    def run(self) -> RunReport:
        """Open the cluster, run every step in order (stopping at a failure), close it."""
        temporary = None
        path = self.data_dir
        if path is None:
            temporary = Path(tempfile.mkdtemp(prefix="kafkalab-run-"))
            path = temporary / "data"
        try:
            spec = self.scenario.cluster
            existing = (path / "kafkalab.json").exists()
            cluster = Cluster.open(path, brokers=None if existing else spec.brokers, seed=self.seed,
                                   broker_config=spec.config, mode=None if existing else spec.mode,
                                   controllers=None if existing else spec.controllers)
            try:
                cluster.wait(cluster.start())
                # The disk's news from opening a stored cluster; the steps' own events follow each step.
                startup = [event.describe() for event in cluster.journal if event.kind == "storage"]
                self.on_start(startup)
                session = Session(cluster, self.seed, self.custom_partitioner)
                reports = self._run_steps(cluster, session)
                session.close()
                # A process that failed unread makes the run suspect, whatever its steps said.
                failures = list(cluster.process_failures)
            finally:
                cluster.close()
        finally:
            if temporary is not None:
                shutil.rmtree(temporary, ignore_errors=True)
        return RunReport(self.scenario.name, all(r.ok for r in reports) and not failures, reports, failures, startup)

    def _run_steps(self, cluster: Cluster, session: Session) -> list[StepReport]:
        reports: list[StepReport] = []
        for step in self.scenario.steps:
            before = cluster.journal.last_seq
            future = execute(session, step.action)
            try:
                outcome = cluster.wait(future, MAX_STEP_MS)
            except KafkaError:
                outcome = ActionOutcome(step.action, None, KafkaError(
                    Errors.REQUEST_TIMED_OUT, f"the step did not finish within {MAX_STEP_MS // 60_000} minutes "
                                              f"of virtual time"))
            report = report_step(step, outcome, cluster.journal.since(before))
            reports.append(report)
            self.on_step(step, report)
            if not report.ok:
                break
        return reports
