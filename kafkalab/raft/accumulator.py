"""The leader's pending appends, gathered into batches (Kafka's ``BatchAccumulator``).

``append`` assigns offsets at once (the caller learns where its records will be) and
the records wait up to ``controller.quorum.append.linger.ms`` so that many small appends
become one batch; a batch never exceeds 8 MiB (``MAX_BATCH_SIZE_BYTES``). Records still
waiting when the leader loses its epoch are dropped with it, as in Kafka.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from kafkalab.raft.snapshots import MAX_BATCH_SIZE_BYTES


class BatchAccumulator:
    """Records appended in ``epoch`` from ``next_offset``, waiting to be written."""

    def __init__(self, epoch: int, next_offset: int, linger_ms: float) -> None:
        self.epoch = epoch
        self.next_offset = next_offset
        self._linger_ms = linger_ms
        self._completed: list[tuple[int, list[bytes]]] = []
        self._current: list[bytes] = []
        self._current_base = next_offset
        self._current_bytes = 0
        self._drain_at_ms = math.inf

    def append(self, records: Sequence[bytes], now_ms: float) -> int:
        """Queue ``records``; return the offset the last of them will have."""
        for value in records:
            if self._current and self._current_bytes + len(value) > MAX_BATCH_SIZE_BYTES:
                self._completed.append((self._current_base, self._current))
                self._current, self._current_bytes, self._current_base = [], 0, self.next_offset
            if not self._current and not self._completed:
                self._drain_at_ms = now_ms + self._linger_ms
            self._current.append(value)
            self._current_bytes += len(value)
            self.next_offset += 1
        return self.next_offset - 1

    def time_until_drain(self, now_ms: float) -> float:
        """0 when batches are due (or full), infinite when nothing waits."""
        if self._completed:
            return 0.0
        return max(0.0, self._drain_at_ms - now_ms) if self._current else math.inf

    def drain(self) -> list[tuple[int, list[bytes]]]:
        """Every waiting batch as ``(base offset, records)``, oldest first; the accumulator is empty afterwards."""
        batches = self._completed + ([(self._current_base, self._current)] if self._current else [])
        self._completed, self._current, self._current_bytes, self._drain_at_ms = [], [], 0, math.inf
        self._current_base = self.next_offset
        return batches
