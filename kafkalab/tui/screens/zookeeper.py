"""The coordination tree: Kafka's znodes, ephemeral ones marked with the session that owns them.

In KRaft mode, where there is no ZooKeeper, key 4 shows the controller quorum instead
(``kafkalab/tui/screens/quorum.py``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from kafkalab.tui.frames import Frame, FrameRequest
from kafkalab.tui.screens.base import LabScreen
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.backdrop import Row
from kafkalab.tui.widgets.znode_tree import ZnodeTree
from kafkalab.views import ZnodeView

if TYPE_CHECKING:
    pass

ABOUT = ("ZooKeeper holds what the cluster agrees on: /brokers/ids/N exists while broker N's session is alive "
         "(ephemeral), /controller names the controller (ephemeral: whoever creates it first leads), "
         "/brokers/topics/T holds replica assignments and .../partitions/P/state the leader, ISR and epochs.")


def znode_details(znode: ZnodeView | None) -> Text:
    """Everything about one znode: its data (JSON pretty-printed), version, children and owner."""
    if znode is None:
        return Text(ABOUT, style="dim")
    text = Text(znode.path + "\n", style="bold")
    text.append(f"version {znode.version}")
    if znode.ephemeral_owner:
        text.append(f" · ephemeral, owned by session 0x{znode.ephemeral_owner:x}", "bold #f58231")
        text.append(f" ({znode.owner_node or 'expired'})\n", "#f58231")
        text.append("Deleted by ZooKeeper as soon as that session ends or expires.\n", "dim")
    else:
        text.append(" · persistent\n", "dim")
    if znode.children:
        text.append(f"{len(znode.children)} children: " + ", ".join(znode.children[:20])
                    + (" ..." if len(znode.children) > 20 else "") + "\n")
    text.append("\n")
    if znode.data:
        try:
            text.append(json.dumps(json.loads(znode.data), indent=2))
        except ValueError:
            text.append(znode.data)
    else:
        text.append("(no data)", "dim")
    text.append("\n\n" + ABOUT, "dim")
    return text


class ZookeeperScreen(LabScreen):
    """The znode tree on the left, the highlighted znode's data and owner on the right."""

    VIEW_TITLE = "zookeeper"

    def __init__(self) -> None:
        super().__init__()
        self._path = "/"
        self._znodes: dict[str, ZnodeView] = {}
        self._shown: ZnodeView | None = None

    def compose_body(self) -> ComposeResult:
        with Row(id="zk-main"):
            tree = ZnodeTree(id="znodes")
            tree.border_title = "znodes"
            yield tree
            with VerticalScroll(id="znode-box") as box:
                box.border_title = "znode"
                yield Static(id="znode-details")

    def on_mount(self) -> None:
        self.query_one(ZnodeTree).focus()

    def draw(self, frame: Frame, selection: Selection) -> None:
        if not frame.request.znodes:
            return
        self._znodes = {z.path: z for z in frame.znodes}
        self.query_one(ZnodeTree).show(frame.znodes)
        self._show_details()

    def _show_details(self) -> None:
        znode = self._znodes.get(self._path)
        if znode != self._shown or znode is None:
            self._shown = znode
            self.query_one("#znode-details", Static).update(znode_details(znode))

    def frame_request(self, selection: Selection) -> FrameRequest:
        return FrameRequest(znodes=True)

    def on_znode_tree_znode_highlighted(self, message: ZnodeTree.ZnodeHighlighted) -> None:
        self._path = message.path
        self._show_details()
