"""Pilot tests: press keys as a user would and check the cluster changed as the screen says."""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input, Static
from tui_helpers import record_notes

from kafkalab.actions.client_actions import StartConsumer
from kafkalab.errors import Errors, KafkaError
from kafkalab.gc_pause import FULL_PASS_EVERY, collector_paused
from kafkalab.tui import run_tui
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.bridge import EngineBridge
from kafkalab.tui.forms import ActionForm
from kafkalab.tui.help import LANE_GLYPHS, HelpScreen
from kafkalab.tui.screens.dashboard import LEGEND, TXN_LEGEND
from kafkalab.tui.screenshots import FAILOVER_MS, SIZE, populate, transactions
from kafkalab.tui.widgets.broker_cards import BrokerCards
from kafkalab.tui.widgets.partition_lanes import PartitionLanes

MakeApp = Callable[..., KafkaLabApp]


class TestBrokerActions:
    async def test_killing_the_leader_through_the_form_takes_its_broker_down(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            leader = app.selection.partition_view(app.frame.view).leader
            await pilot.press("k")
            assert isinstance(app.screen, ActionForm)
            assert app.screen.query_one("#field-broker", Input).value == str(leader)
            await pilot.press("ctrl+s")
            await pilot.pause()  # the form hands its action over in a callback
            frame = await app.settle(step_ms=FAILOVER_MS)
            await pilot.pause()
            assert frame.view.broker(leader).state == "not running"
            assert frame.view.partition("orders", 0).leader != leader
            card = app.screen.query_one(BrokerCards)._cards[leader]
            assert "DOWN" in card.render_line(0).text

    async def test_the_palette_runs_a_ready_made_command(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            await pilot.press("ctrl+p")
            await pilot.press(*"broker: kill 3")
            await pilot.pause(0.3)
            await pilot.press("enter")
            frame = await app.settle()
            assert frame.view.broker(3).state == "not running"


class TestConsumerMarkers:
    async def test_a_running_consumers_position_is_marked_on_its_lane_apart_from_the_commit(
            self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            app.submit(StartConsumer("billing", "reader", ("orders",), "range", "earliest", enable_auto_commit=False))
            frame = await app.settle(step_ms=6000)
            await pilot.pause()
            ends = {p.partition: p.high_watermark for p in frame.view.topic("orders").partitions}
            positions = {p.partition: p.offset for p in frame.positions if p.client_id == "reader"}
            assert positions == ends  # it read everything
            lanes = app.screen.query_one(PartitionLanes)
            markers = lanes.lane_line(0, 2).plain
            # Nothing committed (auto-commit off), so no ↑billing; the position sits under the log end.
            assert "▲reader" in markers and "↑billing" not in markers
            assert markers.index("▲reader") > markers.index("s")


class TestTopicActions:
    async def test_creating_a_topic_through_the_form(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            await pilot.press("c", "ctrl+s")
            await pilot.pause()  # the form hands its action over in a callback
            frame = await app.settle(step_ms=500)
            topic = frame.view.topic("orders")
            assert topic is not None and len(topic.partitions) == 3
            assert dict(topic.config_overrides) == {}  # the form suggests no overrides
            assert app.selection.topic == "orders"

    async def test_producing_one_record_shows_where_it_went(self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            before = app.frame.view.topic("orders")
            await pilot.press("p")
            app.screen.query_one("#field-key", Input).value = "customer-3"
            await pilot.press("ctrl+s")
            await pilot.pause()  # the form hands its action over in a callback
            frame = await app.settle(step_ms=500)
            grown = [p.partition for p, old in zip(frame.view.topic("orders").partitions, before.partitions, strict=True)
                     if p.log_end_offset == old.log_end_offset + 1]
            assert len(grown) == 1
            assert notes[-1][0] == "produce: ok"
            assert notes[-1][1] == f"went to orders-{grown[0]} @ {before.partitions[grown[0]].log_end_offset}"
            assert app.selection.partition == grown[0]

    async def test_consuming_shows_the_records_read_not_where_records_went(self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            await pilot.press("ctrl+p")
            app.screen.query_one(Input).value = "record: consume"
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ActionForm)
            for name, value in (("group", "auditors"), ("client_id", "reader"), ("topics", "[audit]"),
                                ("max_records", "3")):
                app.screen.query_one(f"#field-{name}", Input).value = value
            await pilot.press("ctrl+s")
            await pilot.pause()  # the form hands its action over in a callback
            await app.settle(step_ms=10_000)
            await pilot.pause()
            title, text = notes[-1]
            assert title == "consume: ok"
            assert "went to" not in text
            assert re.fullmatch(r"got 3 record\(s\): (audit-\d @ \d+: customer-\d+ → audit \d+(, )?){3}", text), text
            assert app.selection.topic == "orders"  # reading moves no lane

    async def test_wrong_input_names_the_error_and_changes_nothing(self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            before = await app.settle()
            await pilot.press("k")
            app.screen.query_one("#field-broker", Input).value = "two"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, ActionForm)
            assert notes[-1] == ("INVALID_ARGUMENT", "broker must be an integer, not 'two'")
            await pilot.press("escape")
            after = await app.settle()
            assert after.view.brokers == before.view.brokers

    async def test_a_kafka_error_is_shown_with_its_name(self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            await pilot.press("c")
            app.screen.query_one("#field-replication_factor", Input).value = "5"
            await pilot.press("ctrl+s")
            await pilot.pause()  # the form hands its action over in a callback
            frame = await app.settle(step_ms=500)
            await pilot.pause()
            assert frame.view.topic("orders") is None
            assert notes[-1][0].startswith("INVALID_REPLICATION_FACTOR")


class TestClockAndScreens:
    async def test_pause_and_step_keys_drive_virtual_time(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            start = (await app.settle()).clock
            assert start.paused
            await pilot.press("full_stop")
            stepped = (await app.settle()).clock
            assert stepped.now_ms == start.now_ms + 100
            await pilot.press("plus")
            assert (await app.settle()).clock.speed == 2.0
            await pilot.press("space")
            assert not (await app.settle()).clock.paused
            theme = app.theme
            await pilot.press("T")
            assert app.theme != theme

    async def test_number_keys_switch_screens_and_help_opens(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            for key, mode in zip("2345671", ("replication", "groups", "zookeeper", "events", "records",
                                             "throughput", "dashboard"), strict=True):
                await pilot.press(key)
                await app.settle()
                assert app.current_mode == mode
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)

    async def test_the_lanes_legend_explains_transaction_glyphs_when_they_show_and_help_lists_them_all(
            self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            await pilot.pause()
            box = app.screen.query_one("#lanes-box")
            assert box.border_subtitle == LEGEND
            await transactions(app)
            await pilot.pause()
            assert box.border_subtitle == TXN_LEGEND
            for glyph in ("◆", "░", "▓", "L LSO"):
                assert glyph in TXN_LEGEND
            await pilot.press("question_mark")
            assert app.screen.query_one("#help-lanes", Static) is not None
            explained = dict(LANE_GLYPHS)
            assert all(glyph in explained for glyph in ("◆", "░", "▓", "L", "█", "▒", "H", "E"))

    async def test_records_screen_reads_the_chosen_replica(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            app.select(partition=1)
            await pilot.press("6")
            page = (await app.settle()).records
            partition = app.frame.view.partition("orders", 1)
            assert page is not None and page.broker_id == partition.leader
            assert [row.offset for row in page.rows] == list(range(partition.log_end_offset))
            await pilot.press("b")
            other = (await app.settle()).records
            assert other is not None and other.broker_id != partition.leader
            assert [row.value for row in other.rows] == [row.value for row in page.rows]


class TestPersistence:
    async def test_quitting_closes_cleanly_and_the_next_start_shows_the_same_cluster(self, tmp_path: Path) -> None:
        first = KafkaLabApp(EngineBridge.open(tmp_path / "data", fresh=True, paused=True))
        async with first.run_test(size=SIZE) as pilot:
            await populate(first)
            before = first.frame.view
            await pilot.press("q")
            await pilot.pause(0.5)
        assert all((tmp_path / "data" / f"broker-{b}" / ".kafka_cleanshutdown").exists() for b in (1, 2, 3))
        second = KafkaLabApp(EngineBridge.open(tmp_path / "data", paused=True))
        async with second.run_test(size=SIZE):
            after = (await second.settle(step_ms=1000)).view
            for name in ("orders", "payments", "audit"):
                assert [p.log_end_offset for p in after.topic(name).partitions] == \
                       [p.log_end_offset for p in before.topic(name).partitions]


async def test_start_up_is_frozen_and_full_collections_rarer_from_the_first_frame_until_exit(
        make_app: MakeApp) -> None:
    before = gc.get_threshold()
    app = make_app()
    async with app.run_test() as pilot:
        await app.settle()
        await pilot.pause()
        assert app.frame is not None and gc.get_freeze_count() > 0
        assert gc.get_threshold() == (before[0], before[1], FULL_PASS_EVERY)
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before


async def test_start_up_runs_without_the_collector_until_the_first_frame(make_app: MakeApp) -> None:
    with collector_paused():
        app = make_app()
        assert not gc.isenabled()
        async with app.run_test() as pilot:
            await app.settle()
            await pilot.pause()
            assert app.frame is not None and gc.isenabled()
    assert gc.isenabled()


def test_a_tui_whose_engine_does_not_open_leaves_the_collector_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    collecting: list[bool] = []

    def refuse(*args: object, **kwargs: object) -> EngineBridge:
        collecting.append(gc.isenabled())
        raise KafkaError(Errors.KAFKA_STORAGE_ERROR, "no disk")

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))  # lesson progress stays out of the real home
    monkeypatch.setattr(EngineBridge, "open", refuse)
    assert run_tui(tmp_path / "data", None, False) == 2
    assert collecting == [False] and gc.isenabled()
    assert capsys.readouterr().err == "kafkalab: KAFKA_STORAGE_ERROR: no disk\n"
