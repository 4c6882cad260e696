"""Failures reach the screen: a user's broken partitioner, a process that stopped, an engine that stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tui_helpers import record_notes, shown

from kafkalab.actions.client_actions import Produce
from kafkalab.cluster.cluster import Cluster
from kafkalab.events.failures import ProcessFailed
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.screenshots import SIZE, populate

MakeApp = Callable[..., KafkaLabApp]


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (in the app's event loop) until ``condition()`` holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


class TestUserCode:
    async def test_a_raising_partitioner_fails_its_send_clearly_and_the_cluster_goes_on(self, make_app: MakeApp) -> None:
        app = make_app(custom_partitioner="tui_helpers:exploding_partitioner")
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            before = app.frame.view.topic("orders").partitions[0].log_end_offset
            app.submit(Produce("orders", key="customer-1", partition=None, partitioner="custom"))
            await app.settle(step_ms=500)
            await pilot.pause()
            title, message = notes[-1]
            assert title == "INVALID_ARGUMENT (produce)"
            assert "tui_helpers:exploding_partitioner raised ZeroDivisionError" in message
            app.submit(Produce("orders", key="customer-1", partition=0))
            frame = await app.settle(step_ms=500)
            await pilot.pause()
            assert notes[-1][0] == "produce: ok"
            assert frame.view.topic("orders").partitions[0].log_end_offset == before + 1

    async def test_a_partitioner_with_the_wrong_signature_is_refused_by_name(self, make_app: MakeApp) -> None:
        app = make_app(custom_partitioner="os:getcwd")
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            app.submit(Produce("orders", key="customer-1", partitioner="custom"))
            await app.settle(step_ms=500)
            await pilot.pause()
            title, message = notes[-1]
            assert title == "INVALID_CONFIG (produce)"
            assert "'os:getcwd' cannot be called as fn(topic, key, value, num_partitions)" in message


class TestEngineFailures:
    async def test_a_process_that_stops_unread_is_notified_and_listed(self, make_app: MakeApp) -> None:
        app = make_app(expect_failures=True)
        notes = record_notes(app)

        def broken_task() -> None:
            raise ValueError("an internal check went wrong")

        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            app.bridge.run_on_engine(lambda cluster: cluster.scheduler.call_soon(broken_task))
            await app.settle(step_ms=100)
            await pilot.pause()
            assert tuple({title for title, _ in notes if "bug" in title}) == ("kafkalab bug: a process stopped",)
            assert any("broken_task stopped on ValueError: an internal check went wrong" in m for _, m in notes)
            assert [e.error for e in app.events.newest_first() if isinstance(e, ProcessFailed)] == ["ValueError"]
        assert [event.error for event in app.bridge.process_failures] == ["ValueError"]

    async def test_when_the_engine_stops_the_clock_says_so_and_every_command_is_answered(
            self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)

        def break_frames(cluster: Cluster) -> None:
            def snapshot() -> None:
                raise RuntimeError("frame building broke")

            cluster.snapshot = snapshot  # type: ignore[method-assign,assignment]

        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            app.bridge.run_on_engine(break_frames)
            app.bridge.step(100)
            await _until(lambda: app.engine_stopped)
            await pilot.pause()
            assert notes[-1][0] == "the engine stopped"
            assert "RuntimeError: frame building broke" in notes[-1][1] and "quit with q" in notes[-1][1]
            assert "ENGINE STOPPED" in shown(app, "ClockBar") and "RUNNING" not in shown(app, "ClockBar")
            await pilot.press("space")
            await _until(lambda: len(notes) > 1)
            assert notes[-1][0] == "the engine stopped" and notes[-1][1].startswith("Nothing runs any more")
        assert isinstance(app.bridge.error, RuntimeError)
