"""Rows of sparklines, one per named series (a topic or a broker), with the latest rate beside each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.containers import HorizontalGroup, VerticalScroll
from textual.widgets import Label, Sparkline


class RateRow(HorizontalGroup):
    """One series: its name, a sparkline of the last minute, the newest value."""

    DEFAULT_CSS = """
    RateRow { height: 2; margin-bottom: 1; }
    RateRow > .rate-name { width: 24; text-style: bold; }
    RateRow > Sparkline { width: 1fr; height: 2; margin: 0 1; }
    RateRow > .rate-value { width: 16; text-align: right; }
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self._series_name = title

    def compose(self):
        yield Label(self._series_name, classes="rate-name")
        yield Sparkline([0.0], summary_function=max)
        yield Label("", classes="rate-value")

    def show(self, samples: Sequence[float]) -> None:
        self.query_one(Sparkline).data = list(samples)
        self.query_one(".rate-value", Label).update(f"{samples[-1]:,.0f} rec/s" if samples else "", layout=False)


class RateRows(VerticalScroll):
    """Sparkline rows keyed by series name; rows appear and disappear with their series."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, RateRow] = {}

    def show(self, series: Mapping[str, Sequence[float]]) -> None:
        """Draw every series (in the mapping's order)."""
        for name in [n for n in self._rows if n not in series]:
            self._rows.pop(name).remove()
        for name, samples in series.items():
            row = self._rows.get(name)
            if row is None:
                row = self._rows[name] = RateRow(name)
                self.mount(row)
                self.call_after_refresh(row.show, samples)
            else:
                row.show(samples)
