"""KRaft's controller quorum as text for the coordination screen: controllers, registrations, the metadata log.

In KRaft mode there is no ZooKeeper; the screen that shows the znode tree in ZooKeeper mode
shows instead what the quorum agrees on and how: each controller's Raft role, epoch, vote,
log end and high watermark with its election timer counting down, every broker's registration
(fenced or not, and when the active controller fences it unless it hears a heartbeat), and the
newest committed records of ``__cluster_metadata``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from kafkalab.cluster.quorum import QuorumStatus

ABOUT = ("KRaft (Kafka 4.1): the controllers keep the metadata in a log, __cluster_metadata, and elect a leader "
         "with Raft; the leader is the active controller and the only writer. Brokers follow the log, register "
         "with the active controller and heartbeat to it; one silent for broker.session.timeout.ms is fenced.")
ROLE_STYLES = {"leader": "bold #3cb44b", "follower": "", "candidate": "bold #f58231", "prospective": "#f58231",
               "unattached": "dim", "resigned": "dim"}


def _seconds(due_ms: float | None, now_ms: float) -> str:
    return "" if due_ms is None else f"{max(0.0, due_ms - now_ms) / 1000:.1f} s"


def quorum_text(status: QuorumStatus, now_ms: float) -> Text:
    """The whole quorum as the screen shows it."""
    text = Text("controllers\n", style="bold")
    for controller in status.controllers:
        raft = controller.raft
        text.append(f"  {controller.node_id}  ")
        if not controller.running or raft is None:
            text.append("stopped\n", "bold #e6194b")
            continue
        text.append(f"{raft.role:<11}", ROLE_STYLES.get(raft.role, ""))
        text.append(f" epoch {raft.epoch:<3} leader {raft.leader_id if raft.leader_id is not None else '-':<4} "
                    f"voted {raft.voted_id if raft.voted_id is not None else '-':<4} "
                    f"log end {raft.log_end_offset:<5} hw {raft.high_watermark if raft.high_watermark is not None else '-':<5}")
        if controller.active:
            text.append(" active controller", "bold #3cb44b")
        if raft.election_deadline_ms is not None:
            text.append(f" election in {_seconds(raft.election_deadline_ms, now_ms)}", "#f58231")
        elif raft.fetch_deadline_ms is not None:
            text.append(f" leader given up in {_seconds(raft.fetch_deadline_ms, now_ms)}", "dim")
        if raft.granted_votes:
            text.append(f" votes {', '.join(map(str, raft.granted_votes))}", "#f58231")
        text.append("\n")
    text.append("\nbroker registrations\n", style="bold")
    for registration in status.registrations:
        text.append(f"  broker {registration.broker_id}  epoch {registration.epoch:<5} ")
        if registration.fenced:
            text.append("FENCED", "bold #e6194b")
        elif registration.in_controlled_shutdown:
            text.append("shutting down", "#f58231")
        else:
            text.append("unfenced", "#3cb44b")
        if registration.fenced_at_ms is not None:
            text.append(f"  fenced in {_seconds(registration.fenced_at_ms, now_ms)} unless it heartbeats", "dim")
        text.append("\n")
    text.append("\nmetadata log (newest committed records)\n", style="bold")
    for entry in status.records:
        text.append(f"  {entry.offset:>6}  ", "dim")
        text.append(entry.text + "\n")
    if not status.records:
        text.append("  (no committed records yet)\n", "dim")
    text.append("\n" + ABOUT, "dim")
    return text
