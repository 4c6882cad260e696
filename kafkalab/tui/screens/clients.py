"""Clients: the network connections of real Kafka clients (kafka-python, librdkafka, kcat ...) to the brokers.

Each connection is a node of the in-process network (``wire-N``), so a link can be cut
between it and its broker like any other. Requests per second are counted over the time
between two frames, per API, as Kafka's request metrics count them.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from kafkalab.tui.frames import Frame
from kafkalab.tui.screens.base import LabScreen, show_text
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.keyed_table import Cell, KeyedTable
from kafkalab.wire.connections import ConnectionInfo

#: How many APIs a row names in its rate column, busiest first.
SHOWN_APIS = 4


class ConnectionsTable(KeyedTable):
    """One row per open connection."""

    COLUMNS = ("NODE", "ADDRESS", "BROKER", "CLIENT-ID", "SOFTWARE", "REQUESTS/S BY API", "REQUESTS")


def _rates(previous: dict[str, int], now: tuple[tuple[str, int], ...], seconds: float) -> str:
    if seconds <= 0:
        return ""
    rates = sorted(((count - previous.get(api, 0)) / seconds, api) for api, count in now)
    busiest = [(rate, api) for rate, api in reversed(rates) if rate > 0][:SHOWN_APIS]
    return "  ".join(f"{api} {rate:.0f}" for rate, api in busiest) or "idle"


class ClientsScreen(LabScreen):
    """Who is connected to the Kafka listener, with what software, asking what how often."""

    VIEW_TITLE = "clients"

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[int, dict[str, int]] = {}
        self._last_seen = time.monotonic()

    def compose_body(self) -> ComposeResult:
        yield Static(id="clients-about")
        table = ConnectionsTable(id="connections")
        table.border_title = "connections"
        yield table

    def draw(self, frame: Frame, selection: Selection) -> None:
        listener = frame.listener
        about = self.query_one("#clients-about", Static)
        if listener is None:
            show_text(about, Text("No Kafka listener: kafkalab was started with --no-listen."))
            self.query_one(ConnectionsTable).sync({})
            return
        paused = " Virtual time is paused: requests wait, and a client gives up on one after its request.timeout.ms " \
                 "(30 s), reconnects and retries; a consumer group removes members whose heartbeats stopped once " \
                 "time runs again." if frame.clock.paused and listener.connections else ""
        show_text(about, Text(f"Point your own client at bootstrap.servers={listener.bootstrap}. Each connection "
                              f"is a node on the cluster's network (cut_link can cut it from its broker); its "
                              f"groups, records and traffic appear in every other view.{paused}"))
        now = time.monotonic()
        elapsed, self._last_seen = now - self._last_seen, now
        self.query_one(ConnectionsTable).sync({str(c.conn_id): self._row(c, elapsed) for c in listener.connections},
                                              sort_key="NODE")
        self._counts = {c.conn_id: dict(c.requests) for c in listener.connections}

    def _row(self, connection: ConnectionInfo, elapsed: float) -> tuple[Cell, ...]:
        software = " ".join(part for part in (connection.software_name, connection.software_version) if part)
        total = sum(count for _, count in connection.requests)
        return (connection.node, connection.address, str(connection.broker_id), connection.client_id or "-",
                software or "-", _rates(self._counts.get(connection.conn_id, {}), connection.requests, elapsed),
                str(total))
