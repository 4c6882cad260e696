"""Widgets that keep their finished lines, border and all, under a key of what each line shows.

A widget's ``refresh()`` empties Textual's styles cache, which then builds every line again
(border, padding, colours: a new strip each) and the compositor cuts each new strip at every
widget edge of its line, even where the widget drew the same thing as before. That is all a
full repaint is (a screen switch back, the terminal window uncovered, ``App.refresh``), and
most of what it cost. A ``KeptLines`` widget says what each of its lines shows
(``line_key``); a line whose key is unchanged is the strip drawn before, the same object, so
Textual's own per-strip caches (filters, the compositor's cuts) answer for it as well. Only
lines whose key changed go through Textual's path.

The kept lines are forgotten when the widget's size, its column crop, its background or the
app's line filters change, and when its styles do (a theme, a focus border:
``notify_style_update``).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, cast

from rich.style import Style
from textual.containers import Vertical
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget


class KeptLines(Widget):
    """A mixin: Textual draws a line only when its ``line_key`` changed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: What every kept line depends on, and each line of the widget with its key. Keys are compared, never
        #: hashed: a key holding a frozen view is equal to itself at once, but hashing walks all its fields.
        self._kept_for: Hashable = None
        self._kept: dict[int, tuple[Hashable, Strip]] = {}
        #: The widget's and its component classes' Rich styles, read while the kept lines stand (None: the widget's).
        self._kept_styles: dict[str | None, Style] = {}

    def line_key(self, y: int) -> Hashable:
        """Everything content line ``y`` (0 is the first line inside border and padding) shows, but the widget's
        size and styles: equal keys must draw equal lines."""
        return None

    def line_style(self) -> Style:
        """``rich_style``, kept with the lines: Textual works it out on every read by walking every ancestor."""
        style = self._kept_styles.get(None)
        if style is None:
            style = self._kept_styles[None] = self.rich_style
        return style

    def component_style(self, name: str) -> Style:
        """``get_component_rich_style(name)``, kept with the lines: Textual empties its own cache on every
        ``refresh()``, and a widget drawing a few changed lines a frame refreshes every frame."""
        style = self._kept_styles.get(name)
        if style is None:
            style = self._kept_styles[name] = self.get_component_rich_style(name)
        return style

    def notify_style_update(self) -> None:
        # A new theme or stylesheet, a pseudo-class (focus): every kept line may be in the old colours.
        super().notify_style_update()
        self._kept.clear()
        self._kept_styles.clear()

    def render_lines(self, crop: Region) -> list[Strip]:
        size = self.outer_size
        kept_for = (crop.column_span, size, self.background_colors, tuple(self.get_line_filters()))
        kept = self._kept
        if kept_for != self._kept_for:
            kept.clear()
            self._kept_styles.clear()
            self._kept_for = kept_for
        top, _, bottom, _ = self.styles.gutter
        content_end = size.height - bottom
        keys: list[Hashable] = []
        lines: list[Strip | None] = []
        for y in crop.line_range:
            if y < top:
                key: Hashable = self.border_title
            elif y >= content_end:
                key = self.border_subtitle
            else:
                key = self.line_key(y - top)
            keys.append(key)
            line = kept.get(y)
            lines.append(line[1] if line is not None and line[0] == key else None)
        # Draw the lines whose key changed by Textual's path, a run of neighbours at a time.
        start = 0
        while start < len(lines):
            if lines[start] is not None:
                start += 1
                continue
            end = start
            while end < len(lines) and lines[end] is None:
                end += 1
            drawn = super().render_lines(Region(crop.x, crop.y + start, crop.width, end - start))
            for index, strip in zip(range(start, end), drawn, strict=True):
                lines[index] = strip
                kept[crop.y + index] = (keys[index], strip)
            start = end
        return cast("list[Strip]", lines)


class Box(Vertical, KeptLines):
    """Textual's ``Vertical`` for a border around widgets: its lines change only with its size, titles and styles."""
