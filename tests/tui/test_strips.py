"""A line of appended pieces becomes the strip Rich's own rendering of the Text gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from kafkalab.tui.widgets.strips import appended_segments, text_strip

STYLES = st.sampled_from(["", "bold", "dim", "bold red", Style(color="#e6194b", italic=True), Style(bgcolor="blue")])
LINE_STYLE = Style(color="#e0e0e0", bgcolor="#1e1e1e")


def rich_strip(text: Text, console: Console, width: int) -> Strip:
    """The strip by Rich's general rendering: the Text's segments with the line style under each."""
    segments = [segment for segment in text.render(console) if segment.text != "\n"]
    return Strip(segments).crop_extend(0, width, LINE_STYLE).apply_style(LINE_STYLE)


def cells(strip: Strip) -> list[tuple[str, Style | None]]:
    return [(char, segment.style) for segment in strip for char in segment.text]


@given(pieces=st.lists(st.tuples(st.text(alphabet="ab ·▶│\n", max_size=6), STYLES), max_size=8),
       width=st.integers(min_value=0, max_value=40))
def test_appended_pieces_draw_what_rich_draws(pieces: list[tuple[str, str | Style]], width: int) -> None:
    console = Console(width=200)
    text = Text()
    for piece, style in pieces:
        text.append(piece, style)
    assert appended_segments(text, console, LINE_STYLE) is not None
    assert cells(text_strip(text, console, width, LINE_STYLE)) == cells(rich_strip(text, console, width))


def test_a_text_with_a_base_style_or_nested_spans_goes_through_rich() -> None:
    console = Console(width=200)
    based = Text("abc", style="bold")
    nested = Text("abcdef")
    nested.stylize("bold", 0, 4)
    nested.stylize("red", 2, 6)
    for text in (based, nested):
        assert appended_segments(text, console, LINE_STYLE) is None
        assert cells(text_strip(text, console, 10, LINE_STYLE)) == cells(rich_strip(text, console, 10))
