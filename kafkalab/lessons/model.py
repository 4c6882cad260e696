"""A lesson file: setup steps, then learner steps with goals, hints, solutions and explanations.

Lessons speak the scenario vocabulary: ``setup`` and each step's ``solution`` are
scenario steps, and each ``goal`` is an ``expect`` mapping checked against the live
cluster. A prediction step asks a question before its solution runs; afterwards
exactly one choice's check holds, and that is the right answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kafkalab.actions.base import doc
from kafkalab.actions.checks import Checks
from kafkalab.errors import quoted
from kafkalab.scenarios.model import (
    ClusterSpec,
    Step,
    check_topic_references,
    parse_steps,
    topics_used,
    validate_cluster,
)
from kafkalab.scenarios.validate import Builder, suggest
from kafkalab.scenarios.yaml_source import Mark, Node, SourceError, load_yaml, read_source


@dataclass(frozen=True)
class Choice:
    """One possible answer to a prediction and the check that is true when it is right."""

    label: str = doc("What the learner picks.")
    check: Checks = doc("Holds after the solution ran exactly when this choice is right.")


@dataclass(frozen=True)
class Prediction:
    """A question answered before the step's action runs."""

    question: str = doc("What to predict.")
    choices: tuple[Choice, ...] = doc("The possible answers.")
    why: str = doc("Why the right answer is right (Markdown).")


@dataclass(frozen=True)
class StepText:
    """The teaching parts of a step, validated as a dataclass (the solution is parsed apart)."""

    title: str = doc("Short step title.")
    text: str = doc("What the learner reads first (Markdown).")
    goal: Checks = doc("Expectations checked live; events count from the start of the step.")
    explain: str = doc("Shown when the goal is met: what just happened and why (Markdown).")
    do: str = doc("The instruction, in one line.", "")
    hints: tuple[str, ...] = doc("Progressive hints, one revealed at a time.", ())
    predict: Prediction | None = doc("Ask the learner to predict the outcome first.", None)


@dataclass(frozen=True)
class LessonStep:
    """A step of a lesson: its text and goal plus the actions that reach the goal."""

    content: StepText
    solution: tuple[Step, ...]
    mark: Mark

    def topics(self) -> list[str]:
        """The topics the step is about: those its goal names, then those its solution acts on."""
        return [*self.content.goal.topics(), *(topic for step in self.solution for topic in topics_used(step.action))]


@dataclass(frozen=True)
class Lesson:
    """A validated lesson file."""

    id: str
    title: str
    summary: str
    order: int
    prerequisites: tuple[str, ...]
    cluster: ClusterSpec
    setup: tuple[Step, ...]
    steps: tuple[LessonStep, ...]
    file: str


_TOP_LEVEL = ("id", "title", "summary", "order", "prerequisites", "cluster", "setup", "steps")


def _lesson_step(builder: Builder, node: Node, index: int) -> LessonStep | None:
    what = f"steps[{index}]"
    if not isinstance(node.value, dict):
        builder.fail(node.mark, f"{what} must be a mapping with title, text, goal, solution and explain")
        return None
    solution_node = node.value.get("solution")
    content_node = Node({k: v for k, v in node.value.items() if k != "solution"}, node.mark,
                       {k: v for k, v in node.key_marks.items() if k != "solution"})
    content = builder.dataclass(content_node, StepText, what)
    if solution_node is None:
        builder.fail(node.mark, f"{what} is missing required field 'solution' (the actions that reach the goal)")
        return None
    solution = parse_steps(builder, solution_node, f"{what}.solution")
    if content is None:
        return None
    if content.predict is not None and len(content.predict.choices) < 2:
        builder.fail(node.mark, f"{what}.predict needs at least two choices")
    return LessonStep(content, tuple(solution), node.mark)


def parse_lesson(text: str, file: str) -> Lesson:
    """Validate a lesson's YAML; SourceError lists every problem with ``file:line:column``."""
    root = load_yaml(text, file)
    if not isinstance(root.value, dict):
        raise SourceError([(root.mark, "a lesson must be a mapping with id, title, summary, setup and steps")])
    builder = Builder()
    values = root.value
    for key in values:
        if key not in _TOP_LEVEL:
            builder.fail(root.key_marks[key], f"unknown top-level key {quoted(key)}{suggest(key, list(_TOP_LEVEL))}; "
                                              f"expected: {', '.join(_TOP_LEVEL)}")
    for required in ("id", "title", "summary", "steps"):
        if required not in values:
            builder.fail(root.mark, f"the lesson is missing required key {required!r}")
    lesson_id = builder.build(values["id"], str, "id") if "id" in values else ""
    title = builder.build(values["title"], str, "title") if "title" in values else ""
    summary = builder.build(values["summary"], str, "summary") if "summary" in values else ""
    order = builder.build(values["order"], int, "order") if "order" in values else 1000
    prerequisites = builder.build(values["prerequisites"], tuple[str, ...], "prerequisites") \
        if "prerequisites" in values else ()
    cluster = builder.dataclass(values["cluster"], ClusterSpec, "cluster") if "cluster" in values else ClusterSpec()
    if cluster is not None:
        validate_cluster(builder, cluster, values.get("cluster"))
    setup = parse_steps(builder, values["setup"], "setup") if "setup" in values else []
    steps: list[LessonStep] = []
    if "steps" in values:
        if not isinstance(values["steps"].value, list) or not values["steps"].value:
            builder.fail(values["steps"].mark, "steps must be a non-empty list")
        else:
            for index, node in enumerate(values["steps"].value):
                step = _lesson_step(builder, node, index)
                if step is not None:
                    steps.append(step)
    builder.raise_if_failed()
    check_topic_references(builder, [*setup, *(s for step in steps for s in step.solution)], frozenset())
    builder.raise_if_failed()
    return Lesson(lesson_id, title, summary, order, tuple(prerequisites or ()), cluster, tuple(setup), tuple(steps),
                  file)


def load_lesson(path: Path) -> Lesson:
    """Read and validate a lesson file."""
    text = read_source(Path(path))
    return parse_lesson(text, str(path))
