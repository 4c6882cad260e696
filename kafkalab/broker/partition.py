"""One broker's replica of one partition: its role, ISR and high watermark (Kafka's ``Partition``).

As leader it tracks each follower's log end offset and when it last caught up, derives
the high watermark from the in-sync replicas and decides when a follower leaves or
rejoins the ISR. As follower it only holds its log and the high watermark the leader
last reported. ISR changes are proposed here and committed by the controller (KIP-497).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from kafkalab.config import TopicConfig
from kafkalab.protocol.controller_api import PartitionState
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.log import PartitionLog


@dataclass(slots=True, eq=False)
class SessionClock:
    """When a follower's fetch session (KIP-227) last fetched, at the leader.

    Kafka updates every partition of the session on every fetch (``updateFollowerFetchState``);
    the leader here updates only the partitions that changed, and the others read their fetch
    time from this one per-session timestamp (``FollowerState.fetched_ms``).
    """

    fetch_ms: float = 0.0


@dataclass(slots=True)
class FollowerState:
    """The leader's view of one follower (Kafka's ``Replica``)."""

    log_end_offset: int = -1
    last_caught_up_ms: float = 0.0
    last_fetch_leader_end_offset: int = -1
    last_fetch_ms: float = 0.0
    #: The fetch session whose every fetch since the last update fetched this partition unchanged, if any.
    clock: SessionClock | None = None

    def fetched_ms(self) -> float:
        """When the follower last fetched this partition (Kafka's ``lastFetchTimeMs``)."""
        clock = self.clock
        return self.last_fetch_ms if clock is None else max(self.last_fetch_ms, clock.fetch_ms)

    def caught_up_ms(self) -> float:
        """When the follower was last caught up (Kafka's ``lastCaughtUpTimeMs``).

        The session's fetches since this partition's last update found it as that update left it
        (the leader's log end and the follower's fetch offset unchanged, or the partition would
        have been updated): Kafka's ``Replica.updateFetchState`` makes each of them a catch-up when
        the follower was at the leader's end, and changes nothing when it was behind. A fetch
        after the leader appended updates the partition, from these values, before the clock moves.
        """
        clock = self.clock
        if clock is None or self.log_end_offset < self.last_fetch_leader_end_offset:
            return self.last_caught_up_ms
        return max(self.last_caught_up_ms, clock.fetch_ms)

    def detach(self) -> None:
        """Keep the times the session gave so far: the partition leaves the session."""
        self.last_caught_up_ms = self.caught_up_ms()
        self.last_fetch_ms = self.fetched_ms()
        self.clock = None

    def is_caught_up(self, leader_end_offset: int, now_ms: float, lag_max_ms: float) -> bool:
        """At the leader's end, or caught up within ``replica.lag.time.max.ms`` (Kafka's ``ReplicaState.isCaughtUp``)."""
        return leader_end_offset == self.log_end_offset or now_ms - self.caught_up_ms() <= lag_max_ms


class Partition:
    """Role, ISR and high watermark of this broker's replica of ``tp``."""

    def __init__(self, broker_id: int, tp: TopicPartition, log: PartitionLog, config: TopicConfig,
                 high_watermark: int, on_change: Callable[[TopicPartition], None] = lambda tp: None,
                 on_view_change: Callable[[TopicPartition], None] = lambda tp: None) -> None:
        self.broker_id = broker_id
        self.tp = tp
        self.log = log
        self.replicas: tuple[int, ...] = ()
        #: ``min.insync.replicas`` capped at the replication factor (Kafka 3.9 ``Partition.effectiveMinIsr``):
        #: Kafka accepts any min.insync.replicas, and a topic asking for more than it has replicas behaves as
        #: if it asked for all of them. Kept with the config and the replicas it comes from (read by every
        #: append and every high-watermark check).
        self.effective_min_isr = 1
        self.config = config
        self.leader_id = -1
        #: True when this broker leads the partition: ``leader_id == broker_id``, kept beside ``leader_id`` by
        #: the only two methods that set it (``_apply``, ``stop``) as a plain attribute (read per produce request).
        self.is_leader = False
        self.leader_epoch = -1
        self.partition_epoch = -1
        self.controller_epoch = -1
        self.isr: tuple[int, ...] = ()
        #: Told of every change to what a follower's fetch updates or reads here (role, epoch, ISR, a
        #: pending ISR change, high watermark), so the fetch sessions holding it look at it again.
        self._on_change = on_change
        self._pending_isr: tuple[int, ...] | None = None
        #: Told of every change a view shows (role, leader, epoch, ISR, high watermark), of the log's
        #: (``PartitionLog.on_change``) and of this replica's start: the broker's replica descriptions
        #: (``broker/replica_descriptions.py``) redo just the replicas it names.
        self._on_view_change = on_view_change
        log.on_change = partial(on_view_change, tp)  # called after every append: no frame of ours in between
        on_view_change(tp)
        #: Offsets below it are on every ISR member: what consumers may read. A plain attribute, read
        #: about eight times per acks=all request (fetch reads, produce completion); written only
        #: through ``set_high_watermark``, which tells the fetch sessions and views.
        self.high_watermark = min(high_watermark, log.log_end_offset)
        self.followers: dict[int, FollowerState] = {}
        self.leader_epoch_start_offset = 0

    def set_high_watermark(self, value: int) -> None:
        """Move the high watermark and tell those who watch this partition."""
        self.high_watermark = value
        self._changed()

    @property
    def pending_isr(self) -> tuple[int, ...] | None:
        """The ISR change proposed to the controller and not yet answered (KIP-497), if any."""
        return self._pending_isr

    @pending_isr.setter
    def pending_isr(self, value: tuple[int, ...] | None) -> None:
        # While one is pending no other is proposed: its end lets a follower's next fetch expand the ISR.
        self._pending_isr = value
        self._on_change(self.tp)

    def _changed(self) -> None:
        self._on_change(self.tp)
        self._on_view_change(self.tp)

    @property
    def log_end_offset(self) -> int:
        return self.log.log_end_offset

    @property
    def config(self) -> TopicConfig:
        """The topic's settings (a new one takes effect at once, ``effective_min_isr`` too)."""
        return self._config

    @config.setter
    def config(self, config: TopicConfig) -> None:
        self._config = config
        self._count_min_isr()

    def _count_min_isr(self) -> None:
        self.effective_min_isr = min(self._config.min_insync_replicas, max(1, len(self.replicas)))

    @property
    def is_under_min_isr(self) -> bool:
        """True when this leader's committed ISR is smaller than the effective min ISR."""
        return self.is_leader and len(self.isr) < self.effective_min_isr

    @property
    def maximal_isr(self) -> tuple[int, ...]:
        """The ISR used for the high watermark: a pending expansion counts at once (KIP-497)."""
        pending = self._pending_isr
        if pending is None:
            return self.isr
        return tuple(sorted(set(self.isr) | set(pending)))

    # -- role changes --------------------------------------------------------------

    def make_leader(self, state: PartitionState, now_ms: float) -> bool:
        """Become leader at ``state.leader_epoch``; returns False if the state is stale."""
        if state.leader_epoch < self.leader_epoch:
            return False
        new_epoch = state.leader_epoch > self.leader_epoch or not self.is_leader
        self._apply(state)
        if new_epoch:
            # Kafka records where each leader epoch starts, so followers can truncate safely.
            self.log.start_leader_epoch(state.leader_epoch)
            self.leader_epoch_start_offset = self.log.log_end_offset
            self.followers = {replica: FollowerState(last_caught_up_ms=now_ms if replica in state.isr else 0.0)
                              for replica in state.replicas if replica != self.broker_id}
        return True

    def make_follower(self, state: PartitionState) -> bool:
        """Follow ``state.leader``; returns False if the state is stale."""
        if state.leader_epoch < self.leader_epoch:
            return False
        self._apply(state)
        self.followers = {}
        return True

    def _apply(self, state: PartitionState) -> None:
        self._changed()
        self.replicas = state.replicas
        self._count_min_isr()
        self.leader_id = state.leader
        self.is_leader = state.leader == self.broker_id
        self.leader_epoch = state.leader_epoch
        self.partition_epoch = state.partition_epoch
        self.controller_epoch = state.controller_epoch
        self.isr = state.isr
        self._pending_isr = None

    def commit_isr(self, state: PartitionState) -> None:
        """Apply an ISR change the controller committed."""
        self._changed()
        self.isr = state.isr
        self.partition_epoch = state.partition_epoch
        self._pending_isr = None

    def stop(self) -> None:
        """StopReplica without deletion: the replica stays, leading and following nothing."""
        self.leader_id = -1
        self.is_leader = False
        self._changed()

    # -- leader bookkeeping --------------------------------------------------------

    def update_follower(self, replica: int, fetch_offset: int, now_ms: float, clock: SessionClock | None = None) -> bool:
        """Record a follower's fetch: its log end offset and whether it has caught up.

        ``clock`` is the follower's fetch session when later fetches of it will update this
        partition only if it changes (``SessionClock``). Returns True when the follower's log end
        offset moved, the only time Kafka 3.9's ``Partition.updateFollowerFetchState`` tries to
        advance the high watermark.
        """
        follower = self.followers.get(replica)
        if follower is None:
            return False
        leader_end = self.log.log_end_offset
        # Kafka's Replica.updateFetchState: caught up now if it asked for the leader's end,
        # or caught up as of its previous fetch if it reached what the leader had then.
        if fetch_offset >= leader_end:
            last_caught_up_ms = now_ms  # (no earlier time can be later: not asked, as most fetches are here)
        else:
            last_caught_up_ms = follower.caught_up_ms()
            if fetch_offset >= follower.last_fetch_leader_end_offset:
                last_caught_up_ms = max(last_caught_up_ms, follower.fetched_ms())
        follower.last_caught_up_ms = last_caught_up_ms
        moved = follower.log_end_offset != fetch_offset
        follower.log_end_offset = fetch_offset
        follower.last_fetch_leader_end_offset = leader_end
        follower.last_fetch_ms = now_ms
        follower.clock = clock
        return moved

    def maybe_increment_high_watermark(self, now_ms: float, lag_max_ms: float,
                                       is_eligible: Callable[[int], bool]) -> tuple[int, int] | None:
        """Advance the HW as Kafka 3.9's ``Partition.maybeIncrementLeaderHW`` does; returns (old, new) if it moved.

        Under min ISR the HW stands still (KAFKA-15583, since 3.7): acks=1 writes are stored
        but not readable until the ISR recovers. Otherwise it is the smallest log end offset
        of the maximal ISR and of every eligible follower that is caught up and may join it
        (``shouldWaitForReplicaToJoinIsr``), so a rejoining follower is not left behind.
        """
        # ``is_leader`` and ``is_under_min_isr``, read once: a leader asks after every append and follower fetch.
        if not self.is_leader or len(self.isr) < self.effective_min_isr:
            return None
        leader_end = self.log.log_end_offset
        maximal_isr = self.isr if self._pending_isr is None else self.maximal_isr
        new_hw = leader_end
        for replica, follower in self.followers.items():
            if follower.log_end_offset < new_hw and (
                    replica in maximal_isr
                    or (follower.is_caught_up(leader_end, now_ms, lag_max_ms) and is_eligible(replica))):
                new_hw = follower.log_end_offset
        old = self.high_watermark
        if new_hw > old:
            self.set_high_watermark(new_hw)
            return old, new_hw
        return None

    def follower_can_join_isr(self, replica: int, is_eligible: Callable[[int], bool]) -> bool:
        """Kafka's rule: an eligible (live) follower caught up to the HW and past the start of the leader epoch."""
        follower = self.followers.get(replica)
        if follower is None or replica in self.maximal_isr or not is_eligible(replica):
            return False
        return (follower.log_end_offset >= self.high_watermark
                and follower.log_end_offset >= self.leader_epoch_start_offset)

    def out_of_sync_followers(self, now_ms: float, lag_max_ms: float) -> tuple[int, ...]:
        """ISR followers that have not caught up for longer than ``replica.lag.time.max.ms``.

        A follower at the leader's log end stays in sync however long ago it fetched, as in
        Kafka's ``Replica.isCaughtUp``: on a quiet partition only the controller removes a
        follower, when its broker's session expires.
        """
        leader_end = self.log.log_end_offset
        out = []
        for replica in self.isr:
            follower = self.followers.get(replica, FollowerState())
            if replica != self.broker_id and follower.log_end_offset != leader_end \
                    and now_ms - follower.caught_up_ms() > lag_max_ms:
                out.append(replica)
        return tuple(out)

    def update_follower_high_watermark(self, leader_high_watermark: int) -> tuple[int, int] | None:
        """As follower: take the leader's HW, capped at our own log end."""
        new_hw = min(leader_high_watermark, self.log.log_end_offset)
        old = self.high_watermark
        if new_hw != old:
            self.set_high_watermark(new_hw)
            return old, new_hw
        return None
