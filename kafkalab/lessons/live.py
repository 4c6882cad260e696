"""A learner working through one lesson on a live session (the TUI's lesson panel drives this).

Everything here runs on the engine thread: setup and solutions are ordinary actions
executed by the session, and goals are checks evaluated against the live cluster, with
events counted from the moment the step began.
"""

from __future__ import annotations

from kafkalab.actions.execute import execute
from kafkalab.actions.polling import poll_until
from kafkalab.actions.results import CheckResult
from kafkalab.lessons.model import Lesson, LessonStep
from kafkalab.scenarios.model import Step
from kafkalab.scenarios.runner import judge
from kafkalab.session.session import Session
from kafkalab.sim.process import Process


class LessonRun:
    """The state of one lesson in progress: current step, hints shown, predictions, completions."""

    def __init__(self, lesson: Lesson, session: Session) -> None:
        self.lesson = lesson
        self.session = session
        self.index = 0
        self.completed: set[int] = set()
        self.hints_shown: dict[int, int] = {}
        self.predictions: dict[int, int] = {}
        self._step_start_seq = 0

    @property
    def step(self) -> LessonStep:
        """The current step."""
        return self.lesson.steps[self.index]

    def run_steps(self, steps: tuple[Step, ...]) -> Process[list[str]]:
        """Run scenario steps in order; returns a sentence per step that failed."""
        problems: list[str] = []
        for step in steps:
            outcome = yield execute(self.session, step.action)
            problem = judge(step, outcome)
            if problem is not None:
                problems.append(f"{step.action.step} (line {step.mark.line}): {problem}")
                break
        return problems

    def setup(self) -> Process[list[str]]:
        """Prepare the fresh cluster with the lesson's setup steps, then begin step 0."""
        problems = yield from self.run_steps(self.lesson.setup)
        self.begin_step(0)
        return problems

    def begin_step(self, index: int) -> None:
        """Make ``index`` the current step; its goal's events count from now."""
        self.index = max(0, min(index, len(self.lesson.steps) - 1))
        self._step_start_seq = self.session.cluster.journal.last_seq

    def goal_results(self) -> list[CheckResult]:
        """Each expectation of the current goal, as it stands now."""
        return self.step.content.goal.evaluate(self.session, self._step_start_seq)

    def check(self) -> bool:
        """True once the current goal holds; the step is then marked complete."""
        if all(result.ok for result in self.goal_results()):
            self.completed.add(self.index)
            return True
        return False

    def next_hint(self) -> str | None:
        """Reveal the next hint of the current step (None when all are shown)."""
        hints = self.step.content.hints
        shown = self.hints_shown.get(self.index, 0)
        if shown >= len(hints):
            return None
        self.hints_shown[self.index] = shown + 1
        return hints[shown]

    def predict(self, choice: int) -> None:
        """Record the learner's prediction for the current step."""
        self.predictions[self.index] = choice

    def right_choice(self) -> int | None:
        """The prediction choice whose check holds now (None unless exactly one does)."""
        prediction = self.step.content.predict
        if prediction is None:
            return None
        holding = [i for i, choice in enumerate(prediction.choices)
                   if all(r.ok for r in choice.check.evaluate(self.session, self._step_start_seq))]
        return holding[0] if len(holding) == 1 else None

    def solve(self, timeout_ms: float) -> Process[list[str]]:
        """Play the current step's solution and wait for its goal; returns what went wrong."""
        problems = yield from self.run_steps(self.step.solution)
        if problems:
            return problems
        results = yield from poll_until(self.session, self.goal_results, timeout_ms)
        failed = [r.as_dict() for r in results if not r.ok]
        if failed:
            return [f"goal not met {timeout_ms / 1000:g} s after the solution: {failed}"]
        self.completed.add(self.index)
        return []
