"""One card per broker: up, down or cut off from ZooKeeper, controller, what it leads, follows and stores.

Each line of a card has a long and a short wording; a card takes the longest that fits its
width and never wraps, so a word is never split across lines on a small terminal or with
many brokers.
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.text import Text
from textual import events
from textual.containers import HorizontalGroup
from textual.geometry import Region
from textual.strip import Strip

from kafkalab.tui.widgets.backdrop import Backdrop
from kafkalab.tui.widgets.kept_lines import KeptLines
from kafkalab.tui.widgets.strips import ellipsis_strip
from kafkalab.views import BrokerView

#: A card line: its wordings, longest first, and its style.
Line = tuple[tuple[str, ...], str]


def human_bytes(size: int) -> str:
    """``1536`` -> ``1.5 KiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def card_lines(broker: BrokerView) -> list[Line]:
    """The lines of one broker's card, each in its wordings from longest to shortest."""
    if broker.state == "not running":
        return [(("✗ DOWN",), "bold red"), (("its logs stay on disk until it restarts", "logs kept on disk"), "dim")]
    if not broker.zk_link_up:
        state: Line = (("⚡ cut off from ZooKeeper", "⚡ cut off from ZK"), "bold yellow")
    elif not broker.registered:
        state = ((f"● {broker.state}, not registered", "● not registered"), "bold yellow")
    else:
        state = ((f"● {broker.state}",), "bold green")
    leads, follows = broker.leader_count, broker.follower_count
    size, records = human_bytes(broker.bytes_on_disk), f"{broker.records_in:,}"
    groups = ", ".join(broker.coordinated_groups)
    return [state,
            ((f"leads {leads} · follows {follows}", f"leads {leads} · fol. {follows}"), ""),
            ((f"{size} on disk · {records} in", f"{size} · {records} in"), ""),
            ((f"coordinates {groups}", f"coord. {groups}"), "") if groups else (("coordinates no group", "no group"),
                                                                                 "dim")]


def card_line(line: Line, width: int) -> Text:
    """A card line for a card ``width`` cells wide inside: the longest wording that fits."""
    wordings, style = line
    # A span rather than the text's base style: drawing a line (``Text.render``) keeps spans only.
    return Text().append(next((wording for wording in wordings if len(wording) <= width), wordings[-1]), style)


def card_title(broker: BrokerView, width: int) -> str:
    """``broker 1 ★ controller``, or ``broker 1 ★`` where that does not fit on the card's top border."""
    title = f"broker {broker.broker_id}"
    if broker.is_controller:
        # The top border keeps a corner, a line and a blank on each side of its title.
        title += " ★ controller" if len(title) + 13 <= width - 6 else " ★"
    return title


class BrokerCard(KeptLines):
    """One broker's card, worded for its width; a new view of its broker redraws only the lines that changed."""

    def __init__(self, broker: BrokerView) -> None:
        super().__init__(classes="broker-card")
        self.broker = broker
        self._lines = card_lines(broker)

    def show(self, broker: BrokerView) -> None:
        """Draw ``broker`` (cards have a fixed size: no relayout)."""
        self.broker = broker
        down = broker.state == "not running"
        # One batch: the styles are worked out again at most once, and only when a class changed.
        self.update_classes({"-controller": broker.is_controller, "-down": down,
                             "-cut-off": not down and not broker.zk_link_up})
        self._retitle()
        old, self._lines = self._lines, card_lines(broker)
        width = self.line_width
        for y in range(max(len(old), len(self._lines))):
            if old[y:y + 1] != self._lines[y:y + 1]:
                self.refresh(Region(0, y, width, 1))

    def _retitle(self) -> None:
        title = card_title(self.broker, self.line_width)
        if self.border_title != title:
            self.border_title = title

    def on_resize(self, event: events.Resize) -> None:
        self._retitle()

    def line_key(self, y: int) -> Hashable:
        # Line by line (``KeptLines``): a frame usually moves one line of a card, its bytes and records.
        return self._lines[y] if y < len(self._lines) else None

    def render_line(self, y: int) -> Strip:
        width = self.line_width
        line = self._lines[y] if y < len(self._lines) else None
        text = Text() if line is None else card_line(line, width)
        return ellipsis_strip(text, self.app.console, width, self.line_style())


class BrokerCards(HorizontalGroup, Backdrop):
    """A row of broker cards, updated in place when a broker's view changes."""

    DEFAULT_CSS = """
    BrokerCards { height: auto; }
    BrokerCards > .broker-card {
        width: 1fr; height: 6; border: round $primary; padding: 0 1;
    }
    BrokerCards > .broker-card.-controller { border: double $accent; }
    BrokerCards > .broker-card.-down { border: round $error; color: $text-muted; }
    BrokerCards > .broker-card.-cut-off { border: round $warning; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._cards: dict[int, BrokerCard] = {}

    def show(self, brokers: tuple[BrokerView, ...]) -> None:
        """Update every card whose broker changed (a cluster's brokers never go away, so cards are only added)."""
        new = [BrokerCard(broker) for broker in brokers if broker.broker_id not in self._cards]
        if new:
            self._cards.update((card.broker.broker_id, card) for card in new)
            self.mount_all(new)
        for broker in brokers:
            card = self._cards[broker.broker_id]
            if card in new or card.broker != broker:
                card.show(broker)
