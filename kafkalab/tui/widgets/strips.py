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
    segments = [segment for segment in text.render(console) if segment.text != "\n"]
    return Strip(segments).crop_extend(0, width, style).apply_style(style)


def ellipsis_strip(text: Text, console: Console, width: int, style: Style) -> Strip:
    """One line of ``text`` in ``width`` cells, ending in an ellipsis where it is longer (CSS ``text-overflow:
    ellipsis``)."""
    if text.cell_len > width:
        text = text.copy()
        text.truncate(width, overflow="ellipsis")
    return text_strip(text, console, width, style)
