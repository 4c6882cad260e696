"""The coordination service node ("zk"): sessions, ephemeral znodes and one-shot watches.

It behaves as ZooKeeper does for Kafka: a session stays alive only while the service
hears from its client within the session timeout; when it expires, the session's
ephemeral znodes (a broker's ``/brokers/ids/N``, the ``/controller``) are deleted and
the watches on them fire. A broker cut off from the service therefore loses its
registration after ``zookeeper.session.timeout.ms`` even though it is still running.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafkalab.coordination import protocol as p
from kafkalab.coordination.protocol import EventType, WatchEvent, ZkCode, ZkException
from kafkalab.coordination.tree import ZnodeTree, parent_of
from kafkalab.events.coordination import (
    CoordinationStoreFailed,
    CoordinationStoreRecovered,
    SessionClosed,
    SessionEstablished,
    SessionExpired,
)
from kafkalab.events.journal import EventJournal
from kafkalab.sim.network import Network, Responder
from kafkalab.sim.scheduler import Scheduler, Timer
from kafkalab.storage.files import KafkaStorageError
from kafkalab.views import SessionDeadline, ZnodeView

COORDINATOR_NODE = "zk"
#: ZooKeeper's default session bounds are 2x and 20x tickTime (2000 ms).
MIN_SESSION_TIMEOUT_MS = 4000
MAX_SESSION_TIMEOUT_MS = 40_000


@dataclass(eq=False)
class _Session:
    session_id: int
    client_node: str
    timeout_ms: int
    expiry: Timer | None = None
    ephemerals: set[str] = field(default_factory=set)
    outbox: list[WatchEvent] = field(default_factory=list)
    outbox_first_seq: int = 1
    pushing: bool = False


class CoordinationServer:
    """The ZooKeeper-like service, reachable on the network as ``zk``."""

    def __init__(self, scheduler: Scheduler, network: Network, journal: EventJournal,
                 directory: Path | None) -> None:
        self.scheduler = scheduler
        self.network = network
        self.journal = journal
        self.tree = ZnodeTree(directory)
        if self.tree.load_notes:
            journal.emit(CoordinationStoreRecovered, notes=tuple(self.tree.load_notes))
        #: Set while the transaction log refuses writes, so the failure is narrated once.
        self._store_failure: str | None = None
        self._sessions: dict[int, _Session] = {}
        self._session_ids = itertools.count(0x100000001)
        self._data_watches: dict[str, set[int]] = {}
        self._child_watches: dict[str, set[int]] = {}
        self._handlers: dict[type, Callable[[_Session, Any], p.ZkResponse]] = {
            p.CreateRequest: self._create,
            p.DeleteRequest: self._delete,
            p.SetDataRequest: self._set_data,
            p.GetDataRequest: self._get_data,
            p.GetChildrenRequest: self._get_children,
            p.ExistsRequest: self._exists,
        }
        network.attach(COORDINATOR_NODE, self._on_request)

    def close(self) -> None:
        """Stop serving and write a snapshot of the persistent tree."""
        self.network.detach(COORDINATOR_NODE)
        for session in self._sessions.values():
            if session.expiry is not None:
                session.expiry.cancel()
        self.tree.close()

    def close_abruptly(self) -> None:
        """Stop serving without writing a snapshot (the transaction log is already durable)."""
        self.network.detach(COORDINATOR_NODE)
        self.tree.close_abruptly()

    # -- sessions ------------------------------------------------------------------

    def _on_request(self, source: str, request: Any, respond: Responder) -> None:
        if isinstance(request, p.ConnectRequest):
            respond(self._connect(source, request))
            return
        session = self._sessions.get(getattr(request, "session_id", 0))
        if session is None:
            respond(p.ZkResponse(ZkCode.SESSION_EXPIRED) if not isinstance(request, p.PingRequest)
                    else p.PingResponse(ZkCode.SESSION_EXPIRED))
            return
        self._touch(session)
        if isinstance(request, p.PingRequest):
            respond(p.PingResponse(ZkCode.OK))
            self._push(session)
            return
        if isinstance(request, p.CloseSessionRequest):
            self._close_session(session, "closed its session")
            respond(p.ZkResponse(ZkCode.OK))
            return
        handler = self._handlers[type(request)]
        try:
            guard = getattr(request, "guard", None)
            if guard is not None and self.tree.get(guard[0]).version != guard[1]:
                # Kafka fences a replaced controller's writes this way (a multi-op that
                # checks /controller_epoch's version), so a zombie controller changes nothing.
                raise ZkException(ZkCode.BAD_VERSION, guard[0])
            respond(handler(session, request))
            self._store_failure = None
        except ZkException as exc:
            respond(p.ZkResponse(exc.code, exc.path))
        except KafkaStorageError as exc:
            if self._store_failure != exc.message:
                self._store_failure = exc.message
                self.journal.emit(CoordinationStoreFailed, path=exc.path, reason=exc.reason)
            respond(p.ZkResponse(ZkCode.CONNECTION_LOSS, getattr(request, "path", "")))

    def _connect(self, source: str, request: p.ConnectRequest) -> p.ConnectResponse:
        timeout = min(max(request.session_timeout_ms, MIN_SESSION_TIMEOUT_MS), MAX_SESSION_TIMEOUT_MS)
        if request.session_id:
            session = self._sessions.get(request.session_id)
            if session is None:
                return p.ConnectResponse(ZkCode.SESSION_EXPIRED)
            session.client_node = source
            self._touch(session)
            self._push(session)
            return p.ConnectResponse(ZkCode.OK, session.session_id, session.timeout_ms)
        session = _Session(next(self._session_ids), source, timeout)
        self._sessions[session.session_id] = session
        self._touch(session)
        self.journal.emit(SessionEstablished, session_id=session.session_id, client=source, timeout_ms=timeout)
        return p.ConnectResponse(ZkCode.OK, session.session_id, timeout)

    def _touch(self, session: _Session) -> None:
        if session.expiry is not None:
            session.expiry.cancel()
        session.expiry = self.scheduler.call_later(session.timeout_ms, self._expire, session.session_id)

    def _expire(self, session_id: int) -> None:
        session = self._sessions.get(session_id)
        if session is not None:
            self._close_session(session, "expired")

    def _close_session(self, session: _Session, how: str) -> None:
        session_id = session.session_id
        self._sessions.pop(session_id, None)
        if session.expiry is not None:
            session.expiry.cancel()
        deleted = sorted(session.ephemerals)
        event = SessionExpired if how == "expired" else SessionClosed
        self.journal.emit(event, session_id=session_id, client=session.client_node,
                          timeout_ms=session.timeout_ms, deleted_paths=tuple(deleted))
        for watches in (self._data_watches, self._child_watches):
            for watchers in watches.values():
                watchers.discard(session_id)
        for path in deleted:
            if path in self.tree.nodes:
                self.tree.delete(path, -1)
                self._fire_deleted(path)

    # -- operations ----------------------------------------------------------------

    def _create(self, session: _Session, request: p.CreateRequest) -> p.ZkResponse:
        owner = session.session_id if request.ephemeral else 0
        path = self.tree.create(request.path, request.data, owner, request.sequential, self.scheduler.now_int_ms())
        if owner:
            session.ephemerals.add(path)
        self._fire(self._data_watches, path, EventType.NODE_CREATED)
        self._fire(self._child_watches, parent_of(path), EventType.NODE_CHILDREN_CHANGED)
        return p.ZkResponse(ZkCode.OK, path, stat=self.tree.nodes[path].stat())

    def _delete(self, session: _Session, request: p.DeleteRequest) -> p.ZkResponse:
        node = self.tree.get(request.path)
        self.tree.delete(request.path, request.version)
        if node.ephemeral_owner and node.ephemeral_owner in self._sessions:
            self._sessions[node.ephemeral_owner].ephemerals.discard(request.path)
        self._fire_deleted(request.path)
        return p.ZkResponse(ZkCode.OK, request.path)

    def _set_data(self, session: _Session, request: p.SetDataRequest) -> p.ZkResponse:
        self.tree.set(request.path, request.data, request.version, self.scheduler.now_int_ms())
        self._fire(self._data_watches, request.path, EventType.NODE_DATA_CHANGED)
        return p.ZkResponse(ZkCode.OK, request.path, stat=self.tree.nodes[request.path].stat())

    def _get_data(self, session: _Session, request: p.GetDataRequest) -> p.ZkResponse:
        node = self.tree.get(request.path)
        if request.watch:
            self._data_watches.setdefault(request.path, set()).add(session.session_id)
        return p.ZkResponse(ZkCode.OK, request.path, node.data, node.stat())

    def _get_children(self, session: _Session, request: p.GetChildrenRequest) -> p.ZkResponse:
        node = self.tree.get(request.path)
        if request.watch:
            self._child_watches.setdefault(request.path, set()).add(session.session_id)
        return p.ZkResponse(ZkCode.OK, request.path, stat=node.stat(), children=tuple(sorted(node.children)))

    def _exists(self, session: _Session, request: p.ExistsRequest) -> p.ZkResponse:
        if request.watch:
            self._data_watches.setdefault(request.path, set()).add(session.session_id)
        node = self.tree.nodes.get(request.path)
        if node is None:
            return p.ZkResponse(ZkCode.NO_NODE, request.path)
        return p.ZkResponse(ZkCode.OK, request.path, node.data, node.stat())

    # -- watches -------------------------------------------------------------------

    def _fire_deleted(self, path: str) -> None:
        self._fire(self._data_watches, path, EventType.NODE_DELETED)
        self._fire(self._child_watches, path, EventType.NODE_DELETED)
        self._fire(self._child_watches, parent_of(path), EventType.NODE_CHILDREN_CHANGED)

    def _fire(self, watches: dict[str, set[int]], path: str, event_type: EventType) -> None:
        watchers = watches.pop(path, None)
        if not watchers:
            return
        for session_id in sorted(watchers):
            session = self._sessions.get(session_id)
            if session is not None:
                session.outbox.append(WatchEvent(event_type, path))
                self._push(session)

    def _push(self, session: _Session) -> None:
        """Send queued notifications; they stay queued until the client acknowledges them."""
        if session.pushing or not session.outbox:
            return
        session.pushing = True
        batch = p.WatchNotifications(session.session_id, session.outbox_first_seq, tuple(session.outbox))

        def on_ack(response: Any, error: Any) -> None:
            session.pushing = False
            if error is None and isinstance(response, p.NotificationsAck):
                delivered = response.last_seq - session.outbox_first_seq + 1
                del session.outbox[:delivered]
                session.outbox_first_seq = response.last_seq + 1
            if session.session_id in self._sessions:
                self._push(session)

        self.network.request(COORDINATOR_NODE, session.client_node, batch, on_ack, timeout_ms=session.timeout_ms / 3)

    # -- views ---------------------------------------------------------------------

    def session_owner(self, session_id: int) -> str | None:
        """The network node that holds ``session_id``, if the session is alive."""
        session = self._sessions.get(session_id)
        return session.client_node if session else None

    def session_deadlines(self) -> tuple[SessionDeadline, ...]:
        """Each live session's client and when it expires unless the service hears from it."""
        return tuple(SessionDeadline(session.client_node, session.timeout_ms, session.expiry.due_ms)
                     for session in self._sessions.values() if session.expiry is not None)

    def view(self) -> tuple[ZnodeView, ...]:
        """Every znode in path order, ephemeral ones marked with their owner."""
        return tuple(ZnodeView(path, node.data, node.version, node.ephemeral_owner,
                               self.session_owner(node.ephemeral_owner) if node.ephemeral_owner else None,
                               tuple(sorted(node.children)))
                     for path, node in sorted(self.tree.nodes.items()))
