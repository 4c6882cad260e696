"""`kafkalab play` in the TUI, and recording a session from the UI as a scenario that replays.

Plays run on a paused clock stepped by the test, except where single-stepping must let
real time run for one step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from textual.pilot import Pilot
from textual.widgets import Input
from tui_helpers import TEST_LESSONS, TEST_SCENARIO, shown

from kafkalab import tui
from kafkalab.actions.describe import describe_topic
from kafkalab.cli import main
from kafkalab.scenarios.model import load_scenario, parse_scenario
from kafkalab.scenarios.runner import ScenarioRunner
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.frames import Frame
from kafkalab.tui.prompt import TextPrompt
from kafkalab.tui.screenshots import SIZE, play_on, ready_to_shoot
from kafkalab.tui.widgets.note_banner import NoteBanner
from kafkalab.tui.widgets.play_panel import PlayPanel

MakeApp = Callable[..., KafkaLabApp]

FAILING = """
name: Fails on purpose
cluster: {brokers: 3, seed: 7}
steps:
  - create_topic: {name: orders, partitions: 1, replication_factor: 3}
  - expect: {partition: {topic: orders, partition: 0, leader: 9}}
  - note: never shown
"""


async def palette(pilot: Pilot, command: str) -> None:
    """Run ``command`` from the command palette (typed in one go: key by key is slow)."""
    await pilot.press("ctrl+p")
    pilot.app.screen.query_one(Input).value = command
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause()


async def until(app: KafkaLabApp, holds: Callable[[Frame], bool], seconds: float = 10.0) -> Frame:
    """Wait (in real time) until the newest frame satisfies ``holds``."""
    for _ in range(int(seconds / 0.02)):
        frame = await app.settle()
        if holds(frame):
            return frame
        await asyncio.sleep(0.02)
    raise AssertionError("the frame never got there")


class TestPlay:
    async def test_steps_play_at_the_pace_of_the_clock(self, make_app: MakeApp) -> None:
        app = make_app(scenario=load_scenario(TEST_SCENARIO))
        async with app.run_test(size=SIZE) as pilot:
            frame = await app.settle()
            assert frame.play is not None and not frame.play.reports and frame.play.current == 0
            await play_on(app, 1)
            await pilot.pause()
            play = app.frame.play
            assert [report.action for report in play.reports] == ["create_topic", "produce", "note", "kill_broker"]
            assert play.current == 4 and play.note is not None and play.note.startswith("Broker 3 crashes now.")
            assert app.screen.query_one(NoteBanner).display and "Broker 3 crashes now." in shown(app, "NoteBanner")
            assert "Step 4: wait {ms: 20000.0} running" in shown(app, "#play-outcome")
            await play_on(app, 20)
            play = app.frame.play
            assert play.finished and play.ok and len(play.reports) == len(play.steps)
            assert "■ PASSED" in shown(app, "#play-status")
            await pilot.pause()
            assert play.note is None and not app.screen.query_one(NoteBanner).display  # the narration ends with it

    async def test_single_step_runs_one_step_then_pauses(self, make_app: MakeApp) -> None:
        app = make_app(scenario=load_scenario(TEST_SCENARIO))
        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            await pilot.press("o")
            frame = await until(app, lambda f: f.play is not None and f.play.holding and f.clock.paused)
            assert len(frame.play.reports) == 1
            await pilot.press("o")
            frame = await until(app, lambda f: f.play is not None and len(f.play.reports) == 2 and f.clock.paused)
            assert frame.play.holding
            await pilot.press("space")
            frame = await until(app, lambda f: f.play is not None and not f.play.holding and not f.clock.paused)
            await pilot.press("space")
            await until(app, lambda f: f.clock.paused)

    async def test_a_failed_step_stops_the_play(self, make_app: MakeApp, tmp_path: Path) -> None:
        (tmp_path / "failing.yaml").write_text(FAILING)
        app = make_app(scenario=load_scenario(tmp_path / "failing.yaml"))
        async with app.run_test(size=SIZE) as pilot:
            await play_on(app, 2)
            await pilot.pause()
            play = app.frame.play
            assert play.finished and not play.ok and len(play.reports) == 2 and play.note is None
            assert "■ FAILED" in shown(app, "#play-status")
            assert "✗ orders-0 has leader 9 found: leader" in shown(app, "#play-outcome")


class TestCommandLine:
    def test_an_invalid_scenario_never_opens_the_tui(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setattr(tui, "run_play", lambda *args: pytest.fail("the TUI opened"))
        (tmp_path / "bad.yaml").write_text("name: bad\nsteps:\n  - kill_brokr: 1\n")
        assert main(["play", str(tmp_path / "bad.yaml")]) == 2
        assert f"{tmp_path / 'bad.yaml'}:3:5: unknown step 'kill_brokr'" in capsys.readouterr().err
        assert main(["play", str(TEST_SCENARIO), "--speed", "11"]) == 2

    def test_play_and_lesson_open_the_tui(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        calls: list[tuple[object, ...]] = []
        monkeypatch.setattr(tui, "run_play", lambda *args: calls.append(args) or 0)
        monkeypatch.setattr(tui, "run_lesson", lambda *args: calls.append(args) or 0)
        assert main(["play", str(TEST_SCENARIO), "--speed", "2.5"]) == 0
        scenario, speed, _ = calls[0]
        assert scenario.name == "A leader fails over" and speed == 2.5
        assert main(["--data-dir", str(tmp_path), "lesson", "tui-second", "--lessons-dir", str(TEST_LESSONS)]) == 0
        lesson, catalog, home = calls[1]
        assert lesson.id == "tui-second" and catalog.get("tui-failover") is not None and home == tmp_path
        assert main(["lesson", "no-such-lesson"]) == 2

    def test_the_tui_takes_a_custom_partitioner(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        calls: list[tuple[object, ...]] = []
        monkeypatch.setattr(tui, "run_tui", lambda *args: calls.append(args) or 0)
        assert main(["--data-dir", str(tmp_path), "--partitioner", "mymodule:by_region"]) == 0
        assert calls[0][0] == tmp_path and calls[0][4] == "mymodule:by_region"
        assert calls[0][5] == ("127.0.0.1", 9092)  # a Kafka listener per broker from 9092 by default

    def test_the_tui_listens_where_asked_or_not_at_all(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        calls: list[tuple[object, ...]] = []
        monkeypatch.setattr(tui, "run_tui", lambda *args: calls.append(args) or 0)
        assert main(["--data-dir", str(tmp_path), "--port", "0"]) == 0
        assert main(["--data-dir", str(tmp_path), "--no-listen"]) == 0
        assert [call[5] for call in calls] == [("127.0.0.1", 0), None]
        assert main(["--data-dir", str(tmp_path), "--port", "70000"]) == 2

    def test_the_tui_links_its_brokers_as_on_one_host_unless_told(self, monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
        calls: list[tuple[object, ...]] = []
        monkeypatch.setattr(tui, "run_tui", lambda *args: calls.append(args) or 0)
        assert main(["--data-dir", str(tmp_path)]) == 0
        assert main(["--data-dir", str(tmp_path), "--link-latency-ms", "0.5"]) == 0
        assert [call[8] for call in calls] == [None, 0.5]  # None: run_tui's one-host default
        assert main(["--data-dir", str(tmp_path), "--link-latency-ms", "-1"]) == 2
        assert capsys.readouterr().err.strip() == "kafkalab: --link-latency-ms cannot be negative (-1)"


class TestRecording:
    async def test_what_the_user_does_replays_to_the_same_topic_state(self, make_app: MakeApp, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            await palette(pilot, "session: start recording")
            assert (await app.settle()).recording
            assert "● REC" in shown(app, "ClockBar")
            await pilot.press("c", "ctrl+s")
            await app.settle(step_ms=500)
            await pilot.press("p")
            app.screen.query_one("#field-count", Input).value = "20"
            await pilot.press("ctrl+s")
            await app.settle(step_ms=1000)
            await palette(pilot, "broker: kill 3")
            await app.settle(step_ms=25_000)
            live = describe_topic(app.frame.view, "orders")
            await palette(pilot, "session: stop recording")
            assert isinstance(app.screen, TextPrompt)
            assert app.screen.query_one(Input).value == "recording-1.yaml"
            await pilot.press("enter")
            await until(app, lambda f: not f.recording and (tmp_path / "recording-1.yaml").exists())
            await pilot.pause()
            assert "● REC" not in shown(app, "ClockBar")
        document = yaml.safe_load((tmp_path / "recording-1.yaml").read_text())
        assert [next(iter(step)) for step in document["steps"]] == [
            "create_topic", "wait", "produce", "wait", "kill_broker"]
        document["steps"] += [{"wait": {"ms": 25_000}}, {"describe_topic": "orders"}]
        report = ScenarioRunner(parse_scenario(yaml.safe_dump(document, sort_keys=False), "recorded.yaml")).run()
        assert report.ok, [step.problem for step in report.steps]
        assert report.steps[-1].result == live


class TestPlaySnapshots:
    def test_a_note_while_a_step_runs(self, snap_compare, make_app: MakeApp) -> None:
        app = make_app(scenario=load_scenario(TEST_SCENARIO))

        async def run_before(pilot: Pilot) -> None:
            await play_on(app, 6)
            await ready_to_shoot(app, pilot)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

    def test_the_panel_hides_and_the_narration_stays(self, snap_compare, make_app: MakeApp) -> None:
        app = make_app(scenario=load_scenario(TEST_SCENARIO))

        async def run_before(pilot: Pilot) -> None:
            await play_on(app, 10)  # during the 20 s wait: the play, and so its narration, goes on
            await pilot.press("t")
            await ready_to_shoot(app, pilot)
            assert not app.screen.query_one(PlayPanel).display

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
