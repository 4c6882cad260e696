"""The znode tree with ZooKeeper's versioning, persisted as a snapshot plus a transaction log.

Persistent znodes survive restarts of the whole app (ZooKeeper keeps them in its data
directory); ephemeral znodes live only as long as the session that created them.
Every change is appended to ``log.jsonl`` before it is applied, and ``snapshot.json``
is rewritten on a clean close, as ZooKeeper's snapshots and txn logs do: the snapshot is
fsynced before the log is cut, and replay skips what the snapshot already holds, so a
crash at any point of a close loses nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from kafkalab.coordination.protocol import Stat, ZkCode, ZkException
from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.files import storage_errors, write_durably

SNAPSHOT_FILE = "snapshot.json"
LOG_FILE = "log.jsonl"


@dataclass
class Znode:
    """One node of the tree: data (JSON text in Kafka's layout), versions and children."""

    data: str
    czxid: int
    mzxid: int
    ctime_ms: int
    mtime_ms: int
    version: int = 0
    cversion: int = 0
    ephemeral_owner: int = 0
    sequence: int = 0
    children: set[str] = field(default_factory=set)

    def stat(self) -> Stat:
        """The node's metadata as ZooKeeper reports it."""
        return Stat(self.czxid, self.mzxid, self.version, self.cversion, self.ephemeral_owner,
                    self.ctime_ms, self.mtime_ms, len(self.children))


def parent_of(path: str) -> str:
    """The parent path of ``path`` (``/`` for top-level nodes)."""
    parent = path.rsplit("/", 1)[0]
    return parent or "/"


def name_of(path: str) -> str:
    """The last component of ``path``."""
    return path.rsplit("/", 1)[1]


class ZnodeTree:
    """Znodes by path, with ZooKeeper's create/delete/set rules and durable persistent nodes."""

    def __init__(self, directory: Path | None, read_only: bool = False) -> None:
        self.nodes: dict[str, Znode] = {"/": Znode("", 0, 0, 0, 0)}
        self.zxid = 0
        #: What loading had to repair, one sentence each (a torn transaction after a crash).
        self.load_notes: list[str] = []
        self._directory = directory
        self._log_fd: int | None = None
        if directory is None or (read_only and not directory.exists()):
            return
        with storage_errors(directory, "load"):
            if not read_only:
                directory.mkdir(parents=True, exist_ok=True)
            valid_bytes = self._load(directory)
            if not read_only:
                self._log_fd = os.open(directory / LOG_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                # New transactions must not land behind a torn one, where replay would never reach them.
                os.ftruncate(self._log_fd, valid_bytes)

    # -- persistence ---------------------------------------------------------------

    def _load(self, directory: Path) -> int:
        """Read the snapshot, then replay the transactions it does not hold; return the log's intact length."""
        snapshot = directory / SNAPSHOT_FILE
        try:
            if snapshot.exists():
                state = json.loads(snapshot.read_bytes())
                self.zxid = state["zxid"]
                for path, node in state["nodes"].items():
                    self.nodes[path] = Znode(node["data"], node["czxid"], node["mzxid"], node["ctime"], node["mtime"],
                                             node["version"], node["cversion"], 0, node["sequence"])
                for path in self.nodes:
                    if path != "/":
                        self.nodes[parent_of(path)].children.add(name_of(path))
            return self._replay_log(directory / LOG_FILE, self.zxid)
        except (KeyError, TypeError, ValueError) as exc:
            raise KafkaError(Errors.DATA_DIR_INVALID,
                             f"The coordination store in {directory} is unreadable ({exc}).") from None

    def _replay_log(self, log: Path, snapshot_zxid: int) -> int:
        """Apply the logged transactions newer than the snapshot; stop at a torn one and return where it starts.

        ZooKeeper writes a snapshot, then starts a new log; a crash between the two leaves
        transactions the snapshot already holds, which replay skips by their zxid.
        """
        if not log.exists():
            return 0
        data = log.read_bytes()
        position = 0
        for number, line in enumerate(data.split(b"\n"), start=1):
            end = position + len(line) + 1
            if end > len(data):
                if line.strip():
                    self.load_notes.append(f"Dropped a torn transaction at the end of {log} (line {number}): "
                                           f"it was being written when the process stopped.")
                return position
            if line.strip():
                try:
                    txn = json.loads(line)
                    zxid = txn["zxid"]
                except (ValueError, KeyError, TypeError):
                    rest = data[position:].count(b"\n")
                    self.load_notes.append(f"Line {number} of {log} is not a transaction; ignored it and the "
                                           f"{rest - 1} line(s) after it.")
                    return position
                if zxid > snapshot_zxid:
                    self._replay(txn)
            position = end
        return len(data)

    def _replay(self, txn: dict) -> None:
        op, path, zxid, now = txn["op"], txn["path"], txn["zxid"], txn["time"]
        if op == "create":
            self._apply_create(path, txn["data"], 0, zxid, now)
        elif op == "set":
            self._apply_set(path, txn["data"], zxid, now)
        elif op == "delete":
            self._apply_delete(path, zxid)
        self.zxid = max(self.zxid, zxid)

    def _append_txn(self, txn: dict) -> None:
        if self._log_fd is not None:
            assert self._directory is not None
            with storage_errors(self._directory / LOG_FILE, "append to"):
                os.write(self._log_fd, (json.dumps(txn, separators=(",", ":")) + "\n").encode())

    def close(self) -> None:
        """Write a snapshot of the persistent nodes, make it durable, then start an empty transaction log."""
        if self._directory is None or self._log_fd is None:
            return
        nodes = {path: {"data": node.data, "czxid": node.czxid, "mzxid": node.mzxid, "ctime": node.ctime_ms,
                        "mtime": node.mtime_ms, "version": node.version, "cversion": node.cversion,
                        "sequence": node.sequence}
                 for path, node in self.nodes.items() if path != "/" and not node.ephemeral_owner}
        directory, log_fd = self._directory, self._log_fd
        self._log_fd = None
        with storage_errors(directory, "write"):
            try:
                # The snapshot must be on disk before the log it replaces is cut (ZooKeeper's order).
                write_durably(directory / SNAPSHOT_FILE,
                              json.dumps({"zxid": self.zxid, "nodes": nodes}, separators=(",", ":")).encode())
                os.ftruncate(log_fd, 0)
                os.fsync(log_fd)
            finally:
                os.close(log_fd)

    def close_abruptly(self) -> None:
        """Stop writing without a snapshot (the transaction log already holds every change)."""
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None

    # -- operations ----------------------------------------------------------------

    def get(self, path: str) -> Znode:
        """The node at ``path`` or NO_NODE."""
        node = self.nodes.get(path)
        if node is None:
            raise ZkException(ZkCode.NO_NODE, path)
        return node

    def create(self, path: str, data: str, ephemeral_owner: int, sequential: bool, now_ms: int) -> str:
        """Create a node (``sequential`` appends a 10-digit counter) and return its path."""
        parent = self.nodes.get(parent_of(path))
        if parent is None:
            raise ZkException(ZkCode.NO_NODE, parent_of(path))
        if parent.ephemeral_owner:
            raise ZkException(ZkCode.NO_CHILDREN_FOR_EPHEMERALS, path)
        if sequential:
            path = f"{path}{parent.sequence:010d}"
        if path in self.nodes:
            raise ZkException(ZkCode.NODE_EXISTS, path)
        self.zxid += 1
        if not ephemeral_owner:
            self._append_txn({"op": "create", "path": path, "data": data, "zxid": self.zxid, "time": now_ms})
        self._apply_create(path, data, ephemeral_owner, self.zxid, now_ms)
        return path

    def _apply_create(self, path: str, data: str, owner: int, zxid: int, now_ms: int) -> None:
        parent = self.nodes[parent_of(path)]
        self.nodes[path] = Znode(data, zxid, zxid, now_ms, now_ms, ephemeral_owner=owner)
        parent.children.add(name_of(path))
        parent.cversion += 1
        parent.sequence += 1

    def set(self, path: str, data: str, version: int, now_ms: int) -> Stat:
        """Replace a node's data if ``version`` matches (-1 matches any); BAD_VERSION otherwise."""
        node = self.get(path)
        if version not in (-1, node.version):
            raise ZkException(ZkCode.BAD_VERSION, path)
        self.zxid += 1
        if not node.ephemeral_owner:
            self._append_txn({"op": "set", "path": path, "data": data, "zxid": self.zxid, "time": now_ms})
        self._apply_set(path, data, self.zxid, now_ms)
        return node.stat()

    def _apply_set(self, path: str, data: str, zxid: int, now_ms: int) -> None:
        node = self.nodes[path]
        node.data = data
        node.version += 1
        node.mzxid = zxid
        node.mtime_ms = now_ms

    def delete(self, path: str, version: int) -> None:
        """Delete a childless node if ``version`` matches (-1 matches any)."""
        node = self.get(path)
        if version not in (-1, node.version):
            raise ZkException(ZkCode.BAD_VERSION, path)
        if node.children:
            raise ZkException(ZkCode.NOT_EMPTY, path)
        self.zxid += 1
        if not node.ephemeral_owner:
            self._append_txn({"op": "delete", "path": path, "zxid": self.zxid, "time": 0})
        self._apply_delete(path, self.zxid)

    def _apply_delete(self, path: str, zxid: int) -> None:
        del self.nodes[path]
        parent = self.nodes[parent_of(path)]
        parent.children.discard(name_of(path))
        parent.cversion += 1
