"""The built-in lessons' words: they speak to the learner, and a hint that says how to act says all of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import MISSING, fields
from typing import Any

import pytest

from kafkalab.actions import REGISTRY, Action
from kafkalab.lessons.catalog import load_catalog
from kafkalab.lessons.model import Lesson, LessonStep, parse_lesson

LESSONS = load_catalog().lessons
#: Fields an action needs only sometimes, and when: ``consume`` starts a consumer that is not running yet, and
#: then needs its topics (a step whose solution gives them starts one).
NEEDED_WHEN_THE_SOLUTION_GIVES_THEM = {"consume": ("topics",)}


def learner_texts(lesson: Lesson) -> Iterator[str]:
    """Everything of a lesson a learner reads."""
    yield from (lesson.title, lesson.summary)
    for step in lesson.steps:
        content = step.content
        yield from (content.title, content.text, content.do, content.explain, *content.hints)
        if content.predict is not None:
            yield from (content.predict.question, content.predict.why,
                        *(choice.label for choice in content.predict.choices))


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_lessons_speak_to_the_learner_not_about_their_sources(lesson: Lesson) -> None:
    """A learner never had "the seed" (the notes the lessons were written from): no text may cite it."""
    assert [text for text in learner_texts(lesson) if re.search(r"\bseed\b", text, re.IGNORECASE)] == []


def _said(word: object, text: str) -> bool:
    """True when ``word`` stands in ``text`` as a word of its own (``billing`` is not in ``billing-1``)."""
    return re.search(rf"(?<![\w.-]){re.escape(str(word))}(?![\w-])", text, re.IGNORECASE) is not None


def _named(field: str, solution_values: list[Any], text: str) -> bool:
    """True when ``text`` names ``field`` (``client_id``, ``client id``, ``client ids``) or gives every value the
    step's solution gives it (``on invoices`` names the topic)."""
    spoken = field.replace("_", " ")
    if any(_said(name, text) for name in (field, spoken, spoken + "s", field.replace("_", "."))):
        return True
    values = [item for value in solution_values for item in (value if isinstance(value, (list, tuple)) else [value])]
    return bool(values) and all(_said(value, text) for value in values)


def _needed(action_type: type[Action], solution: list[Action]) -> list[str]:
    required = [f.name for f in fields(action_type) if f.default is MISSING and f.default_factory is MISSING]
    sometimes = NEEDED_WHEN_THE_SOLUTION_GIVES_THEM.get(action_type.step, ())
    return required + [name for name in sometimes if any(getattr(action, name) for action in solution)]


def hint_problems(step: LessonStep) -> list[str]:
    """What the step's hints leave out: a hint that starts saying how to fill an action in (names one of the fields
    it needs) names all of them, counting the hints before it; and all the hints together name every field each
    action they name needs."""
    hints = step.content.hints
    problems = []
    for index, hint in enumerate(hints):
        for step_name in dict.fromkeys(re.findall(r"`(\w+)`", hint)):
            if step_name not in REGISTRY:
                continue
            solution = [s.action for s in step.solution if s.action.step == step_name]
            needed = {name: [getattr(action, name) for action in solution]
                      for name in _needed(REGISTRY[step_name], solution)}
            if not any(_named(name, values, hint) for name, values in needed.items()):
                # A nudge ("Use the `create_topic` action."): the hints together must say the rest.
                so_far = " ".join(hints)
            else:
                so_far = " ".join(hints[:index + 1])
            missing = [name for name, values in needed.items() if not _named(name, values, so_far)]
            if missing:
                problems.append(f"hint {index + 1} names `{step_name}` but not {', '.join(missing)}: {hint}")
    return problems


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_hints_name_every_field_the_action_they_name_needs(lesson: Lesson) -> None:
    problems = [f"step {number} ({step.content.title}): {problem}"
                for number, step in enumerate(lesson.steps, 1) for problem in hint_problems(step)]
    assert problems == []


def _step(hints: list[str], solution: str) -> LessonStep:
    hint_lines = "".join(f"      - {hint!r}\n" for hint in hints)
    lesson = parse_lesson(f"""
id: t
title: T
summary: S.
setup:
  - create_topic: {{name: greetings}}
steps:
  - title: Read
    text: Read.
    goal: {{consumed: {{group: readers, at_least: 1}}}}
    hints:
{hint_lines}    solution:
      - {solution}
    explain: Read.
""", "t.yaml")
    return lesson.steps[0]


CONSUME = "consume: {group: readers, client_id: reader-1, topics: [greetings]}"


@pytest.mark.parametrize(("hints", "problem"), [
    # Lesson 1's old hint: following it, consume refused to start a consumer without topics.
    (["Use the `consume` action from the command palette; the client id can be anything, e.g. reader-1.",
      "Group: readers, topics: [greetings]."], "hint 1 names `consume` but not group, topics"),
    (["Use the `consume` action.", "Group: readers, topics: [greetings]."], "hint 1 names `consume` but not "
                                                                             "client_id"),
])
def test_a_hint_leaving_out_a_needed_field_is_found(hints: list[str], problem: str) -> None:
    assert [p.split(":")[0] for p in hint_problems(_step(hints, CONSUME))] == [problem]


def test_a_nudge_followed_by_the_values_passes() -> None:
    assert hint_problems(_step(["Use the `consume` action.", "Group readers, client_id reader-1, topics "
                                                             "[greetings]."], CONSUME)) == []
