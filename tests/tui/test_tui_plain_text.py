"""What users and the engine write shows as written: brackets in names and values are text, not markup."""

from __future__ import annotations

from collections.abc import Callable

from tui_helpers import lines, submit_form, toasts

from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.screenshots import SIZE, populate

MakeApp = Callable[..., KafkaLabApp]


async def test_a_notification_shows_list_values_and_bracketed_names(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await populate(app)
        app.clear_notifications()
        await submit_form(app, pilot, "g", {"group": "[b]team", "topics": "[payments]"}, step_ms=3000)
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
        await submit_form(app, pilot, "p", {"topic": "[b]orders"}, step_ms=100)
        shown = toasts(app)
        assert shown and all(rendered == given for rendered, given in shown), shown
        assert "'[b]orders'" in shown[-1][0]
