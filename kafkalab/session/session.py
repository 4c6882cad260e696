"""The session every action runs against: one cluster, the user's clients and a record of results.

The TUI, the scenario runner and the lesson engine each hold one ``Session``; actions
never reach past it into engine internals. The session remembers what expectations
need: records consumed, where each produced key went, the last error.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from kafkalab.cluster.cluster import Cluster
from kafkalab.session.clients import SessionClients
from kafkalab.sim.scheduler import Scheduler, TimerGroup


class Session:
    """One cluster and everything a user has started on it."""

    def __init__(self, cluster: Cluster, seed: int = 0, custom_partitioner: str | None = None) -> None:
        self.cluster = cluster
        #: A dotted path (``package.module:function``) that ``partitioner: custom`` uses.
        self.custom_partitioner = custom_partitioner
        self.group = TimerGroup(cluster.scheduler, "session")
        self.rng = random.Random(seed)
        self.consumed_by_client: Counter[tuple[str, str]] = Counter()
        #: Records a consumer got at or below an offset it had already seen in that partition.
        self.out_of_order: Counter[tuple[str, str]] = Counter()
        self._last_offsets: dict[tuple[str, str, str, int], int] = {}
        self.key_partitions: dict[tuple[str, str], set[int]] = {}
        self.last_error: str | None = None
        #: Bumped whenever something above changes, so waits know when to look again.
        self.version = 0
        #: Called with (start time, ``ActionOutcome``) after every action, e.g. by a Recorder;
        #: typed loosely because outcomes belong to the actions layer above the session.
        self.on_outcome: list[Callable[[float, Any], None]] = []
        self.clients = SessionClients(self)

    @property
    def scheduler(self) -> Scheduler:
        """The cluster's scheduler."""
        return self.cluster.scheduler

    def record_produced(self, topic: str, key: str | None, partition: int) -> None:
        """Remember where a keyed record went, for ``key_partition`` expectations."""
        if key is not None:
            self.key_partitions.setdefault((topic, key), set()).add(partition)
            self.version += 1

    def record_consumed(self, group: str, client_id: str, records: Sequence[Any]) -> None:
        """Count records a consumer returned and note any that came out of offset order."""
        if not records:
            return
        self.version += 1
        self.consumed_by_client[(group, client_id)] += len(records)
        for record in records:
            key = (group, client_id, record.topic, record.partition)
            if record.offset <= self._last_offsets.get(key, -1):
                self.out_of_order[(group, client_id)] += 1
            self._last_offsets[key] = record.offset

    def close(self) -> None:
        """Stop the session's clients and timers."""
        self.clients.close()
        self.group.cancel_all()
