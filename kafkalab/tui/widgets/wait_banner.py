"""The line under the clock that counts down what the cluster is waiting for, so a long wait never looks frozen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kafkalab.views import ClusterView, Countdown


def remaining(ms: float) -> str:
    """Time left, as precise as it needs to be: ``2.3 s``, ``12 s``, ``4 m 27 s``, ``now``."""
    if ms <= 0:
        return "now"
    if ms < 10_000:
        return f"{ms / 1000:.1f} s"
    seconds = round(ms / 1000)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} m {seconds % 60:02d} s"


def countdown_text(countdowns: tuple[Countdown, ...], now_ms: float) -> Text:
    """Every countdown, soonest first: what happens, in how long, and the setting that decides it."""
    text = Text("⏳ ", no_wrap=True, overflow="ellipsis")
    for index, countdown in enumerate(countdowns):
        if index:
            text.append("  ·  ", "dim")
        text.append(f"{countdown.what} in ")
        text.append(remaining(countdown.due_ms - now_ms), "bold")
        text.append(f" ({countdown.setting})", "dim")
    return text


class WaitBanner(Static):
    """What the cluster waits for and how long it still takes, computed from its timers; hidden while it waits
    for nothing."""

    DEFAULT_CSS = """
    WaitBanner { height: 1; padding: 0 1; background: $warning 15%; display: none; }
    """

    def __init__(self) -> None:
        super().__init__(id="wait-banner")
        self._shown: Text | None = None

    def show(self, view: ClusterView) -> None:
        """Count down ``view``'s waits (hidden when there are none)."""
        text = countdown_text(view.countdowns, view.time_ms) if view.countdowns else None
        if text == self._shown:
            return
        self._shown = text
        self.display = text is not None
        if text is not None:
            self.update(text, layout=False)  # one line whatever it says
