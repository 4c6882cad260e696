"""A short headless tour printed to the terminal: create, produce, kill the leader, fail over."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from kafkalab.cluster.cluster import Cluster


def run_demo(data_dir: Path, brokers: int, fresh: bool, out: TextIO) -> int:
    """Run the tour on the cluster in ``data_dir`` and print each narrated event."""
    cluster = Cluster.open(data_dir, brokers=None if (data_dir / "kafkalab.json").exists() and not fresh else brokers,
                           fresh=fresh)
    seen = 0
    start_ms = cluster.scheduler.now_ms

    def narrate() -> None:
        nonlocal seen
        for event in cluster.journal.since(seen):
            seconds = (event.time_ms - start_ms) / 1000
            out.write(f"  [{seconds:8.3f}s] {event.describe()}\n")
            seen = event.seq

    try:
        cluster.wait(cluster.start())
        narrate()
        if cluster.snapshot().topic("demo") is None:
            out.write("Creating topic demo (3 partitions, replication factor 3, min.insync.replicas=2)\n")
            cluster.wait(cluster.create_topic("demo", 3, min(3, brokers), {"min.insync.replicas": min(2, brokers)}))
        base = cluster.snapshot().partition("demo", 0)
        out.write(f"Producing 5 records to demo-0 with acks=all (high watermark now {base.high_watermark})\n")
        cluster.wait(cluster.produce("demo", 0, [(f"key-{i}".encode(), f"value {i}".encode()) for i in range(5)]))
        cluster.run_for(500)
        narrate()
        leader = cluster.snapshot().partition("demo", 0).leader
        if leader is not None and len(cluster.brokers) > 1:
            out.write(f"Killing broker {leader}, the leader of demo-0, and waiting for ZooKeeper to notice\n")
            cluster.kill_broker(leader)
            cluster.run_for(20_000)
            narrate()
            out.write(f"Restarting broker {leader}\n")
            cluster.wait(cluster.restart_broker(leader))
            cluster.run_for(35_000)
            narrate()
        view = cluster.snapshot().partition("demo", 0)
        out.write(f"demo-0: leader {view.leader}, ISR {list(view.isr)}, high watermark {view.high_watermark}\n")
        out.write(f"Data is in {cluster.data_dir.path}; the TUI is coming, see `kafkalab --help`.\n")
    finally:
        cluster.close()
    return 0
