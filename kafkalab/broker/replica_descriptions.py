"""What a broker tells views of its replicas, kept between snapshots and redone only where something changed.

A snapshot asks every broker for every replica it hosts, for every frame the TUI draws, and
most replicas have not changed since the last one. A ``Partition`` and its ``PartitionLog``
name every change a view shows (role, leader, epoch, ISR and high watermark; appends,
truncation, retention, DeleteRecords and compaction) and a replica's start as they happen
(``mark``), so a refresh describes just those replicas again instead of looking at all of them.

Each description that comes out different gets the next stamp of this broker's incarnation, so
a reader that remembers the stamp it last saw (``changed_since``) rebuilds the views of only the
partitions that moved, and the broker's totals (leaders, followers, bytes) are kept as they go.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType

from kafkalab.broker.partition import Partition
from kafkalab.protocol.types import TopicPartition
from kafkalab.views import HostedReplica, ReplicaChanges

#: Tells one set of descriptions from another (a restarted broker's), whose stamps mean nothing to it.
_incarnations = itertools.count(1)


class ReplicaDescriptions:
    """One broker's kept replica descriptions."""

    def __init__(self, last_stable_offset: Callable[[Partition], int]) -> None:
        self._last_stable_offset = last_stable_offset
        self._incarnation = next(_incarnations)
        self._described: dict[TopicPartition, HostedReplica] = {}
        self._view = MappingProxyType(self._described)
        #: Replicas named by a change since the last refresh.
        self._dirty: set[TopicPartition] = set()
        #: Something a view shows of ``tp`` changed, or its replica started here. The set's own ``add``: a log's
        #: every append and a partition's every high-watermark move call it, without a Python frame.
        self.mark: Callable[[TopicPartition], None] = self._dirty.add
        #: Partitions whose last stable offset the last refresh read from the producer state.
        self._unstable: set[TopicPartition] = set()
        #: Each replica's stamp when its description last changed or it went, the most recent last.
        self._stamps: dict[TopicPartition, int] = {}
        self._stamp = 0
        #: Stamps at or below it were forgotten (replicas long gone): a reader from before learns nothing.
        self._forgotten = 0
        self._leaders = self._followers = self._size_bytes = 0

    def describe(self, hosted: Mapping[TopicPartition, Partition], unstable: Collection[tuple[str, int]],
                 only: TopicPartition | None = None) -> dict[TopicPartition, HostedReplica]:
        """The descriptions of ``hosted`` (every replica of the broker), or just ``only``'s if it is one."""
        self.refresh(hosted, unstable)
        if only is None:
            return dict(self._described)
        return {only: self._described[only]} if only in self._described else {}

    def changed_since(self, stamp: tuple[int, int] | None, hosted: Mapping[TopicPartition, Partition],
                      unstable: Collection[tuple[str, int]]) -> ReplicaChanges:
        """Every description, with the partitions whose description changed after ``stamp`` (one this gave)."""
        self.refresh(hosted, unstable)
        changed: frozenset[TopicPartition] | None = None
        if stamp is not None and stamp[0] == self._incarnation and stamp[1] >= self._forgotten:
            since = stamp[1]
            moved = []
            for tp, at in reversed(self._stamps.items()):
                if at <= since:
                    break
                moved.append(tp)
            changed = frozenset(moved)
        return ReplicaChanges((self._incarnation, self._stamp), changed, self._view, self._leaders,
                              self._followers, self._size_bytes)

    def refresh(self, hosted: Mapping[TopicPartition, Partition], unstable: Collection[tuple[str, int]]) -> None:
        """Describe again the replicas marked since the last refresh, those gone, and those in a transaction.

        A partition in ``unstable`` (an open or unreplicated transaction), or in it last time, is described
        afresh: its last stable offset moves with the producer state, which marks nothing.
        """
        dirty, described = self._dirty, self._described
        if len(hosted) != len(described):  # a replica gone unnamed: ``stale`` says so, and this catches most
            dirty.update(hosted.keys() ^ described.keys())
        now_unstable = {TopicPartition(topic, partition) for topic, partition in unstable}
        dirty.update(now_unstable)
        dirty.update(self._unstable)
        self._unstable = now_unstable
        for tp in dirty:
            p = hosted.get(tp)
            new = None if p is None else self._describe(tp, p, tp in now_unstable)
            old = described.get(tp)
            if new == old:
                continue
            if old is not None:
                self._count(old, -1)
            if new is None:
                del described[tp]
            else:
                described[tp] = new
                self._count(new, 1)
            self._stamp += 1
            self._stamps.pop(tp, None)
            self._stamps[tp] = self._stamp
        dirty.clear()
        if len(self._stamps) > 2 * len(described) + 64:
            self._forget_gone()

    def stale(self, hosted: Mapping[TopicPartition, Partition],
              unstable: Collection[tuple[str, int]]) -> list[TopicPartition]:
        """Replicas whose kept description differs from one made now although no change named them, or that
        came or went unnamed (a bug)."""
        found = []
        for tp in hosted.keys() | self._described.keys():
            if tp in self._dirty or tp in unstable:
                continue
            partition, described = hosted.get(tp), self._described.get(tp)
            if partition is None or described != self._describe(tp, partition, unstable=False):
                found.append(tp)
        return found

    def _count(self, replica: HostedReplica, sign: int) -> None:
        if replica.is_leader:
            self._leaders += sign
        elif replica.leader_id >= 0:
            self._followers += sign
        self._size_bytes += sign * replica.size_bytes

    def _forget_gone(self) -> None:
        """Drop the oldest stamps of replicas no longer here (a lab that keeps creating and deleting topics)."""
        keep = len(self._described) + 32
        for tp in list(self._stamps):
            if len(self._stamps) <= keep:
                break
            if tp not in self._described:
                self._forgotten = max(self._forgotten, self._stamps.pop(tp))

    def _describe(self, tp: TopicPartition, p: Partition, unstable: bool) -> HostedReplica:
        log, hw, leading = p.log, p.high_watermark, p.is_leader
        return HostedReplica(tp[0], tp[1], leading, p.leader_id, p.leader_epoch, p.isr, log.log_start_offset, hw,
                             log.log_end_offset, log.size_in_bytes,
                             -1 if not leading else self._last_stable_offset(p) if unstable else hw)
