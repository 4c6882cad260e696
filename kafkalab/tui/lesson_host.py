"""A lesson in progress on the engine thread: setup, live goal checks, hints, predictions and solutions.

Everything here runs on the engine thread beside the session it teaches on. Goals are
checked every ``GOAL_POLL_MS`` of virtual time (so the same seed ticks them at the same
moments), and each frame carries the latest results as a ``LessonState``.
"""

from __future__ import annotations

from kafkalab.actions.execute import ActionOutcome
from kafkalab.actions.results import CheckResult
from kafkalab.lessons.live import LessonRun
from kafkalab.lessons.model import Lesson
from kafkalab.session.session import Session
from kafkalab.sim.process import Future, Process, spawn
from kafkalab.tui.frames import LessonState

#: How often the current goal is checked, in virtual time.
GOAL_POLL_MS = 100.0


class LessonHost:
    """Runs one ``LessonRun`` for the TUI and reports it as ``LessonState``."""

    def __init__(self, lesson: Lesson, session: Session) -> None:
        self.run = LessonRun(lesson, session)
        self._session = session
        self._setting_up = True
        self._problems: tuple[str, ...] = ()
        self._results: tuple[CheckResult, ...] = ()
        #: The goal results of each met step, as they stood when it was met.
        self._met: dict[int, tuple[CheckResult, ...]] = {}
        self._right: dict[int, int | None] = {}
        #: Steps in which some action ran (a prediction must come before that).
        self._acted: set[int] = set()
        self._solution_playing = False

    def start(self) -> None:
        """Run the lesson's setup on the fresh cluster, then start checking goals."""
        spawn(self._session.group, self._setup(), name="lesson setup").add_done_callback(
            lambda task: self._stopped("setup", task))

    def _setup(self) -> Process[None]:
        problems = yield from self.run.setup()
        self._problems = tuple(f"setup: {problem}" for problem in problems)
        self._setting_up = False
        self._session.on_outcome.append(self._on_outcome)
        self._poll()
        self._session.group.every(GOAL_POLL_MS, self._poll)

    def _stopped(self, what: str, task: Future[None]) -> None:
        """A setup or solution that failed says so in the lesson panel (the failure is journaled too)."""
        if task.error is not None:
            self._problems = (*self._problems, f"{what} stopped: {task.error}")
            self._solution_playing = False

    def _on_outcome(self, started_ms: float, outcome: ActionOutcome) -> None:
        self._acted.add(self.run.index)

    def _poll(self) -> None:
        index = self.run.index
        if self._setting_up or index in self._met:
            return
        self._results = tuple(self.run.goal_results())
        if all(result.ok for result in self._results) and self.run.check():
            self._met[index] = self._results
            self._right[index] = self.run.right_choice()

    # -- commands from the UI (run on the engine thread) ---------------------------------

    def goto(self, index: int) -> None:
        """Make step ``index`` current (clamped); its events count from now."""
        self.run.begin_step(index)
        self._results = ()
        self._poll()

    def move(self, steps: int) -> None:
        """Go ``steps`` steps forward (negative: back)."""
        self.goto(self.run.index + steps)

    def hint(self) -> None:
        """Reveal the current step's next hint."""
        self.run.next_hint()

    def predict(self, choice: int) -> None:
        """Record the learner's prediction, if one is still open."""
        if self._can_predict():
            self.run.predict(choice)

    def play_solution(self) -> None:
        """Run the current step's solution through the session, so the learner watches it happen."""
        if self._setting_up or self._solution_playing:
            return
        self._solution_playing = True
        spawn(self._session.group, self._solve(), name="lesson solution").add_done_callback(
            lambda task: self._stopped("solution", task))

    def _solve(self) -> Process[None]:
        problems = yield from self.run.run_steps(self.run.step.solution)
        self._problems = tuple(f"solution: {problem}" for problem in problems)
        self._solution_playing = False
        self._poll()

    # -- the state a frame carries ---------------------------------------------------------

    def _can_predict(self) -> bool:
        index = self.run.index
        return (not self._setting_up and self.run.step.content.predict is not None
                and index not in self.run.predictions and index not in self._acted and index not in self._met)

    def state(self) -> LessonState:
        """The lesson as it stands now."""
        run = self.run
        index = run.index
        met = index in self._met
        return LessonState(
            lesson_id=run.lesson.id, step=index, setting_up=self._setting_up, problems=self._problems,
            goal=self._met.get(index, self._results), met=met, completed=frozenset(run.completed),
            hints_shown=run.hints_shown.get(index, 0), hints_total=sum(run.hints_shown.values()),
            prediction=run.predictions.get(index), can_predict=self._can_predict(),
            right_choice=self._right.get(index), solution_playing=self._solution_playing)
