"""Widgets that keep their finished lines, border and all, under a key of what each line shows.

A widget's ``refresh()`` empties Textual's styles cache, which then builds every line again
(border, padding, colours: a new strip each) and the compositor cuts each new strip at every
widget edge of its line, even where the widget drew the same thing as before. That is all a
full repaint is (a screen switch back, the terminal window uncovered, ``App.refresh``), and
most of what it cost. A ``KeptLines`` widget says what each of its lines shows
(``line_key``); a line whose key is unchanged is the strip drawn before, the same object, so
Textual's own per-strip caches (filters, the compositor's cuts) answer for it as well.

Only the lines a ``refresh`` named are asked for their key again (Textual's own contract
for its styles cache), and a widget nothing refreshed since its last draw returns that
draw's lines. A content line whose key changed is drawn by the widget and set between the
border and padding of a kept line of the same widget when no effect (tint, opacity, hatch,
outline) reaches into it: Textual's styles pass for one line (reading the widget's styles,
region and colours, walking its ancestors) cost more than drawing the line did.

The kept lines are forgotten when the widget's size, its column crop, its background, its
opacity or the app's line filters change, and when its styles do (a theme, a focus border:
``notify_style_update``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Self, cast

from rich.style import Style
from textual.color import Color
from textual.containers import Vertical
from textual.filter import LineFilter
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style as TextualStyle
from textual.widget import Widget


def without_effects(widget: Widget) -> bool:
    """True when Textual's styles pass adds nothing to the widget's lines but border, padding and background:
    no tint, text opacity, opacity, hatch or outline (``textual/_styles_cache.py``, ``render_line``)."""
    styles = widget.styles
    return not (styles.tint.a or styles.text_opacity != 1.0 or widget.opacity != 1.0
                or any(edge for edge, _ in styles.outline) or (styles.has_rule("hatch") and styles.hatch != "none"))


class KeptLines(Widget):
    """A mixin: Textual draws a line only when its ``line_key`` changed."""

    #: The lines (0 is the widget's top line, border included) a ``refresh`` named since the last draw; None:
    #: every line. A class default: Textual may refresh a widget before its ``__init__`` has run.
    _unsettled: set[int] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: What every kept line depends on, and each line of the widget with its key. Keys are compared, never
        #: hashed: a key holding a frozen view is equal to itself at once, but hashing walks all its fields.
        self._kept_for: Hashable = None
        self._kept: dict[int, tuple[Hashable, Strip]] = {}
        #: The widget's and its component classes' Rich styles, read while the kept lines stand (None: the widget's).
        self._kept_styles: dict[str | None, Style] = {}
        #: The widget's background and what a content line is filled out with (Textual's inner style), or None
        #: where effects keep content lines on Textual's path; worked out with the kept lines.
        self._background = Color(0, 0, 0)
        self._content_fill: Style | None = None
        #: The crop, size and line filters of the last draw, and the lines it returned.
        self._drawn_look: Hashable = None
        self._drawn_lines: list[Strip] = []

    @property
    def line_width(self) -> int:
        """How wide a content line is: ``scrollable_content_region.width`` (inside border, padding and a vertical
        scrollbar's room) worked out from the widget's own size, where Textual finds the widget on its screen first."""
        return self.outer_size.width - self.styles.gutter.width - self.scrollbar_size_vertical

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
        self._kept_for = None
        self._unsettled = None

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        # Textual's contract: a refresh names the regions (in content coordinates) whose lines may have changed,
        # or none for all of them. Only those lines' keys are asked again; the others are the strips kept.
        unsettled = self._unsettled
        if repaint and unsettled is not None:
            if regions:
                top, height = self.styles.gutter.top, self.outer_size.height
                for region in regions:
                    unsettled.update(range(max(0, region.y + top), min(height, region.bottom + top)))
            else:
                self._unsettled = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def render_lines(self, crop: Region) -> list[Strip]:
        # The compositor draws every widget on screen whenever anything on it changed (its crop is all the
        # changed regions' bounding box, and a screen's children clip to the whole screen), so a widget nothing
        # refreshed since its last draw returns that draw's lines as they were.
        size = self.outer_size
        filters = tuple(self.get_line_filters())
        look = (crop, size, filters)
        unsettled = self._unsettled
        kept = self._kept
        if unsettled is not None and look == self._drawn_look:
            if not unsettled:
                return list(self._drawn_lines)
            # The widget named the lines that changed. A new background or opacity would have refreshed it whole
            # (Textual refreshes the children of a node whose background or opacity changed): the kept lines stand.
        else:
            base_background, background = self.background_colors
            kept_for = (crop.column_span, size, base_background, background, self.opacity, filters)
            if kept_for != self._kept_for:
                kept.clear()
                self._kept_styles.clear()
                self._kept_for = kept_for
                self._background = background
                # Textual fills a short content line with its inner style (``StylesCache.render_line``).
                self._content_fill = (TextualStyle(background=base_background + background).rich_style
                                      if without_effects(self) and not self.BLANK else None)
        top, _, bottom, _ = self.styles.gutter
        content_end = size.height - bottom
        keys: list[Hashable] = []
        lines: list[Strip | None] = []
        for y in crop.line_range:
            line = kept.get(y)
            if line is not None and unsettled is not None and y not in unsettled:
                # Not refreshed since it was drawn: its key is what it was.
                keys.append(line[0])
                lines.append(line[1])
                continue
            if y < top:
                key: Hashable = self.border_title
            elif y >= content_end:
                key = self.border_subtitle
            else:
                key = self.line_key(y - top)
            keys.append(key)
            lines.append(line[1] if line is not None and line[0] == key else None)
        self._set_content_lines(crop, keys, lines, filters)
        # Draw the rest by Textual's path, a run of neighbours at a time.
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
        # Lines refreshed outside the crop (scrolled or clipped out of sight) are drawn again when they show.
        outside = set(kept) - set(crop.line_range) if unsettled is None else unsettled - set(crop.line_range)
        for y in outside:
            kept.pop(y, None)
        self._unsettled = set()
        self._drawn_look = look
        self._drawn_lines = cast("list[Strip]", lines)
        return list(self._drawn_lines)

    def _set_content_lines(self, crop: Region, keys: list[Hashable], lines: list[Strip | None],
                           filters: Sequence[LineFilter]) -> None:
        """Draw the content lines missing from ``lines`` between the border and padding of a kept content line.

        What Textual's styles pass makes of a content line without effects: the widget's line filled out to the
        content width in the inner style, padding and border either side, the line filters over all of it,
        segment by segment (``textual/_styles_cache.py``, ``render_line`` and ``render``). So the sides of any
        content line drawn that way are the sides of every other.
        """
        fill = self._content_fill
        width = self.outer_size.width
        if fill is None or self.hover_style.link_id or crop.column_span != (0, width):
            return  # effects, a link under the pointer (Textual restyles it) or a crop: Textual's path
        top, right, bottom, left = self.styles.gutter
        content_end = self.outer_size.height - bottom
        sides = next((strip for y, (_, strip) in self._kept.items() if top <= y < content_end), None)
        if sides is None:
            return
        content_width = width - left - right
        kept = self._kept
        for index, line in enumerate(lines):
            y = crop.y + index
            if line is not None or not top <= y < content_end:
                continue
            middle = self.render_line(y - top).adjust_cell_length(content_width, fill)
            for line_filter in filters:
                middle = middle.apply_filter(line_filter, self._background)
            strip = middle if content_width == width else Strip.join(
                [sides.crop(0, left), middle, sides.crop(left + content_width, width)])
            lines[index] = strip
            kept[y] = (keys[index], strip)


class Box(Vertical, KeptLines):
    """Textual's ``Vertical`` for a border around widgets: its lines change only with its size, titles and styles."""
