"""Lines drawn straight to strips (Textual's line API) for the widgets that redraw on every frame.

Textual's general path for a widget's ``render()`` turns a Rich ``Text`` into its own
``Content``, wraps it and cuts it into strips, all lines at once: for a one-line bar that was
most of what a frame's refresh cost. A widget that draws its lines here renders one line
at a time and can keep a line while what it shows is unchanged.
"""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip


def text_strip(text: Text | list[Segment], console: Console, width: int, style: Style) -> Strip:
    """A Rich Text (or ready segments) as one strip exactly ``width`` cells wide, on ``style``."""
    if isinstance(text, list):
        return Strip(text).crop_extend(0, width, style)
    segments = appended_segments(text, console, style)
    if segments is not None:
        return Strip(segments).crop_extend(0, width, style)
    segments = [segment for segment in text.render(console) if segment.text != "\n"]
    return Strip(segments).crop_extend(0, width, style).apply_style(style)


def appended_segments(text: Text, console: Console, style: Style) -> list[Segment] | None:
    """The segments of a Text made of appended pieces (no base style, spans in order, none overlapping), each on
    ``style``; None for any other Text.

    What ``Text.render`` and a style applied under each segment give for such a text, without Rich's general
    pass for nested spans: the lines of the clock bar, the broker cards and the lanes are such texts, drawn on
    every frame.
    """
    if text.style:
        return None
    plain, get_style = text.plain, console.get_style
    segments: list[Segment] = []
    position = 0
    for start, end, span_style in text.spans:
        if start < position:
            return None
        if start > position:
            segments.append(Segment(plain[position:start], style))
        if end > start:
            segments.append(Segment(plain[start:end], style + get_style(span_style, default=Style.null())))
            position = end
    if position < len(plain):
        segments.append(Segment(plain[position:], style))
    # ``text_strip`` drops the newline Rich ends a rendered line with.
    return [segment for segment in segments if segment.text != "\n"]


def ellipsis_strip(text: Text, console: Console, width: int, style: Style) -> Strip:
    """One line of ``text`` in ``width`` cells, ending in an ellipsis where it is longer (CSS ``text-overflow:
    ellipsis``)."""
    if text.cell_len > width:
        text = text.copy()
        text.truncate(width, overflow="ellipsis")
    return text_strip(text, console, width, style)
