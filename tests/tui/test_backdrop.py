"""A backdrop draws the lines Textual would draw for an empty container, as one strip kept across repaints."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from kafkalab.tui.widgets.backdrop import Backdrop, Column, Row


class _BackdropScreen(Screen[None], Backdrop):
    def compose(self) -> ComposeResult:
        with Row(id="row"):
            yield Static("left", id="left")
            with Column(id="framed"):
                yield Static("right")


class _App(App[None]):
    CSS = """
    #row { height: 6; background: $primary 40%; }
    #left { width: 10; }
    #framed { border: round $accent; }
    """

    def get_default_screen(self) -> Screen[None]:
        return _BackdropScreen()


def textual_lines(widget: Widget) -> list[list[object]]:
    """The widget's lines by Textual's own path (its styles cache), as segments."""
    widget.refresh()
    return [list(strip) for strip in Widget.render_lines(widget, widget.size.region)]


async def test_a_backdrop_draws_what_textual_draws_and_the_same_strip_on_every_repaint() -> None:
    app = _App()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        # Laid out as the Textual container it draws for: side by side.
        assert app.screen.query_one("#left").region.right <= app.screen.query_one("#framed").region.x
        for widget in (app.screen, app.screen.query_one("#row")):
            drawn = widget.render_lines(widget.size.region)
            assert [list(strip) for strip in drawn] == textual_lines(widget), widget
            widget.refresh()
            # The same object again: Textual's per-strip caches (filters, the compositor's cuts) answer for it.
            assert all(again is drawn[0] for again in widget.render_lines(widget.size.region))


async def test_a_backdrop_with_a_border_or_a_new_theme_is_drawn_by_textual() -> None:
    app = _App()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        framed = app.screen.query_one("#framed")
        assert [list(strip) for strip in framed.render_lines(framed.size.region)] == textual_lines(framed)
        row = app.screen.query_one("#row")
        before = row.render_lines(row.size.region)[0]
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        after = row.render_lines(row.size.region)
        assert list(after[0]) != list(before)
        assert [list(strip) for strip in after] == textual_lines(row)


async def test_a_backdrop_is_drawn_again_only_after_a_refresh_such_as_its_parents_new_background() -> None:
    app = _App()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        row = app.screen.query_one("#row")
        before = row.render_lines(row.size.region)
        # Nothing refreshed it: the lines of its last draw.
        assert all(again is before[0] for again in row.render_lines(row.size.region))
        # The row's background is translucent: it is drawn over the screen's, whose change refreshes the row.
        app.screen.styles.background = "red"
        await pilot.pause()
        after = row.render_lines(row.size.region)
        assert list(after[0]) != list(before[0])
        assert [list(strip) for strip in after] == textual_lines(row)
