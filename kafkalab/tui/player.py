"""Play a scenario on the live session, on the engine thread, at the pace of the real-time clock.

Steps run one after another exactly as ``kafkalab run`` runs them (the runner's
``report_step`` judges each), but on the clock the user controls: pausing the clock
pauses the play, speed changes its pace, and single-step mode runs one step and pauses.
The play stops at the first failed step; the cluster stays live.
"""

from __future__ import annotations

from kafkalab.actions.control_actions import Note
from kafkalab.actions.execute import execute
from kafkalab.scenarios.model import Scenario
from kafkalab.scenarios.runner import StepReport, report_step
from kafkalab.session.session import Session
from kafkalab.sim.process import Future, Process, spawn
from kafkalab.sim.realtime_clock import RealtimeDriver
from kafkalab.tui.frames import PlayState


class ScenarioPlayer:
    """One scenario played step by step on a session, pausable and single-steppable."""

    def __init__(self, scenario: Scenario, session: Session, driver: RealtimeDriver) -> None:
        self._scenario = scenario
        self._session = session
        self._driver = driver
        self._reports: list[StepReport] = []
        self._current: int | None = None
        self._note: str | None = None
        #: Pause after each step until the user releases the next one.
        self._single = False
        self._gate: Future[None] | None = None
        self._finished = False

    def start(self) -> None:
        """Begin playing from the first step."""
        spawn(self._session.group, self._play(), name=f"play of scenario {self._scenario.name}")

    def _play(self) -> Process[None]:
        journal = self._session.cluster.journal
        for step in self._scenario.steps:
            if self._gate is not None:
                yield self._gate
            self._current = step.index
            before = journal.last_seq
            outcome = yield execute(self._session, step.action)
            report = report_step(step, outcome, journal.since(before))
            self._reports.append(report)
            self._current = None
            if isinstance(step.action, Note):
                self._note = step.action.text
            if not report.ok:
                break
            if self._single:
                self._gate = Future()
                self._driver.pause()
        self._finished = True
        self._note = None  # the narration belongs to the steps; the verdict stays in the panel

    def _release(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.set_result(None)

    # -- commands from the UI (run on the engine thread) ---------------------------------

    def toggle(self) -> None:
        """Pause the play (and the clock), or let it run on without stopping after each step."""
        if not self._finished and (self._gate is not None or self._driver.paused):
            self._single = False
            self._release()
            self._driver.resume()
        else:
            self._driver.toggle_pause()

    def one_step(self) -> None:
        """Run the next step (or finish the running one) and pause after it."""
        if self._finished:
            return
        self._single = True
        self._release()
        self._driver.resume()

    def state(self) -> PlayState:
        """The play as it stands now."""
        scenario = self._scenario
        return PlayState(scenario.name, scenario.file, scenario.steps, tuple(self._reports), self._current,
                         self._note, self._gate is not None, self._finished)
