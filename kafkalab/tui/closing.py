"""What the screen shows while the app quits: the cluster closing cleanly, step by step in one sentence."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

#: What closing does, in the order the cluster does it (``Cluster.close``).
CLOSING_STEPS = ("Closing the cluster: flushing each broker's logs, writing its checkpoints and clean-shutdown "
                 "marker, closing the brokers and ZooKeeper ...")


class ClosingScreen(ModalScreen[None]):
    """Covers the views while the engine closes, so quitting never looks like a frozen screen."""

    def compose(self) -> ComposeResult:
        body = Static(CLOSING_STEPS, id="closing-body")
        body.border_title = "quitting"
        yield body
