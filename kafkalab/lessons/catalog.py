"""Where lessons come from: the built-in ``lessons/`` folder and a user's own ``--lessons-dir``."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from kafkalab.errors import quoted
from kafkalab.lessons.model import Lesson, load_lesson
from kafkalab.scenarios.yaml_source import Mark, SourceError

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def builtin_dir(name: str) -> Path:
    """The shipped ``lessons/`` or ``examples/`` folder: the source tree's, else the installed copy."""
    in_tree = _PACKAGE_ROOT / name
    if in_tree.is_dir():
        return in_tree
    return Path(sys.prefix) / "share" / "kafkalab" / name


@dataclass(frozen=True)
class Catalog:
    """Every valid lesson in order, plus the problems of files that are not valid."""

    lessons: tuple[Lesson, ...]
    problems: tuple[tuple[Mark, str], ...]

    def get(self, lesson_id: str) -> Lesson | None:
        """The lesson with this id, if any."""
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)


def load_catalog(extra_dir: Path | None = None) -> Catalog:
    """Load the built-in lessons and those in ``extra_dir``, sorted by ``order`` then id."""
    files = sorted(builtin_dir("lessons").glob("*.yaml"))
    if extra_dir is not None:
        files += sorted(Path(extra_dir).expanduser().glob("*.yaml"))
    lessons: dict[str, Lesson] = {}
    problems: list[tuple[Mark, str]] = []
    for path in files:
        try:
            lesson = load_lesson(path)
        except SourceError as exc:
            problems.extend(exc.problems)
            continue
        if lesson.id in lessons:
            problems.append((Mark(str(path), 1, 1), f"lesson id {quoted(lesson.id)} is already used by "
                                                    f"{lessons[lesson.id].file}"))
            continue
        lessons[lesson.id] = lesson
    for lesson in lessons.values():
        for prerequisite in lesson.prerequisites:
            if prerequisite not in lessons:
                problems.append((Mark(lesson.file, 1, 1),
                                 f"lesson {quoted(lesson.id)} needs unknown lesson {quoted(prerequisite)}"))
    ordered = sorted(lessons.values(), key=lambda lesson: (lesson.order, lesson.id))
    return Catalog(tuple(ordered), tuple(problems))
