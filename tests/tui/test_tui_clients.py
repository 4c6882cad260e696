"""Pilot tests of the user's own clients: a steady producer to a missing topic, a consumer started again."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input
from tui_helpers import record_notes

from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.forms import ActionForm
from kafkalab.tui.screenshots import SIZE, populate

MakeApp = Callable[..., KafkaLabApp]


class TestSteadyProducer:
    async def test_a_missing_topic_is_refused_at_once_with_kafkas_error(self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            notes.clear()
            await pilot.press("P")
            assert isinstance(app.screen, ActionForm)
            app.screen.query_one("#field-topic", Input).value = "ordres"
            await pilot.press("ctrl+s")
            await pilot.pause()  # the form hands its action over in a callback
            await app.settle(step_ms=100)
            await pilot.pause()
            title, text = notes[-1]
            assert title == "UNKNOWN_TOPIC_OR_PARTITION (start_producer)"
            assert text.startswith("Topic 'ordres' does not exist")
            assert not any(t.endswith(": ok") for t, _ in notes)


class TestConsumers:
    async def test_a_consumer_started_again_keeps_its_client_id(self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            notes.clear()
            for _ in range(2):
                await pilot.press("g")
                app.screen.query_one("#field-client_id", Input).value = "c2"
                await pilot.press("ctrl+s")
                await pilot.pause()
                frame = await app.settle(step_ms=5000)
                group = frame.view.group("group-1")
                assert group is not None and [m.client_id for m in group.members] == ["c2"]
                await pilot.press("G")
                assert app.screen.query_one("#field-client_id", Input).value == "c2"
                await pilot.press("ctrl+s")
                await pilot.pause()
                await app.settle(step_ms=1000)
            assert [title for title, _ in notes] == ["start_consumer: ok", "stop_consumer: ok"] * 2

    async def test_a_running_consumers_id_is_refused_saying_where_it_runs(self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            notes.clear()
            for group in ("group-1", "group-2"):
                await pilot.press("g")
                app.screen.query_one("#field-group", Input).value = group
                app.screen.query_one("#field-client_id", Input).value = "c2"
                await pilot.press("ctrl+s")
                await pilot.pause()
                await app.settle(step_ms=1000)
                await pilot.pause()
            assert notes[-1] == ("ILLEGAL_STATE (start_consumer)", "Consumer 'c2' is already running in group "
                                 "'group-1': stop it first, or give this one another client id.")
