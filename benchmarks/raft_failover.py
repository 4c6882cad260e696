"""KRaft quorum: time from killing the leader to a new one, and metadata append throughput.

Failover: a quorum of ``--voters`` controllers (Kafka 4.1's defaults: election timeout
1 s, fetch timeout 2 s) elects a leader and commits a record; the leader is killed; the
script measures the cluster (virtual) time until every surviving voter follows a new
leader and until a record appended to it is committed, and the wall time the simulation
of that took. Repeated for ``--trials`` seeds.

Throughput: a leader with two followers appends ``--records`` records of 100 bytes, one
``append`` call each (as a controller appends a few records per operation), in one burst
(as when 1,000 partitions are created) and then one per millisecond of cluster time; they
linger ``controller.quorum.append.linger.ms`` into batches. Measured until all are
committed on every voter. Voters fsync every batch, as Kafka's do, so the disk matters:
``--dir`` picks where the logs go (default: a temp dir on the system's temp disk).

Run: ``python benchmarks/raft_failover.py [--voters 3] [--trials 20] [--records 10000] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from kafkalab.events.journal import EventJournal
from kafkalab.raft.client import RaftNode
from kafkalab.raft.epoch_states import Role
from kafkalab.sim.network import Network
from kafkalab.sim.scheduler import Scheduler

VALUE = b"v" * 100


class Quorum:
    """``voters`` controllers on one scheduler, each with its own log directory."""

    def __init__(self, root: Path, voters: int, seed: int) -> None:
        self.scheduler = Scheduler(start_ms=0)
        network = Network(self.scheduler)
        journal = EventJournal(self.scheduler)
        names = {node_id: f"controller-{node_id}" for node_id in range(1, voters + 1)}
        self.nodes = [RaftNode(node_id, names, node_name=name, cluster_id="bench", log_dir=root / name,
                               scheduler=self.scheduler, network=network, journal=journal,
                               rng=random.Random(f"{seed}-{node_id}")) for node_id, name in names.items()]
        for node in self.nodes:
            node.start()

    def stable_leader(self) -> RaftNode | None:
        leaders = [node for node in self.nodes if node.running and node.role is Role.LEADER]
        if len(leaders) != 1:
            return None
        leader = leaders[0]
        if all(node is leader or not node.running or node.leader_and_epoch == leader.leader_and_epoch
               for node in self.nodes):
            return leader
        return None

    def wait_for(self, condition: object, timeout_ms: float = 60_000) -> None:
        assert callable(condition)
        if not self.scheduler.run_while(lambda: not condition(), timeout_ms):
            raise RuntimeError(f"not reached within {timeout_ms} ms of cluster time")

    def committed_on_all(self, offset: int) -> bool:
        return all((node.high_watermark or 0) > offset for node in self.nodes if node.running)

    def close(self) -> None:
        for node in self.nodes:
            node.kill()


def failover(root: Path, voters: int, seed: int) -> tuple[float, float, float, float]:
    """Virtual ms to a new stable leader and to its first commit, then wall and CPU seconds, after killing the leader."""
    quorum = Quorum(root, voters, seed)
    try:
        quorum.wait_for(lambda: quorum.stable_leader() is not None)
        old = quorum.stable_leader()
        assert old is not None
        offset = old.append([VALUE])
        quorum.wait_for(lambda: quorum.committed_on_all(offset))
        started_wall, started_cpu, killed_at = time.perf_counter(), time.process_time(), quorum.scheduler.now_ms
        old.kill()
        quorum.wait_for(lambda: quorum.stable_leader() is not None)
        elected_ms = quorum.scheduler.now_ms - killed_at
        new = quorum.stable_leader()
        assert new is not None and new is not old
        offset = new.append([VALUE])
        quorum.wait_for(lambda: quorum.committed_on_all(offset))
        return (elected_ms, quorum.scheduler.now_ms - killed_at, time.perf_counter() - started_wall,
                time.process_time() - started_cpu)
    finally:
        quorum.close()


def throughput(root: Path, records: int, interval_ms: float) -> tuple[float, float, float]:
    """Records per wall second and per CPU second, and virtual seconds, to commit ``records`` appends on three voters.

    One record per ``append`` call, ``interval_ms`` of cluster time apart (0: all at once).
    """
    quorum = Quorum(root, 3, seed=1)
    try:
        quorum.wait_for(lambda: quorum.stable_leader() is not None)
        leader = quorum.stable_leader()
        assert leader is not None
        started_wall, started_cpu, started = time.perf_counter(), time.process_time(), quorum.scheduler.now_ms
        last = 0
        for _ in range(records):
            last = leader.append([VALUE])
            if interval_ms:
                quorum.scheduler.run_for(interval_ms)
        quorum.wait_for(lambda: quorum.committed_on_all(last), timeout_ms=600_000)
        return (records / (time.perf_counter() - started_wall), records / (time.process_time() - started_cpu),
                (quorum.scheduler.now_ms - started) / 1000)
    finally:
        quorum.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--voters", type=int, default=3)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--dir", help="where the logs go (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kafkalab-raft-bench-", dir=args.dir) as tmp:
        root = Path(tmp)
        results = [failover(root / f"failover-{seed}", args.voters, seed) for seed in range(args.trials)]
        elected, committed, wall, cpu = zip(*results, strict=True)
        print(f"failover, {args.voters} voters, {args.trials} trials (cluster time from kill):")
        for label, values, unit in (("new stable leader", elected, "ms"), ("first commit", committed, "ms"),
                                    ("wall time to simulate", [w * 1000 for w in wall], "ms"),
                                    ("CPU time to simulate", [c * 1000 for c in cpu], "ms")):
            print(f"  {label:22} median {statistics.median(values):7.0f} {unit}, min {min(values):7.0f}, "
                  f"max {max(values):7.0f}")
        for label, interval_ms in (("in one burst", 0.0), ("one per ms of cluster time", 1.0)):
            rate, cpu_rate, virtual_s = throughput(root / f"throughput-{interval_ms}", args.records, interval_ms)
            print(f"append throughput, {args.records} records of {len(VALUE)} bytes {label}, committed on 3 voters: "
                  f"{rate:,.0f} records/s wall ({rate * len(VALUE) / 1e6:.2f} MB/s), {cpu_rate:,.0f} per CPU second, "
                  f"{virtual_s:.2f} s of cluster time")

if __name__ == "__main__":
    main()
