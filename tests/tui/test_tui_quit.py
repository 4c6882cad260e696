"""Pilot test of quitting: the screen says what closing does while the cluster closes cleanly."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Static

from kafkalab.storage.log_manager import CLEAN_SHUTDOWN_FILE
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.closing import ClosingScreen
from kafkalab.tui.screenshots import SIZE, populate

MakeApp = Callable[..., KafkaLabApp]


async def test_quitting_says_what_it_does_while_the_cluster_closes_cleanly(make_app: MakeApp) -> None:
    app = make_app()
    seen: list[str] = []
    close = app.bridge.close

    def closing(timeout: float = 30.0) -> None:
        app.bridge.close = close  # type: ignore[method-assign]
        screen = app.screen  # read on the closing thread: what the user looks at meanwhile
        seen.append(str(screen.query_one("#closing-body", Static).content) if isinstance(screen, ClosingScreen)
                    else type(screen).__name__)
        close(timeout)

    app.bridge.close = closing  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await populate(app)
        data_dir = app.bridge.opened_dir
        await pilot.press("q")
        await pilot.press("q")  # a second q while closing changes nothing
        while app.is_running:
            await pilot.pause(0.01)
    assert len(seen) == 1 and seen[0].startswith("Closing the cluster: flushing each broker's logs")
    assert all((data_dir / f"broker-{n}" / CLEAN_SHUTDOWN_FILE).exists() for n in (1, 2, 3))
