"""The leader epoch history of one replica's log (Kafka's ``LeaderEpochFileCache``, KIP-101).

Each entry says "epoch E started at offset O". A follower that restarts asks the leader
for the end offset of its latest epoch (OffsetsForLeaderEpoch) and truncates to it
instead of to its high watermark, which is what keeps a leader change from losing or
diverging committed data (KIP-101, KIP-279). Every change is written to the partition's
``leader-epoch-checkpoint`` file atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kafkalab.storage.checkpoints import parse_int, read_checkpoint, sync_file, write_checkpoint

LEADER_EPOCH_CHECKPOINT = "leader-epoch-checkpoint"
UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


@dataclass(frozen=True)
class EpochEntry:
    """Leader epoch ``epoch`` began at offset ``start_offset``."""

    epoch: int
    start_offset: int


class LeaderEpochFileCache:
    """Epoch entries ordered by epoch and by start offset, mirrored to a checkpoint file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._entries: list[EpochEntry] = []
        self._unsynced = False
        for entry in read_checkpoint(path, 2):
            self._assign(EpochEntry(parse_int(path, entry, 0), parse_int(path, entry, 1)))

    @classmethod
    def in_directory(cls, directory: Path) -> LeaderEpochFileCache:
        """The cache of the partition whose log lives in ``directory``."""
        return cls(directory / LEADER_EPOCH_CHECKPOINT)

    @property
    def entries(self) -> tuple[EpochEntry, ...]:
        """Every entry, oldest first."""
        return tuple(self._entries)

    @property
    def latest_epoch(self) -> int | None:
        """The newest epoch with an entry, or None when empty."""
        return self._entries[-1].epoch if self._entries else None

    def assign(self, epoch: int, start_offset: int) -> bool:
        """Record that ``epoch`` starts at ``start_offset``; return whether the cache changed.

        The same epoch at a later offset is ignored (an epoch's start never moves forward).
        Anything else that breaks monotonicity removes the conflicting newer entries first,
        as Kafka's ``maybeTruncateNonMonotonicEntries`` does.
        """
        if self._entries:
            latest = self._entries[-1]
            if epoch == latest.epoch and start_offset >= latest.start_offset:
                return False  # the common case: another batch of the current epoch
        changed = self._assign(EpochEntry(epoch, start_offset))
        if changed:
            self._write()
        return changed

    def _assign(self, entry: EpochEntry) -> bool:
        if entry.epoch < 0 or entry.start_offset < 0:
            raise ValueError(f"invalid leader epoch entry {entry}")
        if self._entries:
            latest = self._entries[-1]
            if entry.epoch == latest.epoch and entry.start_offset >= latest.start_offset:
                return False
        while self._entries and (self._entries[-1].epoch >= entry.epoch or self._entries[-1].start_offset >= entry.start_offset):
            self._entries.pop()
        self._entries.append(entry)
        return True

    def end_offset_for(self, requested_epoch: int, log_end_offset: int) -> tuple[int, int]:
        """``(epoch, end offset)`` answering OffsetsForLeaderEpoch for ``requested_epoch`` (Kafka's ``endOffsetFor``).

        The epoch is the largest known one at or below the request and the end offset is
        where the next higher epoch starts, or the log end offset for the latest epoch.
        An undefined or too-new request gets ``(-1, -1)``; one older than every entry gets
        the request itself with the first entry's start offset, as Kafka does since KAFKA-7415.
        """
        undefined = (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)
        if requested_epoch == UNDEFINED_EPOCH or not self._entries:
            return undefined
        if requested_epoch == self._entries[-1].epoch:
            return requested_epoch, log_end_offset
        higher = next((e for e in self._entries if e.epoch > requested_epoch), None)
        if higher is None:
            return undefined
        floor = next((e for e in reversed(self._entries) if e.epoch <= requested_epoch), None)
        if floor is None:
            return requested_epoch, higher.start_offset
        return floor.epoch, higher.start_offset

    def epoch_for_offset(self, offset: int) -> int | None:
        """The epoch in which ``offset`` was written, or None if it precedes every entry."""
        found = None
        for entry in self._entries:
            if entry.start_offset > offset:
                break
            found = entry.epoch
        return found

    def truncate_from_end(self, end_offset: int) -> None:
        """Remove entries starting at or after ``end_offset`` (the log was truncated there)."""
        if end_offset < 0 or not self._entries or self._entries[-1].start_offset < end_offset:
            return
        while self._entries and self._entries[-1].start_offset >= end_offset:
            self._entries.pop()
        self._write()

    def truncate_from_start(self, start_offset: int) -> None:
        """Drop entries wholly before ``start_offset``, moving the epoch in force there to start at it."""
        removed = [entry for entry in self._entries if entry.start_offset <= start_offset]
        if not removed:
            return
        first = EpochEntry(removed[-1].epoch, start_offset)
        if removed == [first]:
            # Unchanged (the first epoch starts at the log start, as after every start of a log that kept all it
            # wrote). Kafka writes the same entries again here; skipping it spares a start a file write and a
            # rename per replica.
            return
        self._entries[:len(removed)] = [first]
        self._write()

    def clear(self) -> None:
        """Forget every entry (the log was emptied)."""
        self._entries.clear()
        self._write()

    def _write(self) -> None:
        # Not fsynced here: the log fsyncs the file (``flush``) before its recovery point passes
        # any record of a new entry, and recovery past the recovery point re-derives entries
        # from the batches themselves. An entry with no record yet is dropped on load anyway.
        # Kafka fsyncs on every assign; deferring keeps electing 1,000 leaders from costing
        # 2,000 fsyncs (the reasoning of KAFKA-15046, which deferred the truncation writes).
        write_checkpoint(self._path, [f"{e.epoch} {e.start_offset}" for e in self._entries], sync=False)
        self._unsynced = True

    def flush(self) -> None:
        """fsync the checkpoint if it changed since the last flush."""
        if self._unsynced and self._path.exists():
            sync_file(self._path)
        self._unsynced = False
