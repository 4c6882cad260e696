"""The lesson control works without an app: it tells the app what to show by posting messages."""

from __future__ import annotations

from concurrent.futures import Future as ThreadFuture
from pathlib import Path
from typing import Any

from textual.message import Message

from kafkalab.tui.frames import ClockState, Frame, FrameRequest, LessonState
from kafkalab.tui.lesson_control import LessonControl, LessonLibrary
from kafkalab.views import ClusterView


class RecordingBridge:
    """Stands in for the engine bridge: records what the control asks of the engine."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start_lesson(self, lesson: Any, path: Path) -> ThreadFuture[None]:
        self.calls.append(("start_lesson", lesson.id))
        return ThreadFuture()

    def open_cluster(self, path: Path) -> ThreadFuture[None]:
        self.calls.append(("open_cluster", path))
        return ThreadFuture()

    def on_lesson(self, work: Any) -> None:
        self.calls.append(("on_lesson", work))


def frame_with(state: LessonState) -> Frame:
    view = ClusterView(0.0, "id", 1, (), (), (), (), 0)
    return Frame(1, view, ClockState(0.0, 1.0, True), (), FrameRequest(), generation=1, lesson=state)


def lesson_state(step: int, met: bool) -> LessonState:
    return LessonState("tui-failover", step, False, (), (), met, frozenset({step}) if met else frozenset(), 0, 0,
                       None, False, None, False)


def notices(posted: list[Message]) -> list[tuple[str, str, str]]:
    return [(m.title, m.text, m.severity) for m in posted if isinstance(m, LessonControl.Notice)]


def test_starting_and_leaving_post_notices_and_the_engine_work_to_watch(lessons: LessonLibrary, tmp_path: Path) -> None:
    posted: list[Message] = []
    bridge = RecordingBridge()
    control = LessonControl(bridge, posted.append, lessons, tmp_path / "home")  # type: ignore[arg-type]
    control.start("no-such-lesson")
    assert notices(posted) == [("lesson", "There is no lesson 'no-such-lesson'.", "error")]
    posted.clear()
    control.start("tui-failover")
    assert bridge.calls == [("start_lesson", "tui-failover")]
    assert notices(posted)[0][0] == "lesson: A leader fails over"
    switching = [m for m in posted if isinstance(m, LessonControl.Switching)]
    assert len(switching) == 1 and switching[0].into_lesson and switching[0].failure == "the lesson could not start"
    posted.clear()
    control.observe(frame_with(lesson_state(0, met=False)))
    control.command("leave")
    assert bridge.calls[-1] == ("open_cluster", tmp_path / "home")
    assert [m.into_lesson for m in posted if isinstance(m, LessonControl.Switching)] == [False]


def test_a_met_step_and_the_solution_toggle_are_posted(lessons: LessonLibrary, tmp_path: Path) -> None:
    posted: list[Message] = []
    control = LessonControl(RecordingBridge(), posted.append, lessons, tmp_path / "home")  # type: ignore[arg-type]
    control.command("solution")  # no lesson yet: nothing happens
    assert posted == []
    state = lesson_state(0, met=True)
    control.observe(frame_with(state))
    assert notices(posted) == [("✓ step 1 done", "n: next step", "information")]
    assert lessons.progress.of("tui-failover").completed_steps == {0}
    control.command("solution")
    assert isinstance(posted[-1], LessonControl.SolutionToggled) and control.solution_shown(state)
