"""Brokers as the KRaft quorum knows them: registered, fenced or not, and how long since their last heartbeat.

The state is the committed metadata's (RegisterBrokerRecord, FenceBrokerRecord,
UnfenceBrokerRecord, BrokerRegistrationChangeRecord); the heartbeat's age and the fencing
deadline are the active controller's, which fences a broker it has not heard from for
``broker.session.timeout.ms`` (Kafka 4.1's ``BrokerHeartbeatManager``).
"""

from __future__ import annotations

from rich.text import Text

from kafkalab.cluster.quorum_views import RegistrationStatus
from kafkalab.tui.widgets.controller_table import seconds_left
from kafkalab.tui.widgets.keyed_table import Cell, KeyedTable


def state_text(registration: RegistrationStatus) -> Text:
    if registration.fenced:
        return Text("FENCED", "bold #e6194b")
    if registration.in_controlled_shutdown:
        return Text("shutting down", "#f58231")
    return Text("unfenced", "#3cb44b")


def registration_row(registration: RegistrationStatus, now_ms: float) -> tuple[Cell, ...]:
    """One broker's cells, in ``RegistrationTable.COLUMNS`` order."""
    heard = registration.last_heartbeat_ms
    age = f"{max(0.0, now_ms - heard) / 1000:.1f} s ago" if heard is not None else "-"
    due = registration.fenced_at_ms
    return (str(registration.broker_id), str(registration.epoch), state_text(registration), age,
            Text(seconds_left(due, now_ms), "#f58231" if due - now_ms < 3000 else "dim") if due is not None else "-")


class RegistrationTable(KeyedTable):
    """Every registered broker, one row each."""

    COLUMNS = ("broker", "broker epoch", "state", "last heartbeat", "fenced in")

    def show(self, registrations: tuple[RegistrationStatus, ...], now_ms: float) -> None:
        self.sync({str(registration.broker_id): registration_row(registration, now_ms)
                   for registration in registrations})
