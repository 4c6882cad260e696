"""Events of the wire listener, narrated with the rest of the cluster's."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.journal import Event


@dataclass(frozen=True)
class WireRequestRejected(Event):
    """A network client sent bytes Kafka would not serve: a frame larger than socket.request.max.bytes,
    an unknown API key, a version the broker does not serve, or a request that does not parse. Kafka
    closes such a connection (an ApiVersions request at an unknown version first gets the list of
    versions served); the client reconnects, and every other client goes on being served."""

    kind = "network"
    address: str
    reason: str

    def describe(self) -> str:
        return f"Closed the connection from {self.address}: {self.reason}."
