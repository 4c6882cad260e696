"""Text reads whole and as meant: explanations wrap rather than being cut, `code` looks like code, paths are real."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from rich.segment import Segment
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import OptionList
from tui_helpers import shown

from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.screens.lesson_browser import LessonBrowser, lesson_option
from kafkalab.tui.screenshots import lesson_key, lesson_library, populate, start_lesson

MakeApp = Callable[..., KafkaLabApp]
SMALL, LARGE = (80, 24), (160, 45)
DURABILITY = "Durability: acks, min.insync.replicas and unclean elections"


def segments(app: KafkaLabApp, selector: str) -> list[Segment]:
    widget = app.screen.query_one(selector, Widget)
    return [segment for strip in widget.render_lines(Region(0, 0, *widget.outer_size)) for segment in strip]


async def test_the_replication_explanation_wraps_on_a_small_terminal(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await populate(app)
        await pilot.press("2")
        await app.settle()
        await pilot.pause()
        assert shown(app, "#replication-summary").endswith("a follower that truncates after a failover loses only "
                                                           "uncommitted records")


@pytest.mark.parametrize("width", [78, 158])  # the browser's list at 80x24 and 160x45
def test_lesson_11s_title_is_whole_in_the_browser(tmp_path: Path, width: int) -> None:
    library = lesson_library(tmp_path)
    lesson = library.catalog.get("durability")
    assert lesson is not None and lesson.title == DURABILITY
    console = Console(width=width, record=True)
    console.print(lesson_option(11, lesson, library))
    # Every word, in order: a title too long for its column wraps there, beside the progress.
    assert re.search(".*".join(map(re.escape, DURABILITY.split())), " ".join(console.export_text().split()))


async def test_lesson_11s_title_is_whole_in_the_panel(make_app: MakeApp) -> None:
    for size, folded in ((SMALL, True), (LARGE, False)):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await start_lesson(app, "durability")
            await pilot.pause()
            panel = app.screen.query_one("#lesson-panel", Widget)
            assert panel.has_class("-strip") == folded
            # Folded, the strip's border names the lesson (80 columns hold it); unfolded, its first line does.
            assert DURABILITY in (panel.border_title if folded else shown(app, "#lesson-title"))


async def test_backticks_in_the_strip_and_the_hints_are_styled_as_code(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await start_lesson(app, "messages-and-topics")
        await pilot.pause()
        strip = segments(app, "#lesson-strip")
        text = "".join(segment.text for segment in strip)
        assert "▶ Create the topic greetings with 1 partition" in text and "`" not in text
        code = next(segment for segment in strip if segment.text == "greetings")
        before = next(segment for segment in strip if "Create the topic" in segment.text)
        assert code.style is not None and before.style is not None and code.style.bgcolor != before.style.bgcolor
        await lesson_key(app, pilot, "t")  # unfold: the hints show in the panel
        await lesson_key(app, pilot, "h")
        assert "Hint 1: Use the create_topic action." in shown(app, "#lesson-status")


async def test_the_records_screen_names_the_replicas_real_directory(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await populate(app)
        app.select(topic="orders", partition=2)
        await pilot.press("6")
        frame = await app.settle()
        await pilot.pause()
        partition = frame.view.partition("orders", 2)
        assert partition is not None
        directory = app.bridge.opened_dir / f"broker-{partition.leader}" / "orders-2"
        assert directory.is_dir()
        # A long path wraps where the terminal ends: compare without the line breaks.
        assert f"filesin{directory}/" in "".join(shown(app, "#records-summary").split())


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_the_lesson_browser_opens_scrolled_to_the_highlighted_lesson(make_app: MakeApp, tmp_path: Path,
                                                                            size: tuple[int, int]) -> None:
    app = make_app()
    library = lesson_library(tmp_path)
    last = library.catalog.lessons[-1]
    async with app.run_test(size=size) as pilot:
        await app.settle()
        app.push_screen(LessonBrowser(library, last.id))
        await pilot.pause()
        await pilot.pause()
        chosen = app.screen.query_one("#lesson-list", OptionList)
        assert chosen.highlighted == len(library.catalog.lessons) - 1
        # The highlighted row is on screen, not below the fold of the list.
        assert f"{len(library.catalog.lessons)}. {last.title}" in shown(app, "#lesson-list")
