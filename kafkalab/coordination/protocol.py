"""Requests and responses between a coordination client (a broker) and the service.

They follow ZooKeeper's operations: connect a session, ping it, create, delete,
set and read znodes, list children, and one-shot watches that notify the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ZkCode(Enum):
    """ZooKeeper's result codes (``KeeperException.Code``) that kafkalab uses."""

    OK = 0
    NO_NODE = -101
    NODE_EXISTS = -110
    BAD_VERSION = -103
    NOT_EMPTY = -111
    NO_CHILDREN_FOR_EPHEMERALS = -108
    SESSION_EXPIRED = -112
    CONNECTION_LOSS = -4


class ZkException(Exception):
    """A coordination operation failed with ``code`` (e.g. NODE_EXISTS on ``path``)."""

    def __init__(self, code: ZkCode, path: str = "") -> None:
        self.code = code
        self.path = path
        super().__init__(f"{code.name} {path}".strip())


class WatchType(Enum):
    """Which change a watch waits for."""

    DATA = "data"
    CHILDREN = "children"


class EventType(Enum):
    """What a watch notification reports (ZooKeeper's ``Watcher.Event.EventType``)."""

    NODE_CREATED = "NodeCreated"
    NODE_DELETED = "NodeDeleted"
    NODE_DATA_CHANGED = "NodeDataChanged"
    NODE_CHILDREN_CHANGED = "NodeChildrenChanged"


@dataclass(frozen=True)
class Stat:
    """A znode's metadata: versions, the zxids that made and last changed it, its owner."""

    czxid: int
    mzxid: int
    version: int
    cversion: int
    ephemeral_owner: int
    ctime_ms: int
    mtime_ms: int
    num_children: int


@dataclass(frozen=True)
class ConnectRequest:
    session_timeout_ms: int
    session_id: int = 0  # non-zero when reconnecting to an existing session


@dataclass(frozen=True)
class ConnectResponse:
    code: ZkCode
    session_id: int = 0
    session_timeout_ms: int = 0


@dataclass(frozen=True)
class PingRequest:
    session_id: int


@dataclass(frozen=True)
class PingResponse:
    code: ZkCode


@dataclass(frozen=True)
class CloseSessionRequest:
    """End a session now: its ephemeral znodes are deleted at once (a clean shutdown)."""

    session_id: int


@dataclass(frozen=True)
class CreateRequest:
    session_id: int
    path: str
    data: str
    ephemeral: bool = False
    sequential: bool = False
    guard: tuple[str, int] | None = None  # also require this znode at this version (a 2-op multi)


@dataclass(frozen=True)
class DeleteRequest:
    session_id: int
    path: str
    version: int = -1
    guard: tuple[str, int] | None = None  # also require this znode at this version (a 2-op multi)


@dataclass(frozen=True)
class SetDataRequest:
    session_id: int
    path: str
    data: str
    version: int = -1
    guard: tuple[str, int] | None = None  # also require this znode at this version (a 2-op multi)


@dataclass(frozen=True)
class GetDataRequest:
    session_id: int
    path: str
    watch: bool = False


@dataclass(frozen=True)
class GetChildrenRequest:
    session_id: int
    path: str
    watch: bool = False


@dataclass(frozen=True)
class ExistsRequest:
    session_id: int
    path: str
    watch: bool = False


@dataclass(frozen=True)
class ZkResponse:
    """The answer to a znode operation: a code plus the path, data, stat or children read."""

    code: ZkCode
    path: str = ""
    data: str | None = None
    stat: Stat | None = None
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class WatchEvent:
    """One fired one-shot watch: what happened to which path."""

    event_type: EventType
    path: str


@dataclass(frozen=True)
class WatchNotifications:
    """Fired watches pushed from the service to a session's client, numbered from ``first_seq``.

    The service keeps them until the client acknowledges, so a notification sent while
    a link is cut arrives once it heals, in order, as ZooKeeper guarantees.
    """

    session_id: int
    first_seq: int
    events: tuple[WatchEvent, ...]


@dataclass(frozen=True)
class NotificationsAck:
    """The client has processed notifications up to ``last_seq``."""

    last_seq: int
