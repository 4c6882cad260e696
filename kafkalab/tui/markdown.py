"""Markdown for lessons and scenario notes, drawn with Rich.

Rich's Markdown and the markdown-it parser under it take about 30 ms to import, a tenth of
the TUI's own start-up; only a lesson or a played scenario has Markdown to show, so they are
imported the first time one does.
"""

from __future__ import annotations

from rich.console import RenderableType


def markdown(text: str) -> RenderableType:
    """``text`` as Rich Markdown."""
    from rich.markdown import Markdown

    return Markdown(text)
