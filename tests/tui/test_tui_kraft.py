"""The TUI on a KRaft-mode cluster: it opens, names the active controller node, and every screen draws."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import screen_text, shown

from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.bridge import EngineBridge
from kafkalab.tui.screenshots import SIZE, lesson_library


async def test_a_kraft_cluster_shows_its_active_controller_and_every_screen(tmp_path: Path) -> None:
    bridge = EngineBridge.open(tmp_path / "data", brokers=3, fresh=True, seed=1, paused=True, mode="kraft")
    app = KafkaLabApp(bridge, lessons=lesson_library(tmp_path))
    try:
        async with app.run_test(size=SIZE) as pilot:
            frame = await app.settle(step_ms=6000)
            assert frame.view.mode == "kraft" and frame.view.controller_id in (101, 102, 103)
            assert f"controller: {frame.view.controller_id}" in shown(app, "ClockBar")
            assert all(broker.state == "running" for broker in frame.view.brokers)
            for key in "123456789":
                await pilot.press(key)
                await pilot.pause()
            await pilot.press("4")
            await app.settle()
            await pilot.pause()
            text = screen_text(app)
            assert "controller quorum" in text and "active controller" in text
            assert "broker 2  epoch" in text and "unfenced" in text
            assert '"type":"REGISTER_BROKER_RECORD"' in text
    finally:
        bridge.close()
    assert not bridge.process_failures
