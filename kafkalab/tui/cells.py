"""Drawing a log as a row of offset cells, with markers (start, HW, LEO, group offsets) under it.

One character per offset: a full block for a committed record, a shaded block for one
above the high watermark (written but not yet committed), a dot for a slot the next
record will take. Colours come from the record's key (the same key always has the same
colour, so a learner sees keys stick to partitions) or, on the replication screen, from
the leader epoch it was written in (so a truncated, rewritten tail stands out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text

from kafkalab.cluster.inspect import ABORTED, MARKER, NO_RECORD, NULL_KEY, OPEN, LogWindow

#: Mid-tone colours that read on dark and light backgrounds alike.
KEY_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#2fa8c4", "#f032e6", "#9a6324",
               "#469990", "#8a9a1b", "#c2185b", "#5c6bc0")
EPOCH_COLOURS = ("#4363d8", "#f58231", "#3cb44b", "#e6194b", "#911eb4", "#469990")
NULL_KEY_COLOUR = "#8c8c8c"
COMMITTED = "█"
UNCOMMITTED = "▒"
FREE = "·"
GAP = " "
#: A transaction's COMMIT or ABORT marker, a record of an aborted transaction, one of a transaction still open.
TXN_MARKER = "◆"
TXN_ABORTED = "░"
TXN_OPEN = "▓"
_TXN_GLYPHS = {MARKER: TXN_MARKER, ABORTED: TXN_ABORTED, OPEN: TXN_OPEN}


def key_colour(key: int, epoch: int) -> str:
    """A cell's colour by its record key."""
    return NULL_KEY_COLOUR if key == NULL_KEY else KEY_COLOURS[key % len(KEY_COLOURS)]


def epoch_colour(key: int, epoch: int) -> str:
    """A cell's colour by the leader epoch it was written in."""
    return NULL_KEY_COLOUR if epoch < 0 else EPOCH_COLOURS[epoch % len(EPOCH_COLOURS)]


@lru_cache(maxsize=256)
def _cell_style(base: Style, colour: str) -> Style:
    return base + Style(color=colour)


def draw_cells(window: LogWindow | None, first_offset: int, width: int, high_watermark: int,
               colour: Callable[[int, int], str], base: Style, free_style: Style) -> list[Segment]:
    """``width`` cells from ``first_offset`` on ``base``: records of ``window``, then free slots.

    Built as segments directly (one per run of equal cells): lanes are redrawn on every
    frame while records flow, and Rich Text would cost several times more.
    """
    keys = window.keys if window is not None else ()
    start = window.first_offset if window is not None else first_offset
    epochs = window.epochs if window is not None else ()
    kinds = window.kinds if window is not None else ()
    segments: list[Segment] = []
    run: list[str] = []
    run_style = free_style
    for column in range(width):
        offset = first_offset + column
        index = offset - start
        if not 0 <= index < len(keys):
            glyph, style = FREE, free_style
        elif keys[index] == NO_RECORD:
            glyph, style = GAP, base
        else:
            kind = kinds[index] if kinds else 0
            if kind == MARKER:
                glyph, style = TXN_MARKER, _cell_style(base, NULL_KEY_COLOUR)
            else:
                committed = offset < high_watermark
                glyph = (_TXN_GLYPHS[kind] if kind else COMMITTED) if committed else UNCOMMITTED
                style = _cell_style(base, colour(keys[index], epochs[index]))
        # Equal styles are mostly the same object (``_cell_style`` is cached): compare by identity first.
        if run and style is not run_style and style != run_style:
            segments.append(Segment("".join(run), run_style))
            run = []
        if not run:
            run_style = style
        run.append(glyph)
    if run:
        segments.append(Segment("".join(run), run_style))
    return segments


@dataclass(frozen=True)
class Marker:
    """A label under the cell of ``offset`` (``H`` for the high watermark ...)."""

    offset: int
    label: str
    style: Style


def draw_markers(first_offset: int, width: int, markers: Sequence[Marker]) -> Text:
    """A line with each marker's label starting under its offset.

    Markers at the same offset share one label (``H=E``: everything written is
    committed); a label that would overlap the previous one moves right. Built as the
    line's characters and one span per label: the lanes draw it on every frame.
    """
    at: dict[int, list[Marker]] = {}
    for marker in markers:
        if 0 <= marker.offset - first_offset < width:
            at.setdefault(marker.offset, []).append(marker)
    chars = [" "] * width
    spans: list[Span] = []
    taken = -1
    for offset in sorted(at):
        column = max(offset - first_offset, taken + 1)
        for index, marker in enumerate(at[offset]):
            label = ("=" if index else "") + marker.label
            end = min(column + len(label), width)
            if column < end:
                chars[column:end] = label[:end - column]
                spans.append(Span(column, end, marker.style))
            column += len(label)
        taken = column - 1
    return Text("".join(chars), no_wrap=True, overflow="crop", spans=spans)


def window_start(log_start: int, log_end: int, width: int, spare: int) -> int:
    """The first offset to draw so the log's end and ``spare`` free slots fit in ``width`` cells."""
    return max(log_start, log_end - max(1, width - spare))
