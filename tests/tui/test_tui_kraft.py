"""The TUI on a KRaft-mode cluster: it opens, names the active controller, and key 4 shows the quorum screen."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.pilot import Pilot
from tui_helpers import lines, screen_text, shown

from kafkalab.actions.cluster_actions import CutLink, KillBroker
from kafkalab.actions.quorum_actions import KillController
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.bridge import EngineBridge
from kafkalab.tui.screenshots import SIZE, lesson_library, open_app, start_lesson
from kafkalab.tui.widgets.metadata_lane import MetadataLane


@asynccontextmanager
async def kraft_app(tmp_path: Path) -> AsyncIterator[tuple[KafkaLabApp, Pilot[None]]]:
    """The app on a fresh, paused KRaft cluster; closed afterwards, and no engine process may have failed."""
    bridge = EngineBridge.open(tmp_path / "data", brokers=3, fresh=True, seed=1, paused=True, mode="kraft")
    app = KafkaLabApp(bridge, lessons=lesson_library(tmp_path))
    try:
        async with app.run_test(size=SIZE) as pilot:
            yield app, pilot
    finally:
        bridge.close()
    assert not bridge.process_failures


def timer_seconds(app: KafkaLabApp, controller_id: int, what: str) -> float:
    """The countdown ``what in N s`` on a controller's row."""
    row = next(line for line in lines(app, "#controllers") if re.search(rf"│ {controller_id}\b", line))
    match = re.search(rf"{what} in (\d+\.\d) s", row)
    assert match, row
    return float(match.group(1))


async def test_a_kraft_cluster_shows_its_active_controller_and_every_screen(tmp_path: Path) -> None:
    async with kraft_app(tmp_path) as (app, pilot):
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
        assert app.current_mode == "quorum"
        text = screen_text(app)
        assert "leader, active" in text and "unfenced" in text
        assert "REGISTER" in shown(app, "#metadata-lane")


async def test_the_quorum_screen_reads_the_metadata_log_record_by_record(tmp_path: Path) -> None:
    async with kraft_app(tmp_path) as (app, pilot):
        await app.settle(step_ms=6000)
        await pilot.press("4")
        await app.settle()
        await pilot.pause()
        lane = app.screen.query_one(MetadataLane)
        entries = lane.entries
        assert entries and lane.selected == entries[-1]  # it follows the newest record
        await pilot.press("home")
        first = entries[0]
        assert lane.selected == first
        assert f"offset {first.offset}" in shown(app, "#metadata-record")
        assert first.record_type in shown(app, "#metadata-record")
        await pilot.press("right")
        assert lane.selected == entries[1]
        registration = next(e for e in entries if e.record_type == "REGISTER_BROKER_RECORD")
        while lane.selected != registration:
            await pilot.press("right")
        details = shown(app, "#metadata-record")
        assert "brokerId:" in details and "starts fenced" in details
        await pilot.press("end")
        assert lane.selected == entries[-1]


async def test_a_silent_broker_is_fenced_on_the_quorum_screen(tmp_path: Path) -> None:
    async with kraft_app(tmp_path) as (app, pilot):
        await app.settle(step_ms=6000)
        await pilot.press("4")
        await app.settle()
        app.submit(KillBroker(2))
        await app.settle(step_ms=1000)
        await pilot.pause()
        row = next(line for line in lines(app, "#registrations") if line.startswith("│ 2 "))
        assert "unfenced" in row and "ago" in row  # not fenced yet: its session has time left
        await app.settle(step_ms=9000)  # broker.session.timeout.ms (9 s) passes
        await pilot.pause()
        row = next(line for line in lines(app, "#registrations") if line.startswith("│ 2 "))
        assert "FENCED" in row
        assert "Broker 2 was fenced" in shown(app, "#quorum-events")
        assert app.screen.query_one(MetadataLane).selected.record_type == "BROKER_REGISTRATION_CHANGE_RECORD"


async def test_followers_count_down_to_an_election_and_the_votes_show(tmp_path: Path) -> None:
    async with kraft_app(tmp_path) as (app, pilot):
        frame = await app.settle(step_ms=6000)
        await pilot.press("4")
        await app.settle()
        leader = frame.view.controller_id
        assert leader is not None
        follower = next(n for n in (101, 102, 103) if n != leader)
        app.submit(KillController(leader))
        await app.settle(step_ms=200)
        await pilot.pause()
        before = timer_seconds(app, follower, "leader lost")
        await app.settle(step_ms=500)
        await pilot.pause()
        assert timer_seconds(app, follower, "leader lost") == before - 0.5
        await app.settle(step_ms=5000)
        await pilot.pause()
        traffic = shown(app, "#quorum-events")
        assert "granted its vote" in traffic and "received BeginQuorumEpoch" in traffic
        assert "leader, active" in shown(app, "#controllers")


async def test_a_leader_cut_from_the_other_voters_counts_down_to_resigning(tmp_path: Path) -> None:
    async with kraft_app(tmp_path) as (app, pilot):
        frame = await app.settle(step_ms=6000)
        await pilot.press("4")
        leader = frame.view.controller_id
        assert leader is not None
        for other in (n for n in (101, 102, 103) if n != leader):
            app.submit(CutLink((f"controller-{leader}", f"controller-{other}")))
        await app.settle(step_ms=500)
        await pilot.pause()
        before = timer_seconds(app, leader, "resigns")
        await app.settle(step_ms=1000)
        await pilot.pause()
        assert timer_seconds(app, leader, "resigns") == before - 1.0  # no majority fetches: it runs down
        await app.settle(step_ms=before * 1000)
        await pilot.pause()
        assert f"Controller {leader} resigned as leader" in shown(app, "#quorum-events")


async def test_key_4_shows_the_znode_tree_in_zookeeper_mode(tmp_path: Path) -> None:
    app = open_app(tmp_path / "data")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            await pilot.press("4")
            await app.settle()
            assert app.current_mode == "zookeeper"
    finally:
        app.bridge.close()


async def test_key_4_follows_the_cluster_into_a_kraft_lesson_and_back(tmp_path: Path) -> None:
    app = open_app(tmp_path / "data")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            await pilot.press("4")
            await app.settle()
            assert app.current_mode == "zookeeper"
            await start_lesson(app, "the-controller-quorum")
            await pilot.pause()
            assert app.current_mode == "quorum"  # the lesson's cluster runs in KRaft mode
            app.lessons.command("leave")
            for _ in range(50):
                frame = await app.settle(step_ms=100)
                if frame.lesson is None and frame.view.mode == "zookeeper":
                    break
            await pilot.pause()
            assert app.current_mode == "zookeeper"
    finally:
        app.bridge.close()
