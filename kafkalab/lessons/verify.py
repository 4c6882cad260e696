"""Prove a lesson works: goals do not hold after setup, and each solution reaches its goal.

``kafkalab lessons verify`` runs this headless on a fresh temporary cluster per lesson,
with the same ``LessonRun`` the TUI uses, so a lesson that verifies is one a learner can
finish.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kafkalab.cluster.cluster import Cluster
from kafkalab.lessons.live import LessonRun
from kafkalab.lessons.model import Lesson
from kafkalab.session.session import Session
from kafkalab.sim.process import Process, spawn

GOAL_TIMEOUT_MS = 180_000


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying one lesson."""

    lesson_id: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _verify(run: LessonRun) -> Process[list[str]]:
    problems = yield from run.setup()
    if problems:
        return [f"setup failed: {p}" for p in problems]
    for index in range(len(run.lesson.steps)):
        run.begin_step(index)
        if run.check():
            problems.append(f"step {index + 1} ({run.step.content.title}): its goal already holds after setup, "
                            f"so it teaches nothing")
    for index in range(len(run.lesson.steps)):
        run.begin_step(index)
        title = run.step.content.title
        for problem in (yield from run.solve(GOAL_TIMEOUT_MS)):
            problems.append(f"step {index + 1} ({title}): {problem}")
        if run.step.content.predict is not None and run.right_choice() is None:
            problems.append(f"step {index + 1} ({title}): after the solution, not exactly one prediction "
                            f"choice holds")
    return problems


def verify_lesson(lesson: Lesson) -> Verification:
    """Run ``lesson`` headless on a fresh cluster and collect every problem."""
    workdir = Path(tempfile.mkdtemp(prefix="kafkalab-verify-"))
    try:
        cluster = Cluster.open(workdir / "data", brokers=lesson.cluster.brokers, seed=lesson.cluster.seed,
                               mode=lesson.cluster.mode, controllers=lesson.cluster.controllers,
                               broker_config=lesson.cluster.config)
        try:
            cluster.wait(cluster.start())
            session = Session(cluster, lesson.cluster.seed)
            problems = cluster.wait(spawn(session.group, _verify(LessonRun(lesson, session)),
                                          name=f"verification of lesson {lesson.id}").claim(), timeout_ms=3_600_000)
            problems += [f"a process failed: {event.describe()}" for event in cluster.process_failures]
            session.close()
        finally:
            cluster.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return Verification(lesson.id, tuple(problems))
