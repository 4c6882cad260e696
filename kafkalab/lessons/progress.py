"""A learner's progress, saved in the user data dir and exportable to a file.

Progress is plain JSON so a learner can move it between machines: ``kafkalab lessons
export FILE`` and ``kafkalab lessons import FILE`` (imports merge, never lose a step).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from kafkalab.errors import Errors, KafkaError

FORMAT_VERSION = 1


def default_progress_file() -> Path:
    """``progress.json`` in the per-user kafkalab data directory."""
    return Path(user_data_dir("kafkalab", appauthor=False)) / "progress.json"


@dataclass
class LessonProgress:
    """What a learner has done in one lesson."""

    completed_steps: set[int] = field(default_factory=set)
    hints_used: int = 0
    predictions_right: int = 0
    predictions_made: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"completed_steps": sorted(self.completed_steps), "hints_used": self.hints_used,
                "predictions_right": self.predictions_right, "predictions_made": self.predictions_made}


class Progress:
    """Every lesson's progress, loaded from and saved to one JSON file."""

    def __init__(self, path: Path, lessons: dict[str, LessonProgress] | None = None) -> None:
        self.path = path
        self.lessons = lessons or {}

    @classmethod
    def load(cls, path: Path | None = None) -> Progress:
        """Read progress (empty if the file does not exist yet)."""
        path = path or default_progress_file()
        if not path.exists():
            return cls(path)
        return cls(path, _parse(path))

    def of(self, lesson_id: str) -> LessonProgress:
        """The progress of one lesson (created on first use)."""
        return self.lessons.setdefault(lesson_id, LessonProgress())

    def is_complete(self, lesson_id: str, step_count: int) -> bool:
        return len(self.of(lesson_id).completed_steps) >= step_count

    def save(self) -> None:
        """Write atomically."""
        self.write_to(self.path)

    def write_to(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"format": FORMAT_VERSION,
                                   "lessons": {k: v.as_json() for k, v in sorted(self.lessons.items())}}, indent=2))
        os.replace(tmp, path)

    def merge_from(self, path: Path) -> None:
        """Add another file's progress to this one (union of completed steps, max of counters)."""
        for lesson_id, other in _parse(path).items():
            mine = self.of(lesson_id)
            mine.completed_steps |= other.completed_steps
            mine.hints_used = max(mine.hints_used, other.hints_used)
            mine.predictions_right = max(mine.predictions_right, other.predictions_right)
            mine.predictions_made = max(mine.predictions_made, other.predictions_made)


def _parse(path: Path) -> dict[str, LessonProgress]:
    try:
        raw = json.loads(path.read_text())
        if raw.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported format {raw.get('format')!r}")
        return {str(lesson_id): LessonProgress(set(int(s) for s in entry.get("completed_steps", [])),
                                               int(entry.get("hints_used", 0)), int(entry.get("predictions_right", 0)),
                                               int(entry.get("predictions_made", 0)))
                for lesson_id, entry in raw["lessons"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KafkaError(Errors.INVALID_ARGUMENT, f"{path} is not a kafkalab progress file ({exc}).") from None
