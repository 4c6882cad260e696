"""Pilot tests of the user's own clients: producers to a missing topic, forms that fail, a consumer started again."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input, Select
from tui_helpers import record_notes, submit_form

from kafkalab.actions.client_actions import StartProducer
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
            await submit_form(app, pilot, "P", {"topic": "ordres"}, step_ms=100)
            title, text = notes[-1]
            assert title == "UNKNOWN_TOPIC_OR_PARTITION (start_producer)"
            assert text.startswith("Topic 'ordres' does not exist")
            assert not any(t.endswith(": ok") for t, _ in notes)


class TestOneOffProduce:
    async def test_a_missing_topic_is_refused_at_once_and_the_form_opens_again_as_typed(
            self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            notes.clear()
            await pilot.press("p")
            typed = {"topic": "ordres", "value": "typed by hand {i}", "count": "3", "key": "customer-{i}"}
            for name, text in typed.items():
                app.screen.query_one(f"#field-{name}", Input).value = text
            first = app.screen
            await pilot.press("ctrl+s")
            await pilot.pause()  # the form hands its action over in a callback
            await app.settle(step_ms=100)  # one Metadata round trip: max.block.ms (60 s) does not pass
            await pilot.pause()
            title, text = notes[-1]
            assert title == "UNKNOWN_TOPIC_OR_PARTITION (produce)"
            assert text.startswith("Topic 'ordres' does not exist")
            form = app.screen
            assert isinstance(form, ActionForm) and form is not first and form.spec.step == "produce"
            assert {name: form.query_one(f"#field-{name}", Input).value for name in typed} == typed
            form.query_one("#field-topic", Input).value = "orders"
            await pilot.press("ctrl+s")
            await pilot.pause()
            await app.settle(step_ms=500)
            await pilot.pause()
            assert notes[-1][0] == "produce: ok" and not isinstance(app.screen, ActionForm)


class TestStopProducer:
    async def test_the_form_offers_the_running_steady_producers(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            for name in ("steady-1", "clicks"):
                app.submit(StartProducer(name, "orders", rate=10))
            await app.settle(step_ms=100)
            app.action_start_action("stop_producer")
            await pilot.pause()
            field = app.screen.query_one("#field-id", Select)
            assert [value for _, value in field._options if value is not Select.NULL] == ["steady-1", "clicks"]
            assert field.value == "steady-1"


class TestConsumers:
    async def test_a_consumer_started_again_keeps_its_client_id(self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            notes.clear()
            for _ in range(2):
                frame = await submit_form(app, pilot, "g", {"client_id": "c2"}, step_ms=5000)
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
                await submit_form(app, pilot, "g", {"group": group, "client_id": "c2"}, step_ms=1000)
            assert notes[-1] == ("ILLEGAL_STATE (start_consumer)", "Consumer 'c2' is already running in group "
                                 "'group-1': stop it first, or give this one another client id.")
