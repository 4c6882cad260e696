"""The coordination tree as a Tree widget, updated in place: znodes are added, relabelled or removed."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from kafkalab.views import ZnodeView


def znode_label(znode: ZnodeView) -> Text:
    """A znode's name, its version, and who owns it when it is ephemeral."""
    name = znode.path.rsplit("/", 1)[-1] or "/"
    text = Text(name, style="bold" if znode.children else "")
    if znode.ephemeral_owner:
        owner = znode.owner_node or "expired session"
        text.append(f"  ⚡ ephemeral · {owner} · session 0x{znode.ephemeral_owner:x}", "bold #f58231")
    if znode.children:
        text.append(f"  ({len(znode.children)})", "dim")
    return text


class ZnodeTree(Tree[str]):
    """Every znode by path; the highlighted one is announced for the detail panel."""

    BINDINGS = [Binding("space", "app.toggle_pause", "pause", show=False, id="zk.pause",
                        tooltip="Freeze or release virtual time (space does not fold nodes here).")]

    class ZnodeHighlighted(Message):
        """The cursor is on the znode at ``path``."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    def __init__(self, id: str | None = None) -> None:
        super().__init__("/", data="/", id=id)
        self._by_path: dict[str, TreeNode[str]] = {"/": self.root}
        self._labels: dict[str, Text] = {}
        self.root.expand()

    def show(self, znodes: tuple[ZnodeView, ...]) -> None:
        """Make the tree match ``znodes`` (given in path order, parents first)."""
        present = {z.path for z in znodes}
        for path in sorted((p for p in self._by_path if p not in present and p != "/"), key=len, reverse=True):
            node = self._by_path.pop(path)
            self._labels.pop(path, None)
            if node.tree is self and node.parent is not None:
                node.remove()
        for znode in znodes:
            label = znode_label(znode)
            existing = self._by_path.get(znode.path)
            if existing is None:
                parent_path = znode.path.rsplit("/", 1)[0] or "/"
                parent = self._by_path.get(parent_path, self.root)
                self._by_path[znode.path] = parent.add(label, data=znode.path, expand=znode.path.count("/") < 3,
                                                       allow_expand=bool(znode.children))
            elif self._labels.get(znode.path) != label:
                existing.set_label(label)
                existing.allow_expand = bool(znode.children)
            self._labels[znode.path] = label

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.ZnodeHighlighted(event.node.data))
