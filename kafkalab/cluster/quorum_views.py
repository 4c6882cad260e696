"""The controller quorum as the views show it: controllers, broker registrations, the metadata log's records.

Values only, apart from ``quorum.py`` and the KRaft modules it drives, so that the TUI and the
checks that read them load none of KRaft unless a KRaft cluster runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.raft.views import ControllerStatus

#: The type of a metadata record that does not decode.
UNREADABLE = "UNREADABLE"


@dataclass(frozen=True)
class RegistrationStatus:
    """A broker's registration as the committed metadata holds it, and when the active controller last heard it."""

    broker_id: int
    epoch: int
    fenced: bool
    in_controlled_shutdown: bool
    #: The active controller's fencing deadline for it (None: fenced, or no active controller).
    fenced_at_ms: float | None
    #: When the active controller last heard a heartbeat from it (None: fenced, or no active controller).
    last_heartbeat_ms: float | None


@dataclass(frozen=True)
class MetadataEntry:
    """One committed record of the metadata log: where it is, its type, and what it says as Kafka's decoder prints it."""

    offset: int
    #: The leader epoch of the batch that holds it.
    epoch: int
    #: ``TOPIC_RECORD`` ... (``MetadataRecordType``), a control record's type (``LeaderChange`` ...), or
    #: ``UNREADABLE`` (then ``text`` says why).
    record_type: str
    control: bool
    #: The record as JSON: ``{"type":...,"version":...,"data":{...}}``, or a control record's fields.
    text: str


@dataclass(frozen=True)
class QuorumStatus:
    """The quorum at a moment, for the screen that shows it: controllers, registrations, the log's newest records."""

    controllers: tuple[ControllerStatus, ...]
    registrations: tuple[RegistrationStatus, ...]
    records: tuple[MetadataEntry, ...]
