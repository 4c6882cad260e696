"""The engine side of the listener: decoded requests enter the cluster from client nodes, answers go back.

Everything here runs on the engine thread. Each connection is a node on the in-process
network (``wire-7``), so a request travels the same links as any other: a cut link loses
it, latency delays it, a paused clock holds it. The receiving broker answers with its own
handlers; the adapter turns the answer into a response tree that the listener encodes.
A request the broker cannot answer (it crashed, or the link stays cut past the timeout)
closes the connection, which is what a Kafka client sees when its broker goes away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

# Importing the adapter modules registers them.
import kafkalab.wire.adapters.admin
import kafkalab.wire.adapters.cluster
import kafkalab.wire.adapters.groups
import kafkalab.wire.adapters.records
import kafkalab.wire.adapters.transactions  # noqa: F401
from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors
from kafkalab.events.cluster import BrokerRegistered, BrokerStopped
from kafkalab.events.journal import Event
from kafkalab.events.kraft import BrokerUnfenced
from kafkalab.wire.adapters.base import ADAPTERS, RequestContext, Tree
from kafkalab.wire.apis import api_name
from kafkalab.wire.events import WireRequestRejected
from kafkalab.wire.frames import DecodedRequest

#: How long a request may wait for its broker before the connection is given up (Kafka clients
#: time out after request.timeout.ms, 30 s, and reconnect; a waiting fetch or join may take longer).
REQUEST_GIVE_UP_MS = 300_000
#: How long the network keeps a request nobody answers (acks=0) pending: Kafka's request.timeout.ms.
FIRE_AND_FORGET_MS = 30_000
#: The events after which a broker serves clients. A tuple built once: ``A | B`` in ``isinstance`` builds a union
#: object at every call, and the gateway sees every event of the journal (one or more per produce request).
_OPENS_LISTENER = (BrokerRegistered, BrokerUnfenced)


def _ignore(response: Any, error: Errors | None) -> None:
    """The callback of a request whose answer nobody waits for."""


@dataclass(frozen=True)
class ConnectionRef:
    """Which connection a request came in on: its id, network node, broker and the client's address."""

    conn_id: int
    node: str
    broker_id: int
    client_host: str


class Outbox(Protocol):
    """The sockets' side: where answers, closes and broker state changes go."""

    def respond(self, conn_id: int, request: DecodedRequest, tree: Tree | None) -> None: ...

    def close_connection(self, conn_id: int) -> None: ...

    def set_serving(self, broker_id: int, serving: bool) -> None: ...


class Gateway:
    """Sends each decoded request to its broker through the in-process network and hands the answer back."""

    def __init__(self, cluster: Cluster, outbox: Outbox) -> None:
        self.outbox = outbox
        self.cluster = cluster
        #: Connection nodes whose link to their broker is set up (latency 0).
        self._linked: set[str] = set()
        self.use_cluster(cluster)

    def use_cluster(self, cluster: Cluster) -> None:
        """Serve ``cluster`` from now on (the TUI switched to a lesson's cluster or back)."""
        self.cluster = cluster
        self._linked.clear()
        cluster.journal.subscribe(self._on_event)
        for broker_id, broker in cluster.brokers.items():
            serving = broker.replicas is not None and broker.ctx is not None and broker.ctx.broker_epoch >= 0
            self.outbox.set_serving(broker_id, serving)

    def _on_event(self, event: Event) -> None:
        # Kafka opens its listeners once the broker is registered (a KRaft broker: once unfenced, as Kafka 4.1's
        # BrokerServer waits for), and a dead process resets its connections.
        if isinstance(event, _OPENS_LISTENER):
            self.outbox.set_serving(event.broker_id, True)
        elif isinstance(event, BrokerStopped):
            self.outbox.set_serving(event.broker_id, False)

    def closed(self, conn: ConnectionRef) -> None:
        """A connection is gone: its node's link settings go with it."""
        self._linked.discard(conn.node)
        self.cluster.network.forget_links(conn.node)

    def rejected(self, address: str, reason: str) -> None:
        """A connection closed for what it sent: narrated, so nothing fails unseen."""
        self.cluster.journal.emit(WireRequestRejected, address=address, reason=reason)

    def _fail(self, conn: ConnectionRef, request: DecodedRequest, error: Exception) -> None:
        self.cluster.journal.emit(WireRequestRejected, address=conn.client_host.lstrip("/"),
                                  reason=f"{api_name(request.api_key)} v{request.api_version} failed in kafkalab "
                                         f"({error!r})")
        self.outbox.close_connection(conn.conn_id)

    def dispatch(self, conn: ConnectionRef, request: DecodedRequest) -> None:
        """Run ``request`` on the engine: its adapter's engine requests, then the response tree."""
        broker = self.cluster.brokers.get(conn.broker_id)
        if broker is None or broker.ctx is None:
            self.outbox.close_connection(conn.conn_id)
            return
        metadata = broker.ctx.metadata
        ctx = RequestContext(request.api_version, request.client_id, conn.client_host, conn.broker_id,
                             dict(metadata.topic_ids))
        try:
            plan = ADAPTERS[request.api_key](request.body, ctx)
        except Exception as exc:  # an adapter bug costs this connection, never the engine
            self._fail(conn, request, exc)
            return
        results: list[Any] = [None] * len(plan.calls)
        waiting = len(plan.calls)
        failed = False

        def finish() -> None:
            try:
                tree = plan.finish(results)
            except Exception as exc:  # as above: reported, and only this connection closes
                self._fail(conn, request, exc)
                return
            self.outbox.respond(conn.conn_id, request, tree)

        def answered(index: int) -> Callable[[Any, Errors | None], None]:
            def on_response(response: Any, error: Errors | None) -> None:
                nonlocal waiting, failed
                if failed:
                    return
                if error is not None:
                    failed = True
                    self.outbox.close_connection(conn.conn_id)
                    return
                results[index] = response
                waiting -= 1
                if waiting == 0:
                    finish()
            return on_response

        network = self.cluster.network
        destination = broker.node
        if conn.node not in self._linked:
            # The socket is the network between this client and its broker: no simulated latency on top.
            network.set_latency(conn.node, destination, 0.0)
            self._linked.add(conn.node)
        if not plan.replies:
            for call in plan.calls:
                network.request(conn.node, destination, call, _ignore, FIRE_AND_FORGET_MS)
            self.outbox.respond(conn.conn_id, request, None)
            return
        if not plan.calls:
            finish()
            return
        for index, call in enumerate(plan.calls):
            network.request(conn.node, destination, call, answered(index), REQUEST_GIVE_UP_MS)
