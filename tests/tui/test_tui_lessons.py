"""Lessons in the TUI: the browser, a lesson on its own fresh cluster, goals ticking, predictions, progress.

The lessons are the test ones in ``tests/tui/lessons/`` and progress goes to a temporary
file, so neither the built-in lessons nor the user's progress are involved.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from textual.pilot import Pilot
from tui_helpers import shown

from kafkalab.lessons.progress import Progress
from kafkalab.lessons.verify import verify_lesson
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.lesson_control import LessonLibrary
from kafkalab.tui.screens.lesson_browser import LessonBrowser
from kafkalab.tui.screenshots import SIZE, lesson_key, populate, ready_to_shoot, start_lesson
from kafkalab.tui.widgets.lesson_panel import LessonPanel
from kafkalab.tui.widgets.prediction_choices import PredictionChoices

MakeApp = Callable[..., KafkaLabApp]
#: Long enough for ZooKeeper to expire the killed leader's session and the controller to elect another.
FAILOVER_MS = 25_000


def test_the_test_lessons_verify(lessons: LessonLibrary) -> None:
    for lesson in lessons.catalog.lessons:
        assert verify_lesson(lesson).ok, lesson.id


def saved_progress(lessons: LessonLibrary) -> dict[str, object]:
    """The progress file as written to disk."""
    return json.loads(lessons.progress.path.read_text())["lessons"]["tui-failover"]


class TestStartingALesson:
    async def test_the_browser_starts_a_lesson_on_its_own_fresh_cluster(self, make_app: MakeApp,
                                                                       lessons: LessonLibrary) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            await pilot.press("l")
            assert isinstance(app.screen, LessonBrowser)
            await pilot.press("enter")
            for _ in range(100):
                frame = await app.settle(step_ms=100)
                if frame.lesson is not None and not frame.lesson.setting_up:
                    break
            assert frame.lesson is not None and frame.lesson.lesson_id == "tui-failover"
            assert [t.name for t in frame.view.topics if not t.internal] == ["payments"]
            assert frame.view.partition("payments", 0).leader == 2
            assert (lessons.clusters_dir / "tui-failover" / "kafkalab.json").exists()
            # The panel is mounted with the first frame that has a lesson and shown by the draw after that:
            # under load that draw can come after the frame ``settle`` waited for.
            for _ in range(50):
                if app.screen.query(LessonPanel) and app.screen.query_one(LessonPanel).display:
                    break
                await pilot.pause(0.01)
            assert app.screen.query_one(LessonPanel).display
        # The user's own cluster was closed cleanly, not wiped.
        home = app.lessons.home_dir
        assert (home / "broker-1" / "orders-0").is_dir() and (home / "broker-1" / ".kafka_cleanshutdown").exists()

    async def test_leaving_reopens_the_users_cluster(self, make_app: MakeApp, lessons: LessonLibrary) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=SIZE):
            await populate(app)
            await start_lesson(app, "tui-failover")
            app.action_lesson("leave")
            for _ in range(100):
                frame = await app.settle(step_ms=100)
                if frame.lesson is None:
                    break
            assert frame.lesson is None
            assert {t.name for t in frame.view.topics if not t.internal} == {"orders", "payments", "audit"}
            assert not app.screen.query_one(LessonPanel).display
            assert app.selection.topic == "audit"

    async def test_restart_starts_over_on_a_fresh_cluster(self, make_app: MakeApp, lessons: LessonLibrary) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=SIZE) as pilot:
            await start_lesson(app, "tui-failover")
            await lesson_key(app, pilot, "w", step_ms=1000)
            assert app.frame.view.partition("payments", 0).high_watermark == 3
            await lesson_key(app, pilot, "n")
            await lesson_key(app, pilot, "R")
            await start_lesson(app, "tui-failover")
            lesson = app.frame.lesson
            assert lesson is not None and lesson.step == 0 and not lesson.met
            assert app.frame.view.partition("payments", 0).high_watermark == 0
            assert saved_progress(lessons)["completed_steps"] == [0]


class TestWorkingThroughALesson:
    async def test_playing_the_solution_ticks_the_goal_and_saves_progress(self, make_app: MakeApp,
                                                                         lessons: LessonLibrary) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=SIZE) as pilot:
            await start_lesson(app, "tui-failover")
            assert [result.ok for result in app.frame.lesson.goal] == [False]
            await lesson_key(app, pilot, "w", step_ms=1000)
            lesson = app.frame.lesson
            assert lesson.met and lesson.completed == {0}
            assert [result.ok for result in lesson.goal] == [True]
            assert "✓ Goal met" in shown(app, "#lesson-explanation")
            assert saved_progress(lessons)["completed_steps"] == [0]
            assert Progress.load(lessons.progress.path).of("tui-failover").completed_steps == {0}

    async def test_each_step_selects_the_topic_it_is_about(self, make_app: MakeApp) -> None:
        app = make_app()  # the built-in lessons: this one has three topics
        async with app.run_test(size=SIZE) as pilot:
            await start_lesson(app, "streaming-pipelines")
            # by-page comes first alphabetically; step 1's goal is about purchases.
            assert next(t.name for t in app.frame.view.topics if not t.internal) == "by-page"
            assert app.selection.topic == "purchases"
            await lesson_key(app, pilot, "w", step_ms=2000)
            await lesson_key(app, pilot, "n")
            await app.settle()
            assert app.selection.topic == "by-page"

    async def test_hints_come_one_at_a_time_and_are_counted(self, make_app: MakeApp, lessons: LessonLibrary) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=SIZE) as pilot:
            await start_lesson(app, "tui-failover")
            for count in (1, 2, 2):
                await lesson_key(app, pilot, "h")
                assert app.frame.lesson.hints_shown == count
            status = shown(app, "#lesson-status")
            assert "Hint 2: The high watermark moves" in status
            await lesson_key(app, pilot, "s")
            assert "- produce: {topic: payments" in shown(app, "#lesson-status")
            await lesson_key(app, pilot, "w", step_ms=1000)
            assert saved_progress(lessons)["hints_used"] == 2

    async def test_a_prediction_is_asked_first_and_judged_after(self, make_app: MakeApp,
                                                               lessons: LessonLibrary) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=SIZE) as pilot:
            await start_lesson(app, "tui-failover")
            await lesson_key(app, pilot, "n")
            assert app.frame.lesson.step == 1 and app.frame.lesson.can_predict
            assert isinstance(app.focused, PredictionChoices)
            await lesson_key(app, pilot, "2")  # while the choices have focus, 2 picks (it does not switch screens)
            assert app.current_mode == "dashboard"
            assert app.frame.lesson.prediction == 1 and not app.frame.lesson.can_predict
            assert not isinstance(app.focused, PredictionChoices)
            await lesson_key(app, pilot, "w", step_ms=FAILOVER_MS)
            lesson = app.frame.lesson
            assert lesson.met and lesson.right_choice == 0
            assert "You predicted Broker 1: not quite. The answer: Broker 3." in shown(app, "#lesson-explanation")
            saved = saved_progress(lessons)
            assert (saved["predictions_made"], saved["predictions_right"]) == (1, 0)

    async def test_acting_first_closes_the_prediction(self, make_app: MakeApp, lessons: LessonLibrary) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=SIZE) as pilot:
            await start_lesson(app, "tui-failover")
            await lesson_key(app, pilot, "n")
            await lesson_key(app, pilot, "w", step_ms=1000)
            assert not app.frame.lesson.can_predict and app.frame.lesson.prediction is None
            await lesson_key(app, pilot, "1")
            assert app.frame.lesson.prediction is None


# -- snapshots ------------------------------------------------------------------------------


def shot(snap_compare: Callable[..., bool], app: KafkaLabApp, scene: Callable[[KafkaLabApp, Pilot], object]) -> bool:
    """Play ``scene`` and compare the screen with the stored snapshot."""

    async def run_before(pilot: Pilot) -> None:
        await scene(app, pilot)  # type: ignore[misc]
        await ready_to_shoot(app, pilot)

    return snap_compare(app, terminal_size=SIZE, run_before=run_before)


class TestLessonSnapshots:
    def test_browser_with_progress_and_prerequisites(self, snap_compare, make_app: MakeApp,
                                                     lessons: LessonLibrary) -> None:
        lessons.progress.of("tui-failover").completed_steps.add(0)

        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await app.settle()
            await pilot.press("l", "down")

        assert shot(snap_compare, make_app(lessons=lessons), scene)

    def test_a_normal_step_with_a_hint(self, snap_compare, make_app: MakeApp, lessons: LessonLibrary) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await start_lesson(app, "tui-failover")
            await lesson_key(app, pilot, "h")

        assert shot(snap_compare, make_app(lessons=lessons), scene)

    def test_a_met_goal_with_its_explanation(self, snap_compare, make_app: MakeApp, lessons: LessonLibrary) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await start_lesson(app, "tui-failover")
            await lesson_key(app, pilot, "w", step_ms=1000)

        assert shot(snap_compare, make_app(lessons=lessons), scene)

    def test_a_prediction_before_the_learner_acts(self, snap_compare, make_app: MakeApp,
                                                  lessons: LessonLibrary) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await start_lesson(app, "tui-failover")
            await lesson_key(app, pilot, "n")

        assert shot(snap_compare, make_app(lessons=lessons), scene)

    def test_a_prediction_judged_after_the_goal_is_met(self, snap_compare, make_app: MakeApp,
                                                       lessons: LessonLibrary) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await start_lesson(app, "tui-failover")
            await lesson_key(app, pilot, "n")
            await lesson_key(app, pilot, "2")
            await lesson_key(app, pilot, "w", step_ms=FAILOVER_MS)

        assert shot(snap_compare, make_app(lessons=lessons), scene)
