"""The one way tests open clusters: every cluster is closed at the end, and nothing may have failed unread.

``Clusters`` opens clusters for a test (the ``clusters`` fixture in ``tests/conftest.py``, or a
``with Clusters(path)`` block for a fixture of wider scope). On the way out it closes each one,
also when the test failed, and fails the test if a process stopped on an error nobody read
(``ProcessFailed``) or a follower marked a partition failed (``ReplicaFetchFailed``), unless the
test took those failures with ``acknowledge`` and asserted on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from kafkalab.cluster.cluster import Cluster
from kafkalab.events.failures import ProcessFailed, ReplicaFetchFailed
from kafkalab.events.journal import Event


class Clusters:
    """The clusters one test (or one module) opened, closed and checked together."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._opened: list[Cluster] = []
        #: Per cluster, the journal sequence number up to which the test has read the failures.
        self._read: dict[int, int] = {}

    def open(self, path: Path | None = None, brokers: int | None = 3, seed: int | None = 1,
             broker_config: Mapping[str, Any] | None = None, start: bool = True, **options: Any) -> Cluster:
        """Open (and by default start) the cluster in ``path`` (default ``<root>/data``); reopen by passing its path."""
        cluster = Cluster.open(path or self.root / "data", brokers=brokers, seed=seed, broker_config=broker_config,
                               **options)
        self._opened.append(cluster)
        self._read[id(cluster)] = 0
        if start:
            cluster.wait(cluster.start())
        return cluster

    def acknowledge(self, cluster: Cluster) -> list[Event]:
        """The failures of ``cluster`` not read yet, now read: a test that expects failures asserts on these."""
        failures = self._unread(cluster)
        self._read[id(cluster)] = cluster.journal.last_seq
        return failures

    def _unread(self, cluster: Cluster) -> list[Event]:
        after = self._read[id(cluster)]
        failures: list[Event] = [event for event in cluster.process_failures if event.seq > after]
        failures += [event for event in cluster.journal.of_type(ReplicaFetchFailed) if event.seq > after]
        return sorted(failures, key=lambda event: event.seq)

    def close(self) -> list[str]:
        """Close every cluster; the failures nobody acknowledged, one line each."""
        unread: list[str] = []
        for cluster in self._opened:
            cluster.close()
            unread += [_line(event) for event in self._unread(cluster)]
        return unread

    def __enter__(self) -> Clusters:
        return self

    def __exit__(self, error_type: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        unread = self.close()
        if error_type is None:
            assert not unread, "failed with nobody reading it:\n" + "\n".join(unread)


def _line(event: Event) -> str:
    text = f"  {event.name}: {event.describe()}"
    if isinstance(event, ProcessFailed) and event.bug:
        text += " <- a bug"
    return text
