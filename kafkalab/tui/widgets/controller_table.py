"""The controllers of a KRaft quorum as a table: Raft role, epoch, vote, offsets, lag and the timer running down.

A row per controller, as ``kafka-metadata-quorum.sh describe --status --replication`` and
each controller's ``quorum-state`` would tell them (KIP-595): its role in the epoch it
knows, whom it follows and whom it voted for, its log end offset and high watermark, how
far behind the leader's log end it is (the leader's own view of every voter, ``lag``), and
the timer that changes its role if nothing is heard: an election timeout, a follower's
``controller.quorum.fetch.timeout.ms`` after which it gives up on its leader, or the
leader's check-quorum timer (1.5 x that timeout, KIP-835) after which it resigns unless a
majority of voters fetched from it. "active" marks
the active controller: the leader, once it has applied every record committed before its epoch.
"""

from __future__ import annotations

from rich.text import Text

from kafkalab.cluster.quorum_views import QuorumStatus
from kafkalab.raft.views import ControllerStatus, RaftReplicaView
from kafkalab.tui.widgets.keyed_table import Cell, KeyedTable

ROLE_STYLES = {"leader": "bold #3cb44b", "follower": "", "candidate": "bold #f58231", "prospective": "#f58231",
               "unattached": "dim", "resigned": "dim"}


def seconds_left(due_ms: float, now_ms: float) -> str:
    """A countdown as the screens show it: ``1.4 s``."""
    return f"{max(0.0, due_ms - now_ms) / 1000:.1f} s"


def _optional(value: int | None) -> str:
    return "-" if value is None else str(value)


def leader_lags(status: QuorumStatus) -> dict[int, int]:
    """Each voter's lag behind the leader's log end, as the leader sees it (none while nobody leads)."""
    for controller in status.controllers:
        description = controller.raft.description if controller.raft is not None else None
        if description is not None:
            return {replica.node_id: description.lag(replica) for replica in description.voters}
    return {}


def timer_text(raft: RaftReplicaView, now_ms: float) -> Text:
    """What happens next to this replica unless it hears from the others, and when."""
    if raft.election_deadline_ms is not None:
        what = "election" if raft.role != "candidate" else "election times out"
        votes = f" · votes {', '.join(map(str, raft.granted_votes))}" if raft.granted_votes else ""
        return Text(f"{what} in {seconds_left(raft.election_deadline_ms, now_ms)}{votes}", "#f58231")
    if raft.fetch_deadline_ms is not None:
        return Text(f"leader lost in {seconds_left(raft.fetch_deadline_ms, now_ms)}", "dim")
    if raft.resign_deadline_ms is not None:
        return Text(f"resigns in {seconds_left(raft.resign_deadline_ms, now_ms)}", "dim")
    return Text("-", "dim")


def controller_row(controller: ControllerStatus, lags: dict[int, int], now_ms: float) -> tuple[Cell, ...]:
    """One controller's cells, in ``ControllerTable.COLUMNS`` order."""
    raft = controller.raft
    name = Text(str(controller.node_id), "bold" if controller.active else "")
    if not controller.running or raft is None:
        return (name, Text("stopped", "bold #e6194b"), "", "", "", "", "", "", "")
    role = Text(raft.role, ROLE_STYLES.get(raft.role, ""))
    if controller.active:
        role.append(", active", "bold #3cb44b")
    lag = lags.get(controller.node_id)
    return (name, role, str(raft.epoch), _optional(raft.leader_id), _optional(raft.voted_id),
            str(raft.log_end_offset), _optional(raft.high_watermark),
            Text(_optional(lag), "bold #f58231" if lag else ""), timer_text(raft, now_ms))


class ControllerTable(KeyedTable):
    """Every controller of the quorum, one row each."""

    COLUMNS = ("id", "role", "epoch", "leader", "voted", "log end", "HW", "lag", "unless it hears")

    def show(self, status: QuorumStatus, now_ms: float) -> None:
        lags = leader_lags(status)
        self.sync({str(controller.node_id): controller_row(controller, lags, now_ms)
                   for controller in status.controllers})
