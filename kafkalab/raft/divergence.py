"""Where two Raft logs diverge, decided by epochs alone (Kafka's ``ReplicatedLog.validateOffsetAndEpoch``).

A follower's Fetch says "my log ends at offset O and its last record has epoch E". The
leader looks up where epoch E ends in its own log: if that is at or after O, the
follower's log is a prefix of the leader's and the fetch is valid; otherwise the leader
answers with the diverging epoch (the largest epoch at most E it knows and where that
ends) and the follower truncates to it and asks again. Two replicas holding a record
with the same offset and epoch hold the same log up to it (Raft's log matching), so this
walk back by epochs never cuts below the common prefix. When the follower's position lies
before the leader's oldest snapshot, the answer is that snapshot instead (KIP-630).

Pure functions of a log's offsets and epoch history, so they can be tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from kafkalab.protocol.raft import OffsetAndEpoch


class EpochHistory(Protocol):
    """Where each leader epoch ends in a log (``LeaderEpochFileCache.endOffsetFor``)."""

    def end_offset_for(self, requested_epoch: int, log_end_offset: int) -> tuple[int, int]:
        """``(epoch, end offset)`` of the largest epoch at most ``requested_epoch``, or ``(-1, -1)``."""
        ...


@dataclass(frozen=True)
class LogEpochs:
    """What divergence checks need to know of one replica's log."""

    start_offset: int
    end_offset: int
    last_fetched_epoch: int
    history: EpochHistory
    earliest_snapshot: OffsetAndEpoch | None = None
    latest_snapshot: OffsetAndEpoch | None = None


class FetchPosition(Enum):
    """The three answers to a fetch position (Kafka's ``ValidOffsetAndEpoch.Kind``)."""

    VALID = "valid"
    DIVERGING = "diverging"
    SNAPSHOT = "snapshot"


@dataclass(frozen=True)
class ValidOffsetAndEpoch:
    """Whether a fetch position is valid and, if not, the diverging epoch or the snapshot to fetch."""

    kind: FetchPosition
    offset_and_epoch: OffsetAndEpoch


def end_offset_for_epoch(log: LogEpochs, epoch: int) -> OffsetAndEpoch:
    """The end of the largest epoch at most ``epoch`` in ``log`` (``KafkaMetadataLog.endOffsetForEpoch``).

    An epoch older than everything left in the log answers with the oldest snapshot; an
    unknown one (newer than the log's, or an empty history) with the log's end.
    """
    found_epoch, found_offset = log.history.end_offset_for(epoch, log.end_offset)
    if found_offset < 0:
        return OffsetAndEpoch(log.end_offset, log.last_fetched_epoch)
    snapshot = log.earliest_snapshot
    if snapshot is not None and found_offset == snapshot.offset and found_epoch == epoch:
        return snapshot
    return OffsetAndEpoch(found_offset, found_epoch)


def validate_offset_and_epoch(log: LogEpochs, offset: int, epoch: int) -> ValidOffsetAndEpoch:
    """How the leader answers a fetch at ``offset`` whose previous record has ``epoch``."""
    if log.start_offset == 0 and offset == 0:
        return ValidOffsetAndEpoch(FetchPosition.VALID, OffsetAndEpoch(0, 0))
    snapshot = log.earliest_snapshot
    if snapshot is not None and (offset < log.start_offset
                                 or (offset == log.start_offset and epoch != snapshot.epoch)
                                 or epoch < snapshot.epoch):
        # The follower's position is not in the log any more: it must load the latest snapshot.
        latest = log.latest_snapshot if log.latest_snapshot is not None else snapshot
        return ValidOffsetAndEpoch(FetchPosition.SNAPSHOT, latest)
    end = end_offset_for_epoch(log, epoch)
    if end.epoch != epoch or end.offset < offset:
        return ValidOffsetAndEpoch(FetchPosition.DIVERGING, end)
    return ValidOffsetAndEpoch(FetchPosition.VALID, OffsetAndEpoch(offset, epoch))


def truncation_offset(log: LogEpochs, diverging: OffsetAndEpoch) -> int:
    """Where a follower truncates after the leader answered ``diverging`` (``ReplicatedLog.truncateToEndOffset``)."""
    if diverging.epoch == 0:
        return min(diverging.offset, log.end_offset)
    local = end_offset_for_epoch(log, diverging.epoch)
    if local.epoch == diverging.epoch:
        return min(local.offset, diverging.offset)
    return local.offset
