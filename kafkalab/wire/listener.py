"""A Kafka endpoint for every broker of a cluster: the socket server and its gateway, set up together.

``kafkalab serve`` and the TUI both hold one. Ports are bound when it is made, so a port in
use is refused before any cluster starts; ``attach`` points it at a cluster (again when the
TUI switches to a lesson's cluster) and makes each broker register the port it listens on.
"""

from __future__ import annotations

import ipaddress
from typing import Protocol

from kafkalab.cluster.cluster import Cluster
from kafkalab.sim.realtime_clock import Waiter
from kafkalab.wire.connections import ConnectionInfo
from kafkalab.wire.gateway import Gateway
from kafkalab.wire.server import WireServer

#: Broker 1 listens on the base port, broker 2 on the next one, and so on (Kafka's 9092 by default).
DEFAULT_BASE_PORT = 9092
#: What the TUI and serve tell users when a port is taken.
PORT_ADVICE = "choose another base port with --port P (brokers use P, P+1, ...) or --port 0 for free ports"


class EngineDriver(Protocol):
    """What runs the engine thread (``RealtimeDriver``): it waits in the listener's ``wait`` while one is set."""

    def set_waiter(self, waiter: Waiter | None, /) -> None: ...


def listener_ports(base: int, brokers: int) -> dict[int, int]:
    """Broker N listens on ``base + N - 1``; a base of 0 asks the system for free ports."""
    return {broker_id: 0 if base == 0 else base + broker_id - 1 for broker_id in range(1, brokers + 1)}


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def no_authentication_warning(host: str) -> str | None:
    """The warning to print when listening beyond loopback, or None."""
    if is_loopback(host):
        return None
    return (f"kafkalab: warning: listening on {host}: anyone who can reach it can read, write and delete every "
            f"topic (the cluster has no authentication)")


class Listener:
    """One listening port per broker id, serving whichever cluster it is attached to."""

    def __init__(self, host: str, base_port: int, brokers: int, max_request_bytes: int) -> None:
        self.server = WireServer(host, listener_ports(base_port, brokers), max_request_bytes)
        self.gateway: Gateway | None = None
        self._driver: EngineDriver | None = None

    @property
    def advertised_host(self) -> str:
        """The host clients are told to use: a wildcard listener is reached through loopback from here."""
        host = self.server.host
        return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host

    @property
    def bootstrap(self) -> str:
        """``host:port,...`` of every broker, for a client's ``bootstrap.servers``."""
        return self.server.bootstrap(self.advertised_host)

    def attach(self, cluster: Cluster, driver: EngineDriver) -> None:
        """Serve ``cluster``: its brokers register these ports; the sockets are served on ``driver``'s engine thread.

        Call it before the cluster starts (or on the engine thread, for a cluster switched to).
        """
        for broker_id, (_, port) in self.server.addresses.items():
            if broker_id in cluster.brokers:
                cluster.brokers[broker_id].advertised_listener = (self.advertised_host, port)
        if self.gateway is None:
            self.gateway = Gateway(cluster, self.server)
            self.server.start(self.gateway)
            self._driver = driver
            driver.set_waiter(self.server)
        else:
            self.gateway.use_cluster(cluster)

    def connections(self) -> tuple[ConnectionInfo, ...]:
        """The open client connections (safe from any thread)."""
        return self.server.connections()

    def close(self) -> None:
        """Close every connection and listening socket (on the engine thread, or once it has stopped)."""
        if self._driver is not None:
            self._driver.set_waiter(None)
        self.server.close()
