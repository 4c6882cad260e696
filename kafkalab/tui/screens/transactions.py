"""Transactions: every transactional id the live coordinators hold, as ``kafka-transactions.sh describe`` lists them.

Each row is one transactional id at its coordinator: the state of Kafka's transaction state
machine, the producer id and epoch (a new instance bumps it and fences the old one), the
partitions of the open transaction and how long it may stay open before the coordinator
aborts it (``transaction.timeout.ms``), counting down on virtual time. Under the table, each
partition whose last stable offset an open transaction holds below the high watermark.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from kafkalab.tui.frames import Frame
from kafkalab.tui.screens.base import LabScreen, show_text
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.event_list import duration
from kafkalab.tui.widgets.keyed_table import Cell, KeyedTable
from kafkalab.views import ClusterView, HostedTransaction

ABOUT = ("A transactional producer's records commit or abort together (KIP-98). Its coordinator, the leader of "
         "the id's __transaction_state partition, records each step; COMMIT or ABORT markers then end the "
         "transaction in every partition, and read_committed consumers read only below each partition's last "
         "stable offset (LSO).")
#: Said in place of the table on a real cluster: confluent-kafka's admin client (librdkafka 2.16) has no
#: ListTransactions or DescribeTransactions (KIP-664), so an attached session cannot list transactional ids.
NOT_ATTACHED = ("Attached: transactional ids cannot be listed here (the admin client kafkalab uses has no "
                "ListTransactions or DescribeTransactions); the LSO below still shows where open transactions "
                "hold read_committed consumers back. kafka-transactions.sh list shows them.")


class TransactionsTable(KeyedTable):
    """One row per transactional id, with kafka-transactions.sh's columns."""

    COLUMNS = ("TRANSACTIONAL-ID", "COORDINATOR", "STATE", "PRODUCER-ID", "EPOCH", "TIMEOUT", "TIMES OUT IN",
               "PARTITIONS")


def _row(transaction: HostedTransaction, now_ms: float) -> tuple[Cell, ...]:
    if transaction.started_ms is not None:
        left = transaction.started_ms + transaction.timeout_ms - now_ms
        times_out: Cell = duration(max(0.0, left))
    else:
        times_out = "-"
    partitions = ", ".join(f"{tp.topic}-{tp.partition}" for tp in transaction.partitions) or "-"
    return (transaction.transactional_id, str(transaction.coordinator), transaction.state,
            str(transaction.producer_id), str(transaction.producer_epoch), duration(transaction.timeout_ms),
            times_out, partitions)


def held_back(view: ClusterView) -> Text:
    """The partitions whose LSO sits below the high watermark: an open transaction holds readers there."""
    lines = [f"{p.name}: LSO {p.last_stable_offset} < HW {p.high_watermark}"
             for topic in view.topics for p in topic.partitions if p.last_stable_offset < p.high_watermark]
    if not lines:
        return Text("No partition has an open transaction: read_committed consumers read up to the high watermark.",
                    "dim")
    return Text("Held back for read_committed consumers: " + "; ".join(lines))


class TransactionsScreen(LabScreen):
    """The transactional ids, their state and timeouts, and where open transactions hold the LSO back."""

    VIEW_TITLE = "transactions"

    def compose_body(self) -> ComposeResult:
        yield Static(ABOUT, id="transactions-about")
        yield Static(NOT_ATTACHED, id="transactions-attached")
        table = TransactionsTable(id="transactions")
        table.border_title = "transactional ids"
        yield table
        yield Static(id="transactions-lso")

    def draw(self, frame: Frame, selection: Selection) -> None:
        view = frame.view
        self.query_one("#transactions-attached", Static).display = frame.attached is not None
        self.query_one(TransactionsTable).sync(
            {t.transactional_id: _row(t, view.time_ms) for t in view.transactions}, sort_key="TRANSACTIONAL-ID")
        show_text(self.query_one("#transactions-lso", Static), held_back(view))
