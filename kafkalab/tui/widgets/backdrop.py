"""Containers that draw nothing but their background, as one blank strip reused for every line and repaint.

Textual's compositor renders every visible widget's whole region, containers included,
before it keeps the front-most piece of each line: the screen's 48 lines and the rows and
groups inside it went through the styles cache again on every full repaint (a resize, a
screen switch, a theme switch), one new strip per line, each cut at every widget edge of
its line. A backdrop's line is a blank in its background colour, the same object every
time, so Textual's own per-strip caches (filters, the compositor's cuts) answer for it, and a
backdrop nothing refreshed since its last draw returns that draw's lines without reading its
styles again: the compositor draws every widget on screen whenever anything on it changed.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Self

from rich.style import Style
from textual.containers import Horizontal, Vertical
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from kafkalab.tui.widgets.kept_lines import without_effects


class Backdrop(Widget):
    """A mixin for containers without content, border or effects: their lines are their background.

    It comes after the Textual class it draws for (``class Row(Horizontal, Backdrop)``): Textual takes a
    widget's default CSS and type selectors from its first base only.
    """

    #: True until the backdrop is drawn after its last ``refresh``. A class default: Textual may refresh a
    #: widget before its ``__init__`` has run.
    _stale = True
    #: The crop, size and line filters of the last draw, and its lines; None: drawn by Textual's path.
    _drawn: tuple[Hashable, list[Strip]] | None = None

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        # Whatever changes a backdrop's look refreshes it: its styles, its background and opacity or an
        # ancestor's (Textual refreshes the children of a node whose background or opacity changed).
        if repaint:
            self._stale = True
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._stale = True

    def render_lines(self, crop: Region) -> list[Strip]:
        # The compositor draws every widget on screen whenever anything on it changed: a backdrop nothing
        # refreshed since returns the lines it drew, without reading its styles and its ancestors' colours.
        filters = self.get_line_filters()
        look = (crop, self.outer_size, tuple(filters))
        drawn = self._drawn
        if not self._stale and drawn is not None and drawn[0] == look:
            return list(drawn[1])
        self._stale = False
        styles = self.styles
        if (any(edge for edge, _ in styles.border) or not without_effects(self)
                or (isinstance(self, Screen) and styles.background.a < 1 and self.app.screen_stack[:1] != [self])):
            # Textual's path draws these; a screen over another that shows through blends it in (``Screen.render``).
            self._drawn = None
            return super().render_lines(crop)
        base, background = self.background_colors
        # What Textual's styles cache draws for an empty line: blanks on the background over the parent's.
        strip = Strip.blank(crop.width, Style(bgcolor=(base + background).rich_color))
        for line_filter in filters:
            strip = strip.apply_filter(line_filter, background)
        lines = [strip] * crop.height
        self._drawn = (look, lines)
        return list(lines)


class Row(Horizontal, Backdrop):
    """Textual's ``Horizontal``, drawn as a backdrop."""


class Column(Vertical, Backdrop):
    """Textual's ``Vertical``, drawn as a backdrop."""
