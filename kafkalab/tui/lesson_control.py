"""The app's side of guided lessons: the catalog, the learner's progress and the lesson commands.

The engine thread runs a lesson (``LessonHost``) and reports it in every frame. This
object, on the UI thread, starts lessons on a fresh cluster of their own, sends the
learner's commands to the host, keeps what only the UI needs (which solutions are shown)
and saves progress as steps complete. It owns none of the app's state: what the app
should show or do (a notice, the lesson panel, engine work to watch) it posts as a
message, and the app's handlers decide.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future as ThreadFuture
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual.message import Message

from kafkalab.cluster.datadir import default_lesson_clusters_dir
from kafkalab.lessons.progress import LessonProgress, Progress
from kafkalab.tui.frames import Frame, LessonState

if TYPE_CHECKING:
    from kafkalab.lessons.catalog import Catalog
    from kafkalab.lessons.model import Lesson
    from kafkalab.tui.attach_bridge import Bridge

Severity = Literal["information", "warning", "error"]


class LessonLibrary:
    """Where lessons come from, and where the learner's progress and lesson clusters live.

    The lesson files are read on first use, so an app that never shows a lesson never parses them.
    """

    def __init__(self, progress: Progress, clusters_dir: Path, catalog: Catalog | None = None,
                 lessons_dir: Path | None = None) -> None:
        self.progress = progress
        self.clusters_dir = clusters_dir
        self._catalog = catalog
        self._lessons_dir = lessons_dir

    @classmethod
    def load(cls, lessons_dir: Path | None = None) -> LessonLibrary:
        """Built-in lessons plus ``lessons_dir``; progress and clusters in the user data dir (KafkaError if the
        progress file is unreadable)."""
        return cls(Progress.load(), default_lesson_clusters_dir(), lessons_dir=lessons_dir)

    @property
    def catalog(self) -> Catalog:
        """Every valid lesson in order (and the problems of invalid files)."""
        if self._catalog is None:
            # The lesson files (and the YAML reader under them) are read when first asked for, not at start (issue 18).
            from kafkalab.lessons.catalog import load_catalog

            self._catalog = load_catalog(self._lessons_dir)
        return self._catalog

    def cluster_dir(self, lesson_id: str) -> Path:
        """The data dir of ``lesson_id``'s own cluster."""
        return self.clusters_dir / re.sub(r"[^A-Za-z0-9_.-]", "_", lesson_id)

    def progress_of(self, lesson_id: str) -> LessonProgress:
        """What the learner did in ``lesson_id`` (nothing yet: an empty record, not stored)."""
        return self.progress.lessons.get(lesson_id) or LessonProgress()

    def done_steps(self, lesson: Lesson) -> set[int]:
        """The steps of ``lesson`` completed in any run."""
        return self.progress_of(lesson.id).completed_steps & set(range(len(lesson.steps)))

    def is_complete(self, lesson: Lesson) -> bool:
        """True once every step of ``lesson`` was completed (in any run)."""
        return len(self.done_steps(lesson)) == len(lesson.steps)

    def missing_prerequisites(self, lesson: Lesson) -> list[str]:
        """The prerequisites of ``lesson`` not completed yet."""
        return [needed for needed in lesson.prerequisites
                if (other := self.catalog.get(needed)) is None or not self.is_complete(other)]


class LessonControl:
    """Starts lessons, forwards the learner's commands and keeps progress (UI thread)."""

    class Notice(Message):
        """Something to tell the learner in a notification."""

        def __init__(self, text: str, title: str, severity: Severity = "information") -> None:
            super().__init__()
            self.text = text
            self.title = title
            self.severity = severity

    class Switching(Message):
        """The engine is switching clusters (into a lesson, or back home); tell the learner if ``work`` fails."""

        def __init__(self, work: ThreadFuture[None], failure: str, into_lesson: bool) -> None:
            super().__init__()
            self.work = work
            self.failure = failure
            #: True when a lesson starts, so its panel should be shown.
            self.into_lesson = into_lesson

    class SolutionToggled(Message):
        """The learner showed or hid the current step's solution: the panel draws it."""

    def __init__(self, bridge: Bridge, post: Callable[[Message], object], library: LessonLibrary | None,
                 home_dir: Path) -> None:
        """``post`` delivers messages to the app (its ``post_message``)."""
        self._bridge = bridge
        self._post = post
        self._library = library
        #: The user's own cluster, reopened when they leave a lesson.
        self.home_dir = home_dir
        #: The lesson as the newest frame reported it (None: no lesson runs).
        self._state: LessonState | None = None
        self._solutions_shown: set[int] = set()
        #: (generation, lesson id) of the run the bookkeeping below is about.
        self._run: tuple[int, str] | None = None
        self._hints_counted = 0
        self._scored: set[int] = set()
        self._announced: set[int] = set()

    @property
    def library(self) -> LessonLibrary:
        """The lessons and progress, loaded on first use."""
        if self._library is None:
            self._library = LessonLibrary.load()
        return self._library

    def content(self, state: LessonState) -> Lesson | None:
        """The lesson file behind ``state``."""
        return self.library.catalog.get(state.lesson_id)

    def solution_shown(self, state: LessonState) -> bool:
        """True if the learner asked to see the current step's solution."""
        return state.step in self._solutions_shown

    def _notify(self, text: str, title: str, severity: Severity = "information") -> None:
        self._post(self.Notice(text, title, severity))

    def start(self, lesson_id: str) -> None:
        """Start ``lesson_id`` on a fresh cluster of its own (the user's cluster is closed, never wiped)."""
        lesson = self.library.catalog.get(lesson_id)
        if lesson is None:
            self._notify(f"There is no lesson {lesson_id!r}.", "lesson", "error")
            return
        path = self.library.cluster_dir(lesson.id)
        self._notify(f"Setting up a fresh {lesson.cluster.brokers}-broker cluster in {path}.",
                     f"lesson: {lesson.title}")
        self._post(self.Switching(self._bridge.start_lesson(lesson, path), "the lesson could not start", True))

    def command(self, name: str) -> None:
        """Run a lesson command from a key or the palette (``hint``, ``next``, ``restart`` ...)."""
        state = self._state
        lesson = self.content(state) if state is not None else None
        if state is None or lesson is None:
            return
        bridge = self._bridge
        if name == "hint":
            if state.hints_shown >= len(lesson.steps[state.step].content.hints):
                self._notify("No more hints for this step; s shows the solution, w plays it.", "lesson")
            else:
                bridge.on_lesson(lambda host: host.hint())
        elif name == "solution":
            self._solutions_shown ^= {state.step}
            self._post(self.SolutionToggled())
        elif name == "play_solution":
            bridge.on_lesson(lambda host: host.play_solution())
        elif name in ("next", "previous"):
            steps = 1 if name == "next" else -1
            bridge.on_lesson(lambda host: host.move(steps))
        elif name == "restart":
            self.start(state.lesson_id)
        elif name == "leave":
            self._notify(f"Reopening your own cluster in {self.home_dir}.", f"lesson: {lesson.title}")
            self._post(self.Switching(bridge.open_cluster(self.home_dir), "your cluster could not be opened", False))

    def predict(self, choice: int) -> None:
        """Record the learner's prediction for the current step."""
        self._bridge.on_lesson(lambda host: host.predict(choice))

    def observe(self, frame: Frame) -> None:
        """Follow the lesson in a new frame and save progress: completed steps, hints used, predictions made and right."""
        state = self._state = frame.lesson
        if state is None:
            return
        lesson = self.content(state)
        if lesson is None:
            return
        run = (frame.generation, state.lesson_id)
        if run != self._run:
            self._run = run
            self._hints_counted = 0
            self._scored = set()
            self._announced = set()
            self._solutions_shown = set()
        progress = self.library.progress.of(state.lesson_id)
        changed = not state.completed <= progress.completed_steps
        progress.completed_steps |= state.completed
        if state.hints_total > self._hints_counted:
            progress.hints_used += state.hints_total - self._hints_counted
            self._hints_counted = state.hints_total
            changed = True
        if state.met and state.prediction is not None and state.step not in self._scored:
            self._scored.add(state.step)
            progress.predictions_made += 1
            progress.predictions_right += state.prediction == state.right_choice
            changed = True
        if changed:
            self._save()
        if state.met and state.step not in self._announced:
            self._announced.add(state.step)
            done, total = len(progress.completed_steps), len(lesson.steps)
            if done >= total:
                text = "Lesson complete. l opens the lessons."
            elif state.step == total - 1:
                text = f"{done} of {total} steps done; N goes back to the others."
            else:
                text = "n: next step"
            self._notify(text, f"✓ step {state.step + 1} done")

    def _save(self) -> None:
        try:
            self.library.progress.save()
        except OSError as exc:
            self._notify(f"Progress not saved: {exc.strerror} ({self.library.progress.path})", "lesson", "error")
