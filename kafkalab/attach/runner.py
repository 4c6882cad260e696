"""``kafkalab run FILE --bootstrap HOST:PORT``: a scenario's steps on a real cluster, reported as in the lab.

Every step is checked before the first runs: one that needs the lab (a broker process, a
network link, virtual time, the lab's journal) or that writes without ``--allow-writes``
refuses the whole run, so nothing changes on a cluster a scenario could only half play.
The others run through the real client (``RealClientActions``) and give the lab's result
types, so the report, text or JSON, reads as the lab's does. Each step's events are what
a describe round after it saw change (observed, not caused).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from kafkalab.attach.actions import RealClientActions, refusal
from kafkalab.attach.build import AttachedViewBuilder
from kafkalab.attach.client import AttachError, client_config, confluent
from kafkalab.attach.narrate import narrate
from kafkalab.attach.observe import Observer, reason
from kafkalab.attach.source import Observes
from kafkalab.events.journal import Event
from kafkalab.scenarios.model import Scenario, Step, load_scenario
from kafkalab.scenarios.report import TextReporter
from kafkalab.scenarios.runner import RunReport, StepReport, report_step
from kafkalab.scenarios.yaml_source import SourceError
from kafkalab.views import ClusterView


def refusals(scenario: Scenario, allow_writes: bool) -> list[str]:
    """Why each step that cannot run on an attached cluster cannot (``step 3 (kill_broker): ...``), in order."""
    found = []
    for step in scenario.steps:
        refused = refusal(step.action.step, allow_writes)
        if refused is not None:
            found.append(f"step {step.index} ({step.action.step}): {refused.message}")
    return found


class AttachedRunner:
    """Runs scenarios' steps on the cluster ``observer`` describes and the actions act on."""

    def __init__(self, observer: Observes, clock: Callable[[], float],
                 on_step: Callable[[Step, StepReport], None] | None = None) -> None:
        self._observer = observer
        self._clock = clock
        self._builder = AttachedViewBuilder()
        self.on_step = on_step or (lambda step, report: None)
        self._view: ClusterView | None = None

    def round(self) -> ClusterView:
        """A describe round now; the client's exception when the cluster does not answer at all."""
        self._view = self._builder.build(self._observer.observe(self._clock() * 1000))
        return self._view

    def run(self, scenario: Scenario, actions: RealClientActions) -> RunReport:
        """Every step in order, stopping at the first that fails (``refusals`` must have found none)."""
        reports: list[StepReport] = []
        before = self._view or self.round()
        for step in scenario.steps:
            outcome = actions.run(step.action)
            events: list[Event] = []
            try:
                after = self.round()
            except Exception:
                after = before  # the step's own outcome still counts; what it changed is not known
            else:
                events = narrate(before, after)
            before = after
            report = report_step(step, outcome, events)
            reports.append(report)
            self.on_step(step, report)
            if not report.ok:
                break
        return RunReport(scenario.name, all(report.ok for report in reports), reports)

    def fresh_view(self) -> ClusterView | None:
        """The cluster as a round now sees it, for describe steps (None if it does not answer)."""
        try:
            return self.round()
        except Exception:
            return None


def run_on_cluster(file: Path, bootstrap: str, properties: dict[str, str], *, allow_writes: bool, json_report: bool,
                   verbose: bool, out: TextIO, err: TextIO) -> int:
    """``kafkalab run FILE --bootstrap``: 0 passed, 1 a step failed, 2 refused before any step ran."""
    try:
        ck = confluent()
    except AttachError as exc:
        err.write(f"kafkalab: {exc}\n")
        return 2
    config = client_config(bootstrap, properties)
    try:
        runner = AttachedRunner(Observer(config), time.time)
        # Validated with the cluster's topics, as the lab's run validates with a stored cluster's.
        scenario = load_scenario(file, frozenset(topic.name for topic in runner.round().topics))
        actions = RealClientActions(config, runner.fresh_view, allow_writes=allow_writes)
    except SourceError as exc:
        err.write(f"{exc}\n")
        return 2
    except (ck.KafkaException, TimeoutError) as exc:
        err.write(f"kafkalab: {bootstrap} did not answer: {reason(exc)}\n")
        return 2
    refused = refusals(scenario, allow_writes)
    for line in refused:
        err.write(f"kafkalab: {line}\n")
    if refused:
        return 2
    reporter = TextReporter(out, verbose)
    if not json_report:
        out.write(f"Scenario: {scenario.name} (on {bootstrap})\n")
        runner.on_step = reporter.step
    try:
        report = runner.run(scenario, actions)
    finally:
        actions.close()  # the consumers steps started leave their groups, steady producers stop
    if json_report:
        out.write(json.dumps(report.as_json(), indent=2, sort_keys=False) + "\n")
    else:
        reporter.finish(report)
    return 0 if report.ok else 1
