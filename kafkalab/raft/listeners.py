"""How the state machine above Raft (the controller, a broker's metadata loader) hears what is committed.

Kafka's ``RaftClient.Listener``: ``handle_commit`` receives committed batches in offset
order, each exactly once per listener; ``handle_load_snapshot`` replaces the listener's
state with a snapshot (when it starts, or when it fell behind the log start); and
``handle_leader_change`` announces a new leader or epoch. The local leader is announced
only once the listener has applied everything before the leader's epoch start, so an
active controller never acts on a partial state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kafkalab.raft.snapshots import SnapshotContents
from kafkalab.storage.control_records import ControlMessage, decode_control_record
from kafkalab.storage.records import iter_batch_headers, iter_records


@dataclass(frozen=True)
class LeaderAndEpoch:
    """The leader of ``epoch`` (None while unknown)."""

    leader_id: int | None
    epoch: int


@dataclass(frozen=True)
class CommittedBatch:
    """One committed batch of the metadata log: its records' values, or its control messages."""

    base_offset: int
    last_offset: int
    epoch: int
    append_time_ms: int
    size_in_bytes: int
    is_control: bool
    records: tuple[bytes, ...] = ()
    control_records: tuple[ControlMessage, ...] = ()


class RaftListener(Protocol):
    """What a state machine on top of the quorum implements."""

    def handle_commit(self, batches: Sequence[CommittedBatch]) -> None:
        """Apply committed batches, in order."""

    def handle_load_snapshot(self, snapshot: SnapshotContents) -> None:
        """Replace the whole state with ``snapshot`` (records up to ``snapshot.snapshot_id.offset``)."""

    def handle_leader_change(self, leader: LeaderAndEpoch) -> None:
        """The quorum has a new leader or epoch."""


def decode_committed(data: bytes) -> list[CommittedBatch]:
    """The batches in ``data`` (read from the log below the high watermark) as listeners receive them."""
    batches = []
    for position, header in iter_batch_headers(data):
        records = list(iter_records(data, position, header))
        if header.is_control:
            control = tuple(message for record in records
                            if (message := decode_control_record(record)[1]) is not None)
            values: tuple[bytes, ...] = ()
        else:
            control = ()
            values = tuple(record.value or b"" for record in records)
        batches.append(CommittedBatch(header.base_offset, header.last_offset, header.partition_leader_epoch,
                                      header.max_timestamp, header.size_in_bytes, header.is_control, values,
                                      control))
    return batches


#: A listener's next offset before it has read anything (Kafka's ``STARTING_NEXT_OFFSET``).
STARTING = -1


@dataclass(eq=False)
class ListenerContext:
    """One registered listener's progress (Kafka's ``ListenerContext``)."""

    listener: RaftListener
    next_offset: int = STARTING
    last_fired: LeaderAndEpoch = field(default_factory=lambda: LeaderAndEpoch(None, 0))

    def should_fire(self, leader: LeaderAndEpoch) -> bool:
        """A newer epoch, or the leader of the current one became known."""
        if leader == self.last_fired:
            return False
        if leader.epoch > self.last_fired.epoch:
            return True
        return leader.leader_id is not None and self.last_fired.leader_id is None

    def fire_leader_change(self, leader: LeaderAndEpoch) -> None:
        self.last_fired = leader
        self.listener.handle_leader_change(leader)
