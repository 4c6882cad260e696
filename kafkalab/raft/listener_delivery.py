"""Bringing the listeners up to the high watermark: snapshots, committed batches, then leader changes.

Kafka 4.1's ``KafkaRaftClient.pollListeners``: after each poll, every registered listener
gets the latest snapshot if it is starting or fell behind the log start, then the committed
batches it has not seen, in order; and then a new leader or epoch, the local leader only
once the listener has applied everything before that leader's epoch start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkalab.events.raft import MetadataSnapshotLoaded
from kafkalab.raft.epoch_states import EpochState, LeaderState, ResignedState
from kafkalab.raft.listeners import STARTING, ListenerContext, RaftListener, decode_committed

if TYPE_CHECKING:
    from kafkalab.raft.client import RaftNode


class ListenerDelivery:
    """The listeners of one replica and how far each has been brought."""

    def __init__(self, node: RaftNode) -> None:
        self.node = node
        self.contexts: list[ListenerContext] = []
        #: The epoch state every listener has heard of: a state's leader and epoch never change
        #: (a transition makes a new state), so until the next one there is nothing to tell.
        self._announced: EpochState | None = None

    def add(self, listener: RaftListener) -> None:
        self.contexts.append(ListenerContext(listener))
        self._announced = None

    def update(self) -> None:
        """Deliver snapshots and committed batches up to the high watermark, then leader changes (``pollListeners``)."""
        high_watermark = self.node.quorum.state.high_watermark
        if high_watermark is not None:
            for context in self.contexts:
                if context.next_offset < high_watermark:  # else it has every committed batch (STARTING is -1)
                    self._deliver(context, high_watermark)
        if self.node.quorum.state is not self._announced:  # checked here: nearly every poll has no news for them
            self._fire_leader_change()

    def _deliver(self, context: ListenerContext, high_watermark: int) -> None:
        """Bring one listener below ``high_watermark`` up to it: the latest snapshot if it starts or fell behind, then batches."""
        latest = self.node.log.latest_snapshot_id
        if latest is not None and (context.next_offset == STARTING or context.next_offset < self.node.log.start_offset):
            if context.next_offset == STARTING and latest not in self.node.fetched_snapshots:
                self.node.journal.emit(MetadataSnapshotLoaded, node_id=self.node.node_id, voter=self.node.is_voter,
                                       end_offset=latest.offset, epoch=latest.epoch, fetched_from=-1)
            context.listener.handle_load_snapshot(self.node.log.read_snapshot(latest))
            context.next_offset = latest.offset
        elif context.next_offset == STARTING:
            context.next_offset = 0
        while context.next_offset < high_watermark:
            data = self.node.log.read(context.next_offset, self.node.max_fetch_bytes, committed_only=True)
            if not data:
                return
            batches = decode_committed(data)
            context.next_offset = batches[-1].last_offset + 1
            context.listener.handle_commit(batches)

    def _fire_leader_change(self) -> None:
        """Tell listeners of a new leader or epoch; the local leader only once they reached its epoch start.

        A resigned leader announces nothing: its epoch's leader is itself, but it no
        longer leads (Kafka would report itself here).
        """
        state = self.node.quorum.state
        if isinstance(state, ResignedState):
            return
        leader = self.node.leader_and_epoch
        waiting = False
        for context in self.contexts:
            if not context.should_fire(leader):
                continue
            if isinstance(state, LeaderState) and context.next_offset < state.epoch_start_offset:
                waiting = True
                continue
            context.fire_leader_change(leader)
        if not waiting:
            self._announced = state
