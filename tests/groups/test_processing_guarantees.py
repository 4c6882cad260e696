"""No record skipped or processed twice across rebalances, when commits happen as Kafka documents.

Records count as processed when poll() hands them to the application. With manual
commits the application commits after processing and again in onPartitionsRevoked;
with enable.auto.commit the consumer commits before giving partitions up. Either way a
partition's next owner starts exactly after the last processed record.
"""

from __future__ import annotations

from collections import Counter

import pytest
from group_helpers import group, open_cluster, run_checked

from kafkalab.clients.consumer_loop import PollLoop

TOTAL = 400


class CommitOnRevoke:
    """A rebalance listener that commits what was processed before partitions are taken away."""

    def __init__(self) -> None:
        self.consumer = None

    def on_partitions_revoked(self, partitions):
        return self.consumer.commit_sync()


def _member(cluster, processed, manual: bool) -> PollLoop:
    consumer = cluster.consumer(group_id="g", auto_offset_reset="earliest", enable_auto_commit=not manual,
                                auto_commit_interval_ms=1000)
    listener = CommitOnRevoke()
    listener.consumer = consumer
    consumer.subscribe(["orders"], listener if manual else None)

    def process(records):
        processed.extend(record.value for record in records)
        return consumer.commit_sync() if manual and records else None

    return PollLoop(consumer, process, poll_timeout_ms=50).start()


def _produce_steadily(cluster, total: int, every_ms: float) -> list:
    producer = cluster.producer(linger_ms=0)
    futures = []

    def send_next() -> None:
        futures.append(producer.send("orders", f"v{len(futures)}", key=f"k{len(futures) % 11}"))
        if len(futures) < total:
            cluster.scheduler.call_later(every_ms, send_next)

    send_next()
    return futures


@pytest.mark.parametrize("manual", [True, False], ids=["commit-after-processing", "auto-commit"])
def test_graceful_rebalances_lose_and_repeat_nothing(clusters, manual):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 6, 3))
    processed: list[bytes] = []
    futures = _produce_steadily(cluster, TOTAL, every_ms=50)
    loops = [_member(cluster, processed, manual)]
    run_checked(cluster, 3000, loops)
    loops.append(_member(cluster, processed, manual))  # join
    run_checked(cluster, 5000, loops)
    loops.append(_member(cluster, processed, manual))  # join
    run_checked(cluster, 5000, loops)
    leaving = loops.pop(0)
    cluster.wait(leaving.consumer.close())  # leave
    run_checked(cluster, 5000, loops)
    loops.append(_member(cluster, processed, manual))  # join again
    run_checked(cluster, 10_000, loops)
    assert all(f.done and f.error is None for f in futures)
    counts = Counter(processed)
    assert [value for value, n in counts.items() if n > 1] == []
    assert set(counts) == {f"v{n}".encode() for n in range(TOTAL)}
    assert group(cluster).generation >= 4
