"""What users and the engine write shows as written: brackets in names and values are text, not markup."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input
from tui_helpers import lines, toasts

from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.forms import ActionForm
from kafkalab.tui.screenshots import SIZE, populate

MakeApp = Callable[..., KafkaLabApp]


async def test_a_notification_shows_list_values_and_bracketed_names(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await populate(app)
        app.clear_notifications()
        await pilot.press("g")
        assert isinstance(app.screen, ActionForm)
        app.screen.query_one("#field-group", Input).value = "[b]team"
        app.screen.query_one("#field-topics", Input).value = "[payments]"
        await pilot.press("ctrl+s")
        await pilot.pause()  # the form hands its action over in a callback
        await app.settle(step_ms=3000)
        await pilot.pause()
        shown = toasts(app)
        assert shown and all(rendered == given for rendered, given in shown), shown
        assert "topics: [payments]" in shown[-1][0] and "[b]team" in shown[-1][0]
        await pilot.press("3")
        await app.settle()
        await pilot.pause()
        assert "[b]team" in "\n".join(lines(app, "#groups-table"))


async def test_an_error_quoting_the_input_shows_it_whole(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await populate(app)
        app.clear_notifications()
        await pilot.press("p")
        app.screen.query_one("#field-topic", Input).value = "[b]orders"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await app.settle(step_ms=100)
        await pilot.pause()
        shown = toasts(app)
        assert shown and all(rendered == given for rendered, given in shown), shown
        assert "'[b]orders'" in shown[-1][0]
