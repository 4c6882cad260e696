"""A KeptLines widget draws what Textual draws, and draws again only the lines whose key changed."""

from __future__ import annotations

from collections.abc import Hashable

import pytest
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from kafkalab.tui.widgets.kept_lines import KeptLines


class _Lines(KeptLines):
    DEFAULT_CSS = "_Lines { border: round $accent; padding: 1 2; height: 8; background: $surface; }"

    def __init__(self) -> None:
        super().__init__()
        self.texts = ["one", "two", "three", "four"]
        self.drawn: list[int] = []

    def line_key(self, y: int) -> Hashable:
        return self.texts[y] if y < len(self.texts) else None

    def render_line(self, y: int) -> Strip:
        self.drawn.append(y)
        text = self.texts[y] if y < len(self.texts) else ""
        return Strip([Segment(text, self.rich_style)]).extend_cell_length(self.content_region.width, self.rich_style)


class _Short(_Lines):
    """Lines narrower than the content, as a widget leaving room for a scrollbar draws them."""

    DEFAULT_CSS = "_Short { border: round $accent; padding: 0 1; height: 6; background: $surface; }"

    def render_line(self, y: int) -> Strip:
        self.drawn.append(y)
        return Strip([Segment(self.texts[y] if y < len(self.texts) else "", self.rich_style)])


class _App(App[None]):
    def __init__(self, widget: type[_Lines] = _Lines, css: str = "") -> None:
        self.CSS = css
        super().__init__()
        self.widget_type = widget

    def compose(self) -> ComposeResult:
        yield self.widget_type()


def textual_lines(widget: Widget) -> list[list[Segment]]:
    """The widget's lines by Textual's own path (its styles cache), as segments."""
    widget.refresh()
    return [list(strip) for strip in Widget.render_lines(widget, widget.outer_size.region)]


async def test_a_full_repaint_returns_the_kept_strips_and_a_changed_line_is_drawn_again() -> None:
    app = _App()
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        widget = app.query_one(_Lines)
        region = widget.outer_size.region
        first = widget.render_lines(region)
        assert [list(strip) for strip in first] == textual_lines(widget)
        widget.drawn.clear()
        widget.refresh()
        again = widget.render_lines(region)
        assert all(new is old for new, old in zip(again, first, strict=True))
        assert widget.drawn == []
        widget.texts[1] = "TWO"
        widget.refresh(Region(0, 1, region.width, 1))
        changed = widget.render_lines(region)
        # Border and padding take the widget's lines 0 and 1: content line 1 is line 3.
        assert widget.drawn == [1]
        assert [index for index, (new, old) in enumerate(zip(changed, first, strict=True)) if new is not old] == [3]
        assert "TWO" in changed[3].text
        assert [list(strip) for strip in changed] == textual_lines(widget)


async def test_a_new_title_size_or_theme_draws_the_lines_again() -> None:
    app = _App()
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        widget = app.query_one(_Lines)
        first = widget.render_lines(widget.outer_size.region)
        widget.border_title = "title"
        titled = widget.render_lines(widget.outer_size.region)
        assert "title" in titled[0].text and titled[1:] == first[1:]
        await pilot.resize_terminal(24, 10)
        await pilot.pause()
        narrower = widget.render_lines(widget.outer_size.region)
        assert narrower[3].cell_length == 24 and [list(strip) for strip in narrower] == textual_lines(widget)
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        themed = widget.render_lines(widget.outer_size.region)
        assert all(list(new) != list(old) for new, old in zip(themed, narrower, strict=True))
        assert [list(strip) for strip in themed] == textual_lines(widget)


async def test_only_the_lines_a_refresh_names_are_asked_for_their_keys() -> None:
    app = _App()
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        widget = app.query_one(_Lines)
        asked: list[int] = []
        line_key = widget.line_key
        widget.line_key = lambda y: asked.append(y) or line_key(y)  # type: ignore[method-assign]
        region = widget.outer_size.region
        first = widget.render_lines(region)
        # Nothing refreshed since the last draw: the same strips, no key asked.
        asked.clear()
        assert all(new is old for new, old in zip(widget.render_lines(region), first, strict=True)) and asked == []
        widget.refresh(Region(0, 2, region.width, 1))
        widget.render_lines(region)
        assert asked == [2]
        asked.clear()
        widget.refresh()
        widget.render_lines(region)
        assert asked == [0, 1, 2, 3]


@pytest.mark.parametrize(("widget", "css"), [
    (_Lines, ""),
    (_Short, ""),
    (_Short, "Screen { background: $primary 30%; } _Short { background: $surface 60%; }"),
    (_Lines, "_Lines { tint: red 20%; }"),
    (_Lines, "_Lines { text-opacity: 50%; }"),
    (_Lines, "_Lines { outline: heavy $error; }"),
])
async def test_a_changed_line_is_the_line_textual_draws(widget: type[_Lines], css: str) -> None:
    # Set between the border and padding of a kept line where nothing else reaches into the content; drawn by
    # Textual where an effect does: the same line either way.
    app = _App(widget, css)
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        lines = app.query_one(widget)
        region = lines.outer_size.region
        lines.render_lines(region)
        for y, text in ((0, "ONE"), (3, "the fourth line")):
            lines.texts[y] = text
            lines.refresh(Region(0, y, region.width, 1))
            changed = lines.render_lines(region)
            assert text in "".join(strip.text for strip in changed)
            assert [list(strip) for strip in changed] == textual_lines(lines)


async def test_kept_lines_over_a_parent_whose_background_changes_are_drawn_again() -> None:
    app = _App(_Short, "_Short { background: $surface 60%; }")
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        lines = app.query_one(_Short)
        region = lines.outer_size.region
        before = lines.render_lines(region)
        app.screen.styles.background = "red"
        await pilot.pause()
        after = lines.render_lines(region)
        assert all(list(new) != list(old) for new, old in zip(after, before, strict=True))
        assert [list(strip) for strip in after] == textual_lines(lines)


class _Scrolling(ScrollView, KeptLines):
    DEFAULT_CSS = "_Scrolling { border: round $accent; padding: 0 1; height: 6; scrollbar-gutter: stable; }"

    def on_mount(self) -> None:
        self.virtual_size = Size(10, 40)


async def test_the_line_width_is_the_scrollable_contents_width() -> None:
    for widget in (_Lines, _Short, _Scrolling):
        app = _App(widget)  # type: ignore[arg-type]
        async with app.run_test(size=(30, 10)) as pilot:
            await pilot.pause()
            lines = app.query_one(widget)
            assert lines.line_width == lines.scrollable_content_region.width > 0
