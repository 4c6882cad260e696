"""Containers that draw nothing but their background, as one blank strip reused for every line and repaint.

Textual's compositor renders every visible widget's whole region, containers included,
before it keeps the front-most piece of each line: the screen's 48 lines and the rows and
groups inside it went through the styles cache again on every full repaint (a resize, a
screen switch, a theme switch), one new strip per line, each cut at every widget edge of
its line. A backdrop's line is a blank in its background colour, the same object every
time, so Textual's own per-strip caches (filters, the compositor's cuts) answer for it.
"""

from __future__ import annotations

from rich.style import Style
from textual.containers import Horizontal, Vertical
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget


class Backdrop(Widget):
    """A mixin for containers without content, border or effects: their lines are their background.

    It comes after the Textual class it draws for (``class Row(Horizontal, Backdrop)``): Textual takes a
    widget's default CSS and type selectors from its first base only.
    """

    def render_lines(self, crop: Region) -> list[Strip]:
        styles = self.styles
        if (any(edge for edge, _ in styles.border) or any(edge for edge, _ in styles.outline) or styles.tint.a
                or (styles.has_rule("hatch") and styles.hatch != "none") or self.opacity != 1.0
                or (isinstance(self, Screen) and styles.background.a < 1 and self.app.screen_stack[:1] != [self])):
            # Textual's path draws these; a screen over another that shows through blends it in (``Screen.render``).
            return super().render_lines(crop)
        base, background = self.background_colors
        # What Textual's styles cache draws for an empty line: blanks on the background over the parent's.
        strip = Strip.blank(crop.width, Style(bgcolor=(base + background).rich_color))
        for line_filter in self.get_line_filters():
            strip = strip.apply_filter(line_filter, background)
        return [strip] * crop.height


class Row(Horizontal, Backdrop):
    """Textual's ``Horizontal``, drawn as a backdrop."""


class Column(Vertical, Backdrop):
    """Textual's ``Vertical``, drawn as a backdrop."""
