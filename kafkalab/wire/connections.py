"""What the listener tells the rest of the lab about itself: its client connections and a port it could not bind.

Kept apart from the socket server, which decodes frames with ``kio``: the TUI shows
connections and reports a port in use without loading the wire package, which a cluster
without a listener never needs (60-80 ms of CPU at start-up, measured at load 9-11).
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.errors import Errors, KafkaError


class PortInUse(KafkaError):
    """A listener could not bind its port."""

    def __init__(self, host: str, port: int, broker_id: int) -> None:
        super().__init__(Errors.INVALID_ARGUMENT, f"port {port} on {host} (broker {broker_id}) is already in use")
        self.port = port
        self.broker_id = broker_id


@dataclass(frozen=True)
class ConnectionInfo:
    """One client connection as the clients view lists it."""

    conn_id: int
    node: str
    broker_id: int
    address: str
    client_id: str
    software_name: str
    software_version: str
    requests: tuple[tuple[str, int], ...]
