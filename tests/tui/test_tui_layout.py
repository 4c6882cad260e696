"""Layout on a small terminal (80x24) and a large one: nothing a newcomer needs is cut off, wrapped or covered."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from textual import events
from textual.widgets import Button, Input, Select
from tui_helpers import TEST_SCENARIO, fully_visible, lines, record_notes, screen_text

from kafkalab.actions.client_actions import Produce
from kafkalab.actions.cluster_actions import KillBroker
from kafkalab.scenarios.model import load_scenario
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.forms import ActionForm
from kafkalab.tui.lesson_control import LessonLibrary
from kafkalab.tui.screenshots import populate, start_lesson
from kafkalab.tui.widgets.broker_cards import BrokerCards
from kafkalab.tui.widgets.clock_bar import ClockBar
from kafkalab.tui.widgets.lab_footer import LabFooter
from kafkalab.tui.widgets.lesson_panel import LessonPanel
from kafkalab.tui.widgets.play_panel import PlayPanel

MakeApp = Callable[..., KafkaLabApp]
SMALL = (80, 24)
LARGE = (160, 45)


def assert_footer_keeps_whole_keys(app: KafkaLabApp) -> None:
    """Every key the footer shows is whole, and help, quit and the palette are among them."""
    footer = app.screen.query_one(LabFooter)
    assert fully_visible(app, footer)
    row = lines(app, "LabFooter")[0]
    keys = footer.keys
    assert keys and all(key.end <= footer.size.width for key in keys)
    for key in keys:
        assert row[key.start:key.end].strip() == f"{key.key_display} {key.description}".strip()
    assert {"app.help", "app.quit", "command_palette"} <= {key.action for key in keys}


def lane_rows(app: KafkaLabApp, partition: int) -> tuple[str, str, str]:
    """The header, cells and markers lines of one partition's lane on the dashboard."""
    shown = lines(app, "#lanes")
    header = next(n for n, line in enumerate(shown) if re.search(rf"\borders-{partition}\b", line))
    return shown[header], shown[header + 1], shown[header + 2]


class TestLanes:
    @pytest.mark.parametrize("size", [SMALL, LARGE])
    async def test_the_lanes_end_at_the_log_end_with_the_newest_records_and_the_markers(
            self, make_app: MakeApp, size: tuple[int, int]) -> None:
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await populate(app)
            # Far more records than any lane is wide: the lane must show the end of the log, not its start.
            app.submit(Produce("orders", key="customer-1", count=300, partition=0))
            await app.settle(step_ms=1000)
            await pilot.pause()
            _, cells, markers = lane_rows(app, 0)
            assert "█" in cells  # the newest records
            assert "H=E" in markers  # the high watermark and the log end, right after them
            assert cells.index("·") > cells.rindex("█")  # then the free slots the next records take


    async def test_new_records_repaint_their_lane_and_topic_row_and_leave_the_rest_as_drawn(
            self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=LARGE) as pilot:
            await populate(app)
            await pilot.pause()
            before = {partition: lane_rows(app, partition) for partition in range(6)}
            orders_row = next(line for line in screen_text(app).splitlines() if " orders " in line)
            # Only partition 4 gets records: the lanes repaint just that lane (same topic, same selection).
            app.bridge.run_on_engine(lambda cluster: cluster.produce("orders", 4, [(b"k", b"v")] * 20))
            await app.settle(step_ms=1000)
            await pilot.pause()
            shown = screen_text(app)
            assert lane_rows(app, 4) != before[4] and "H=E" in lane_rows(app, 4)[2]
            for partition in (0, 1, 2, 3, 5):
                assert lane_rows(app, partition) == before[partition], (partition, before[partition], lane_rows(app, partition))
            assert orders_row not in shown and f"{96 + 20:,}" in next(
                line for line in shown.splitlines() if " orders " in line)


class TestBrokerCards:
    @pytest.mark.parametrize("size", [SMALL, LARGE])
    async def test_cards_never_wrap_a_line_mid_word(self, make_app: MakeApp, size: tuple[int, int]) -> None:
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await populate(app)
            await pilot.pause()
            for card in app.screen.query(BrokerCards).first().children:
                rows = [line.strip("│║ ") for line in lines(app, card)[1:-1]]
                assert rows[0].startswith("● running"), rows
                assert rows[1].startswith("leads"), rows
                assert "KiB" in rows[2], rows
                assert rows[3].startswith("coordinates"), rows


class TestHeaderAndFooter:
    @pytest.mark.parametrize("size", [SMALL, LARGE])
    async def test_the_clock_bar_keeps_the_controller_and_the_help_key(self, make_app: MakeApp,
                                                                         size: tuple[int, int]) -> None:
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await populate(app)
            await pilot.pause()
            bar = lines(app, "ClockBar")[0]
            assert f"controller {app.frame.view.controller_id}" in bar.replace(": broker", "")
            assert "? help" in bar
            assert app.screen.query_one(ClockBar).size.width == size[0]

    @pytest.mark.parametrize("size", [SMALL, LARGE])
    async def test_the_footer_shows_only_whole_keys_and_always_help_quit_and_the_palette(
            self, make_app: MakeApp, size: tuple[int, int]) -> None:
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await populate(app)
            await pilot.pause()
            assert_footer_keeps_whole_keys(app)


    async def test_switching_screens_keeps_the_footer_as_built_until_its_keys_change(
            self, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
        app = make_app()
        async with app.run_test(size=LARGE) as pilot:
            await populate(app)
            await pilot.pause()
            footer = app.screen.query_one(LabFooter)
            keys = footer.keys
            await pilot.press("2")
            await pilot.press("1")
            await pilot.pause()
            # The same layout: nothing was laid out again for a screen shown again.
            assert footer.keys is keys
            # A binding that goes away (as lesson and play keys come and go) rebuilds the keys.
            assert "app.toggle_pause" in {key.action for key in keys}
            check_action = app.check_action
            monkeypatch.setattr(app, "check_action", lambda action, parameters: False if action == "toggle_pause"
                                else check_action(action, parameters))
            app.refresh_bindings()
            await pilot.pause()
            await pilot.pause()
            assert "app.toggle_pause" not in {key.action for key in app.screen.query_one(LabFooter).keys}
            assert_footer_keeps_whole_keys(app)


    async def test_a_click_on_a_footer_key_presses_it_and_hovering_names_what_it_does(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=LARGE) as pilot:
            await populate(app)
            await pilot.pause()
            footer = app.screen.query_one(LabFooter)
            key = next(key for key in footer.keys if key.action == "app.show_screen('replication')")
            await pilot.hover(LabFooter, offset=(key.start, 0))
            assert footer.tooltip == key.tooltip
            kill = next(key for key in footer.keys if key.action == "app.start_action('kill_broker')")
            await pilot.hover(LabFooter, offset=(kill.start, 0))
            assert footer.tooltip == KillBroker.summary
            await pilot.click(LabFooter, offset=(key.start, 0))
            await pilot.pause()
            assert app.screen.VIEW_TITLE == "replication"


class TestResizing:
    async def test_shrinking_the_terminal_folds_the_lesson_and_refits_the_footer(self, make_app: MakeApp,
                                                                                lessons: LessonLibrary) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=LARGE) as pilot:
            await start_lesson(app, "tui-failover")
            await pilot.pause()
            panel = app.screen.query_one(LessonPanel)
            assert panel.region.height > 30
            await pilot.resize_terminal(*SMALL)
            await app.settle()
            await pilot.pause()
            assert panel.region.height <= 5 and panel.region.width == SMALL[0]
            assert_footer_keeps_whole_keys(app)


class TestScreensFit:
    @pytest.mark.parametrize("key", list("12345678"))
    async def test_no_screen_scrolls_its_top_away(self, make_app: MakeApp, key: str) -> None:
        """An intro text at the top of a view is read from its first word: the view itself never scrolls."""
        app = make_app()
        async with app.run_test(size=SMALL) as pilot:
            await populate(app)
            await pilot.press(key)
            await app.settle()
            await pilot.pause()
            assert app.screen.max_scroll_y == 0 and app.screen.scroll_offset.y == 0

    async def test_the_help_and_the_lesson_browser_read_whole(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=SMALL) as pilot:
            await populate(app)
            await pilot.press("question_mark")
            assert "Brokers and the" in screen_text(app)  # what a key does, beside its palette title and id
            await pilot.press("escape", "l")
            assert "cluster of its own" in screen_text(app)  # the browser's first line, wrapped rather than cut


class TestLessonStrip:
    async def test_on_a_small_terminal_the_lesson_is_a_strip_that_t_unfolds(self, make_app: MakeApp,
                                                                           lessons: LessonLibrary) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=SMALL) as pilot:
            await start_lesson(app, "tui-failover")
            await pilot.pause()
            panel = app.screen.query_one(LessonPanel)
            assert panel.region.width == SMALL[0] and panel.region.height <= 5
            strip = " ".join(lines(app, "#lesson-strip"))
            assert "Write three payments" in strip and "Produce three records" in strip
            assert "t unfold" in panel.border_subtitle
            await pilot.press("t")
            await app.settle()
            await pilot.pause()
            assert panel.region.height > 10 and "Producers write to" in " ".join(lines(app, "#lesson-text"))
            await pilot.press("t")
            await app.settle()
            await pilot.pause()
            assert panel.region.height <= 5

    async def test_on_a_large_terminal_t_folds_the_lesson_to_a_strip(self, make_app: MakeApp,
                                                                    lessons: LessonLibrary) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=LARGE) as pilot:
            await start_lesson(app, "tui-failover")
            await pilot.pause()
            panel = app.screen.query_one(LessonPanel)
            assert panel.region.height > 30
            await pilot.press("t")
            await app.settle()
            await pilot.pause()
            assert panel.display and panel.region.height <= 5 and panel.region.width == LARGE[0]

    async def test_on_a_small_terminal_a_played_scenario_leaves_the_views_whole(self, make_app: MakeApp) -> None:
        app = make_app(scenario=load_scenario(TEST_SCENARIO))
        async with app.run_test(size=SMALL) as pilot:
            await app.settle()
            await pilot.pause()
            panel = app.screen.query_one(PlayPanel)
            assert not panel.display
            await pilot.press("t")
            await app.settle()
            await pilot.pause()
            assert panel.display and panel.region.width == 50


class TestForms:
    @pytest.mark.parametrize("size", [SMALL, LARGE])
    async def test_a_form_opens_at_its_top_with_its_buttons_in_reach(self, make_app: MakeApp,
                                                                    size: tuple[int, int]) -> None:
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await populate(app)
            await pilot.press("c")
            await pilot.pause()
            form = app.screen
            assert isinstance(form, ActionForm)
            assert fully_visible(app, form.query_one(".form-help"))
            assert fully_visible(app, form.query_one(".form-label"))
            assert fully_visible(app, form.query_one("#field-name"))
            assert form.focused is form.query_one("#field-name")
            assert all(fully_visible(app, button) for button in form.query(Button))

    @pytest.mark.parametrize("size", [SMALL, LARGE])
    async def test_a_form_leaves_the_lesson_readable(self, make_app: MakeApp, lessons: LessonLibrary,
                                                     size: tuple[int, int]) -> None:
        app = make_app(lessons=lessons)
        async with app.run_test(size=size) as pilot:
            await start_lesson(app, "tui-failover")
            await pilot.press("p")
            await pilot.pause()
            panel = app.screen_stack[-2].query_one(LessonPanel)
            body = app.screen.query_one("#form-body")
            assert panel.region and not body.region.overlaps(panel.region)
            assert "Write three payments" in screen_text(app)  # the step, drawn under the dialog
            assert all(fully_visible(app, button) for button in app.screen.query(Button))

    async def test_enter_on_a_closed_dropdown_submits_the_form(self, make_app: MakeApp) -> None:
        app = make_app()
        notes = record_notes(app)
        async with app.run_test(size=LARGE) as pilot:
            await populate(app)
            await pilot.press("g")
            await pilot.pause()
            app.screen.query_one("#field-strategy", Select).focus()
            await pilot.press("enter")
            await pilot.pause()
            assert not isinstance(app.screen, ActionForm)
            frame = await app.settle(step_ms=500)
            await pilot.pause()
            assert notes[-1][0] == "start_consumer: ok"
            assert frame.view.group("group-1") is not None

    async def test_typing_right_after_tab_goes_to_the_next_field(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=LARGE) as pilot:
            await populate(app)
            await pilot.press("c")
            await pilot.pause()
            form = app.screen
            # A busy machine: both keys are queued before any widget has handled the first.
            app.post_message(events.Key("tab", None))
            app.post_message(events.Key("9", "9"))
            await pilot.pause()
            assert form.query_one("#field-name", Input).value == "orders"
            assert form.focused is form.query_one("#field-partitions", Input)
            assert "9" in form.query_one("#field-partitions", Input).value
