"""One card per broker: up, down or cut off from ZooKeeper, controller, what it leads, follows and stores."""

from __future__ import annotations

from rich.text import Text
from textual.containers import HorizontalGroup
from textual.widgets import Static

from kafkalab.views import BrokerView


def human_bytes(size: int) -> str:
    """``1536`` -> ``1.5 KiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def card_text(broker: BrokerView) -> Text:
    """The lines of one broker's card."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if broker.state == "not running":
        text.append("✗ DOWN", "bold red")
        text.append("\nits logs stay on disk until it restarts\n\n", "dim")
        return text
    elif not broker.zk_link_up:
        text.append("⚡ cut off from ZooKeeper", "bold yellow")
    elif not broker.registered:
        text.append(f"● {broker.state}, not registered", "bold yellow")
    else:
        text.append(f"● {broker.state}", "bold green")
    text.append(f"\nleads {broker.leader_count} · follows {broker.follower_count}")
    text.append(f"\n{human_bytes(broker.bytes_on_disk)} on disk · {broker.records_in:,} in")
    groups = broker.coordinated_groups
    text.append("\ncoordinates " + (", ".join(groups) if groups else "no group"), "dim" if not groups else "")
    return text


class BrokerCards(HorizontalGroup):
    """A row of broker cards, updated in place when a broker's view changes."""

    DEFAULT_CSS = """
    BrokerCards { height: auto; }
    BrokerCards > .broker-card { width: 1fr; height: 6; border: round $primary; padding: 0 1; }
    BrokerCards > .broker-card.-controller { border: double $accent; }
    BrokerCards > .broker-card.-down { border: round $error; color: $text-muted; }
    BrokerCards > .broker-card.-cut-off { border: round $warning; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._cards: dict[int, Static] = {}
        self._shown: dict[int, BrokerView] = {}

    def show(self, brokers: tuple[BrokerView, ...]) -> None:
        """Update every card whose broker changed (a cluster's brokers never go away, so cards are only added)."""
        new = [Static(classes="broker-card") for b in brokers if b.broker_id not in self._cards]
        if new:
            self.mount_all(new)
            fresh = iter(new)
            for broker in brokers:
                if broker.broker_id not in self._cards:
                    self._cards[broker.broker_id] = next(fresh)
        for broker in brokers:
            if self._shown.get(broker.broker_id) == broker:
                continue
            self._shown[broker.broker_id] = broker
            card = self._cards[broker.broker_id]
            card.border_title = f"broker {broker.broker_id}" + (" ★ controller" if broker.is_controller else "")
            card.set_class(broker.is_controller, "-controller")
            card.set_class(broker.state == "not running", "-down")
            card.set_class(broker.state != "not running" and not broker.zk_link_up, "-cut-off")
            card.update(card_text(broker), layout=False)  # cards have a fixed size
