"""Consumer groups: members, state, generation, strategy, the assignment per member, offsets and lag.

Columns carry the names ``kafka-consumer-groups.sh --describe`` prints (``CURRENT-OFFSET``,
``LOG-END-OFFSET``, ``LAG``). A rebalance shows as it happens: the state column moves
through PreparingRebalance and CompletingRebalance, and the group's events below say who
left, who joined, which partitions were revoked and which assigned.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Sparkline, Static

from kafkalab.events.journal import Event
from kafkalab.tui.cells import KEY_COLOURS
from kafkalab.tui.frames import Frame
from kafkalab.tui.screens.base import LabScreen, retitle, show_text
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.backdrop import Column, Row
from kafkalab.tui.widgets.event_list import EventList
from kafkalab.tui.widgets.keyed_table import Cell, KeyedTable
from kafkalab.views import GroupView

GROUP_KINDS = frozenset({"group", "commit", "consumer"})
SPARK = "▁▂▃▄▅▆▇█"
NO_GROUPS = ("No consumer groups yet. Start a consumer with g (group, client id, topics, "
             "partition.assignment.strategy); start another in the same group to watch a rebalance.")


def spark(values: list[int], width: int = 12) -> str:
    """A one-line sparkline of the last ``width`` values."""
    tail = values[-width:]
    if not tail:
        return ""
    top = max(tail) or 1
    return "".join(SPARK[min(len(SPARK) - 1, value * (len(SPARK) - 1) // top)] for value in tail)


def member_colours(group: GroupView) -> dict[str, str]:
    """A colour per member id, stable in member order."""
    return {m.member_id: KEY_COLOURS[n % len(KEY_COLOURS)] for n, m in enumerate(group.members)}


def concerns(event: Event, group_id: str) -> bool:
    """True if ``event`` is about group ``group_id``."""
    values = event.fields_dict()
    return values.get("group_id", values.get("group")) == group_id


class GroupsTable(KeyedTable):
    """One row per consumer group."""

    COLUMNS = ("GROUP", "STATE", "GENERATION", "STRATEGY", "MEMBERS", "LAG", "COORDINATOR")

    def show(self, groups: tuple[GroupView, ...]) -> None:
        rows: dict[str, tuple[Cell, ...]] = {}
        for group in groups:
            stable = group.state == "Stable"
            rows[group.group_id] = (group.group_id, Text(group.state, style="green" if stable else "bold yellow"),
                                    str(group.generation), group.protocol or "-", str(len(group.members)),
                                    f"{group.total_lag:,}", f"broker {group.coordinator}")
        self.sync(rows, sort_key="GROUP")


class PartitionsTable(KeyedTable):
    """The selected group's partitions as ``kafka-consumer-groups.sh --describe`` shows them."""

    COLUMNS = ("TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "LAG (last samples)", "CONSUMER-ID")

    def show(self, group: GroupView | None) -> None:
        rows: dict[str, tuple[Cell, ...]] = {}
        colours = member_colours(group) if group is not None else {}
        for row in group.partitions if group is not None else ():
            owner = Text(row.client_id or "-", style=f"bold {colours[row.member_id]}"
                         if row.member_id in colours else "dim")
            lag = "-" if row.lag is None else f"{row.lag:,}"
            rows[f"{row.topic}-{row.partition}"] = (
                row.topic, str(row.partition), "-" if row.current_offset is None else f"{row.current_offset:,}",
                f"{row.log_end_offset:,}", Text(lag, style="bold yellow" if row.lag else ""),
                spark([lag for _, lag in row.lag_history]), owner)
        self.sync(rows, sort_key="PARTITION")


def members_text(group: GroupView | None) -> Text:
    """Each member, its client id and the partitions assigned to it, in its colour."""
    if group is None:
        return Text(NO_GROUPS, style="dim")
    text = Text()
    colours = member_colours(group)
    rebalancing = group.state in ("PreparingRebalance", "CompletingRebalance")
    for member in group.members:
        leader = "  (leader: computes the assignment)" if member.member_id == group.leader_member_id else ""
        text.append("■ ", colours[member.member_id])
        text.append(member.client_id, "bold")
        text.append(f"{leader}\n", "dim")
        if member.assignment:
            text.append("    " + ", ".join(member.assignment) + "\n", colours[member.member_id])
        elif rebalancing:
            # Like kafka-consumer-groups.sh --describe, the coordinator reports no assignment
            # until the group is Stable again; the consumer keeps what it had until it learns.
            text.append("    (waiting for the new assignment)\n", "dim italic")
        else:
            text.append("    no partitions\n", colours[member.member_id])
    if not group.members:
        text.append("No members: the group is Empty; its committed offsets stay in __consumer_offsets.", "dim")
    return text


class GroupsScreen(LabScreen):
    """Groups on the left; the highlighted group's members, lag and events on the right."""

    VIEW_TITLE = "consumer groups"

    def __init__(self) -> None:
        super().__init__()
        self._group_id: str | None = None
        self._events_version = -1

    def compose_body(self) -> ComposeResult:
        groups = GroupsTable(id="groups-table")
        groups.border_title = "groups (↑↓ choose)"
        yield groups
        with Row(id="group-main"):
            with Column(id="group-left"):
                members = Static(id="group-members")
                members.border_title = "members and their assignment"
                yield members
                lag = Sparkline([0], id="group-lag")
                lag.border_title = "total LAG"
                yield lag
            partitions = PartitionsTable(id="group-partitions")
            partitions.border_title = "partitions"
            yield partitions
        history = EventList(id="group-events")
        history.border_title = "this group's rebalances, commits and consumers"
        yield history

    def on_mount(self) -> None:
        self.query_one(GroupsTable).focus()

    def draw(self, frame: Frame, selection: Selection) -> None:
        groups = frame.view.groups
        self.query_one(GroupsTable).show(groups)
        if self._group_id is None or frame.view.group(self._group_id) is None:
            self._group_id = groups[0].group_id if groups else None
        group = frame.view.group(self._group_id) if self._group_id is not None else None
        show_text(self.query_one("#group-members", Static), members_text(group))
        self.query_one(PartitionsTable).show(group)
        sparkline = self.query_one("#group-lag", Sparkline)
        lags = [float(lag) for _, lag in group.lag_history] if group is not None else []
        if list(sparkline.data or []) != (lags or [0.0]):
            sparkline.data = lags or [0.0]
        retitle(sparkline, f"total LAG {group.total_lag:,}" if group is not None else "total LAG")
        if self.lab.events.version != self._events_version or group is None:
            self._events_version = self.lab.events.version
            history = self.query_one("#group-events", EventList)
            if group is None:
                history.show([])
            else:
                group_id = group.group_id
                history.show(self.lab.events.rows(
                    ("groups", group_id), lambda event: event.kind in GROUP_KINDS and concerns(event, group_id),
                    limit=2000).newest_first())

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        if message.data_table.id == "groups-table" and message.row_key.value is not None:
            self._group_id = message.row_key.value
            self._events_version = -1
            if self.lab.frame is not None:
                self.draw(self.lab.frame, self.lab.selection)
