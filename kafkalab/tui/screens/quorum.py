"""The controller quorum, KRaft mode's place of the ZooKeeper screen (key 4): who leads, who votes, what is agreed.

On top, each controller's Raft state with its timer running down and the brokers'
registrations with their heartbeats; in the middle ``__cluster_metadata-0`` as a lane of
committed records, the selected one read out below; beside it the quorum's traffic as it
happens: pre-votes and votes, BeginQuorumEpoch, elections, fencing and unfencing.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from kafkalab.cluster.quorum_views import MetadataEntry
from kafkalab.events import kraft
from kafkalab.events.journal import Event
from kafkalab.tui.frames import Frame, FrameRequest
from kafkalab.tui.screens.base import LabScreen
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.backdrop import Row
from kafkalab.tui.widgets.controller_table import ControllerTable
from kafkalab.tui.widgets.event_list import EventList
from kafkalab.tui.widgets.kept_lines import Box
from kafkalab.tui.widgets.metadata_lane import MetadataLane
from kafkalab.tui.widgets.registration_table import RegistrationTable

ABOUT = ("KRaft (Kafka 4.1): the controllers keep the metadata in a log, __cluster_metadata, and elect a leader "
         "with Raft (KIP-595); the leader is the active controller and the only writer. Brokers follow the log, "
         "register with the active controller and heartbeat to it; one silent for broker.session.timeout.ms is "
         "fenced and loses its leaderships.")
#: What each record type means, for the learner reading one (Kafka's ``MetadataRecordType`` and control records).
MEANINGS = {
    "REGISTER_BROKER_RECORD": "A broker registered with the active controller. Its broker epoch is this record's "
                              "offset; it starts fenced.",
    "UNREGISTER_BROKER_RECORD": "A broker's registration was removed.",
    "TOPIC_RECORD": "A topic was created: its name and id. Its partitions follow as PARTITION_RECORDs.",
    "PARTITION_RECORD": "A partition of a new topic: its replicas, ISR, leader and epochs, as the active "
                        "controller placed it.",
    "PARTITION_CHANGE_RECORD": "A partition's leader or ISR changed (a failover, a fenced broker, an "
                               "AlterPartition from its leader); only the fields that changed are set.",
    "CONFIG_RECORD": "A config was set (or, with a null value, removed) for a topic or a broker.",
    "FENCE_BROKER_RECORD": "A broker was fenced: it missed heartbeats for broker.session.timeout.ms or finished a "
                           "controlled shutdown. It leads nothing and is in no ISR.",
    "UNFENCE_BROKER_RECORD": "A broker was unfenced: it caught up with the metadata log and may lead again.",
    "BROKER_REGISTRATION_CHANGE_RECORD": "A broker's registration changed (Kafka 4.1 fences with this record): "
                                         "fenced 1 fences it, -1 unfences it, 0 leaves it; inControlledShutdown 1 "
                                         "starts a controlled shutdown.",
    "REMOVE_TOPIC_RECORD": "A topic was deleted.",
    "FEATURE_LEVEL_RECORD": "A feature's finalized level (metadata.version ...), written once when the cluster "
                            "was formatted.",
    "PRODUCER_IDS_RECORD": "A broker was given the next block of producer ids (for idempotent and transactional "
                           "producers).",
    "LeaderChange": "A control record: the first record of every leader epoch, naming the leader, the voters and "
                    "who voted for it. Records of earlier epochs commit only once a majority holds this one.",
    "SnapshotHeader": "A control record: the start of a snapshot (KIP-630).",
    "SnapshotFooter": "A control record: the end of a snapshot (KIP-630).",
}
#: The events of KRaft mode's controllers and brokers, shown beside the quorum's own (kind ``quorum``).
KRAFT_EVENTS = (kraft.ControllerActivated, kraft.ControllerDeactivated, kraft.BrokerRegisteredWithController,
                kraft.BrokerRegistrationRefused, kraft.BrokerFenced, kraft.BrokerUnfenced,
                kraft.BrokerControlledShutdownStarted)


def is_quorum_traffic(event: Event) -> bool:
    """True for the quorum's events (votes, BeginQuorumEpoch, elections, snapshots) and registrations and fencing."""
    return event.kind == "quorum" or isinstance(event, KRAFT_EVENTS)


def record_details(entry: MetadataEntry | None) -> Text:
    """The selected record: where it is, its type, its fields one per line, and what it means."""
    if entry is None:
        return Text(ABOUT, style="dim")
    text = Text(f"offset {entry.offset}", style="bold")
    text.append(f" · leader epoch {entry.epoch} · ", "dim")
    text.append(("control record " if entry.control else "") + entry.record_type + "\n", "bold")
    try:
        parsed = json.loads(entry.text)
    except ValueError:
        text.append(entry.text + "\n", "bold #e6194b")
    else:
        data = parsed.get("data", parsed) if isinstance(parsed, dict) and not entry.control else parsed
        if not entry.control and isinstance(parsed, dict):
            text.append(f"version {parsed.get('version')}\n", "dim")
        for name, value in (data.items() if isinstance(data, dict) else ()):
            text.append(f"  {name}: ", "bold")
            text.append(json.dumps(value) + "\n")
    meaning = MEANINGS.get(entry.record_type)
    if meaning:
        text.append("\n" + meaning + "\n", "italic")
    text.append("\n" + ABOUT, "dim")
    return text


class QuorumScreen(LabScreen):
    """Controllers and registrations on top, the metadata log as a lane, the selected record and the traffic below."""

    VIEW_TITLE = "quorum"

    def compose_body(self) -> ComposeResult:
        with Row(id="quorum-top"):
            controllers = ControllerTable(id="controllers")
            controllers.border_title = "controllers (Raft voters of __cluster_metadata-0)"
            yield controllers
            registrations = RegistrationTable(id="registrations")
            registrations.border_title = "broker registrations"
            yield registrations
        with Box(id="metadata-lane-box") as box:
            box.border_title = "__cluster_metadata-0: the newest committed records (← → select, end follows)"
            yield MetadataLane(id="metadata-lane")
        with Row(id="quorum-bottom"):
            with VerticalScroll(id="metadata-record-box") as record_box:
                record_box.border_title = "selected record"
                yield Static(id="metadata-record")
            traffic = EventList(id="quorum-events", show_cursor=False)
            traffic.border_title = "votes, BeginQuorumEpoch, elections, fencing: newest first"
            yield traffic

    def on_mount(self) -> None:
        self.query_one(MetadataLane).focus()

    def draw(self, frame: Frame, selection: Selection) -> None:
        status = frame.quorum
        if status is None:
            if frame.request.quorum:
                # ZooKeeper mode has no quorum; the app shows the znode tree instead.
                self._show_record(Text("This cluster runs in ZooKeeper mode: it has no controller quorum.", "dim"))
            return
        now = frame.clock.now_ms
        self.query_one(ControllerTable).show(status, now)
        self.query_one(RegistrationTable).show(status.registrations, now)
        lane = self.query_one(MetadataLane)
        lane.show(status.records)
        self._show_record(record_details(lane.selected))
        rows = self.lab.events.rows(("quorum",), is_quorum_traffic, fold_internal=False)
        self.query_one("#quorum-events", EventList).show(rows.newest_first())

    def _show_record(self, text: Text) -> None:
        # Not base.show_text: the record's height varies, so its box must lay out again.
        details = self.query_one("#metadata-record", Static)
        if details.content != text:
            details.update(text)

    def on_metadata_lane_selected(self, message: MetadataLane.Selected) -> None:
        self._show_record(record_details(message.entry))

    def frame_request(self, selection: Selection) -> FrameRequest:
        return FrameRequest(quorum=True)
