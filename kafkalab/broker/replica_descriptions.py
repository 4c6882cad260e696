"""What a broker tells views of its replicas, kept between snapshots while nothing changed.

A snapshot asks every broker for every replica it hosts, for every frame the TUI draws, and
most replicas have not changed since the last one. A ``Partition`` and its ``PartitionLog``
count the changes a view shows (role, leader, epoch, ISR and high watermark; appends,
truncation, retention, DeleteRecords and compaction), and a description is kept with those
counts and made again only when one moved.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from kafkalab.broker.partition import Partition
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.log import PartitionLog
from kafkalab.views import HostedReplica

#: A kept description: (partition, its change count, its log, the log's change count, the description).
_Kept = tuple[Partition, int, PartitionLog, int, HostedReplica]


class ReplicaDescriptions:
    """One broker's kept replica descriptions."""

    def __init__(self, last_stable_offset: Callable[[Partition], int]) -> None:
        self._last_stable_offset = last_stable_offset
        self._kept: dict[TopicPartition, _Kept] = {}

    def describe(self, hosted: Mapping[TopicPartition, Partition], unstable: Collection[tuple[str, int]],
                 complete: bool) -> dict[TopicPartition, HostedReplica]:
        """``hosted``'s descriptions; ``complete`` when ``hosted`` is every replica (the others are forgotten).

        A partition in ``unstable`` (an open or unreplicated transaction) is described afresh each
        time: its last stable offset moves with the producer state, which no change count follows.
        """
        kept = self._kept
        described = {}
        for tp, p in hosted.items():
            log = p.log
            entry = kept.get(tp)
            if entry is None or entry[0] is not p or entry[1] != p.changes or entry[2] is not log \
                    or entry[3] != log.changes or tp in unstable:
                entry = (p, p.changes, log, log.changes, self._describe(tp, p, tp in unstable))
                kept[tp] = entry
            described[tp] = entry[4]
        if complete and len(kept) > len(hosted):
            for tp in [tp for tp in kept if tp not in hosted]:
                del kept[tp]
        return described

    def stale(self, hosted: Mapping[TopicPartition, Partition],
              unstable: Collection[tuple[str, int]]) -> list[TopicPartition]:
        """Replicas whose kept description differs from one made now although no change count moved (a bug)."""
        return [tp for tp, (partition, changes, log, log_changes, described) in self._kept.items()
                if hosted.get(tp) is partition and partition.changes == changes and partition.log is log
                and log.changes == log_changes and tp not in unstable
                and described != self._describe(tp, partition, unstable=False)]

    def _describe(self, tp: TopicPartition, p: Partition, unstable: bool) -> HostedReplica:
        log, hw, leading = p.log, p.high_watermark, p.is_leader
        return HostedReplica(tp[0], tp[1], leading, p.leader_id, p.leader_epoch, p.isr, log.log_start_offset, hw,
                             log.log_end_offset, log.size_in_bytes,
                             -1 if not leading else self._last_stable_offset(p) if unstable else hw)
