"""Lesson files validate like scenarios; verification proves goals, solutions and predictions."""

from pathlib import Path

import pytest

from kafkalab.cli import main
from kafkalab.lessons.catalog import load_catalog
from kafkalab.lessons.model import parse_lesson
from kafkalab.lessons.progress import Progress
from kafkalab.lessons.verify import verify_lesson
from kafkalab.scenarios.yaml_source import SourceError

LESSON = """
id: tiny
title: Tiny
summary: One step.
cluster: {brokers: 1}
setup:
  - create_topic: {name: t}
steps:
  - title: Delete it
    text: Delete the topic.
    goal: {event: {type: TopicDeleted, where: {topic: t}}}
    solution:
      - delete_topic: t
    explain: Gone.
"""


def test_a_valid_lesson_verifies() -> None:
    assert verify_lesson(parse_lesson(LESSON, "tiny.yaml")).ok


def test_a_goal_that_already_holds_is_reported() -> None:
    text = LESSON.replace("goal: {event: {type: TopicDeleted, where: {topic: t}}}",
                          "goal: {partition: {topic: t, partition: 0, high_watermark: 0}}")
    result = verify_lesson(parse_lesson(text, "tiny.yaml"))
    assert any("already holds after setup" in p for p in result.problems)


def test_a_solution_that_misses_its_goal_is_reported() -> None:
    text = LESSON.replace("      - delete_topic: t", "      - note: nothing happens")
    result = verify_lesson(parse_lesson(text, "tiny.yaml"))
    assert any("goal not met" in p for p in result.problems)


def test_lesson_errors_have_positions() -> None:
    with pytest.raises(SourceError) as caught:
        parse_lesson(LESSON.replace("    explain: Gone.\n", "    explian: Gone.\n"), "tiny.yaml")
    text = str(caught.value)
    assert "tiny.yaml:14:5: unknown field 'explian' in steps[0] (did you mean 'explain'?)" in text
    assert "steps[0] is missing required field 'explain'" in text


def test_user_lessons_dir_adds_lessons(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(LESSON)
    catalog = load_catalog(tmp_path)
    assert catalog.get("tiny") is not None and not catalog.problems


def test_every_builtin_lesson_verifies() -> None:
    catalog = load_catalog()
    assert not catalog.problems
    assert catalog.lessons
    for lesson in catalog.lessons:
        result = verify_lesson(lesson)
        assert result.ok, (lesson.id, result.problems)


def test_progress_export_and_import_merge(tmp_path: Path) -> None:
    mine = Progress(tmp_path / "a.json")
    mine.of("tiny").completed_steps.add(0)
    mine.save()
    theirs = Progress(tmp_path / "b.json")
    theirs.of("tiny").completed_steps.add(1)
    theirs.of("other").hints_used = 2
    theirs.save()
    mine.merge_from(tmp_path / "b.json")
    assert mine.of("tiny").completed_steps == {0, 1}
    assert Progress.load(tmp_path / "b.json").of("other").hints_used == 2


def test_verify_command_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tiny.yaml").write_text(LESSON.replace("      - delete_topic: t", "      - note: nothing"))
    assert main(["lessons", "--lessons-dir", str(tmp_path), "verify", "tiny"]) == 1
    assert "FAILED tiny" in capsys.readouterr().out
