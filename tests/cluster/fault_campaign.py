"""A seeded fault campaign: random crashes, restarts, shutdowns and cut links while producing with acks=all.

RF=3, ``min.insync.replicas=2``. Invariants are checked every ``CHECK_EVERY_MS`` of virtual
time; at the end every link is healed and every broker restarted, and once the ISRs are
full the campaign checks that no acknowledged record was lost, that acknowledged records
kept their order, and that all replicas hold the same bytes below the high watermark.

Replay one seed: ``python tests/cluster/fault_campaign.py --seed 17 [--journal]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from cluster_helpers import run_checked

from kafkalab.cluster.cluster import Cluster
from kafkalab.cluster.invariants import hosted_replicas, log_bytes
from kafkalab.coordination.server import COORDINATOR_NODE
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future
from kafkalab.sim.scheduler import DEFAULT_START_MS

TOPIC = "campaign"
PARTITIONS = 2
FAULTS = 12
CHECK_EVERY_MS = 250.0
CONFIG = {"zookeeper.session.timeout.ms": 6000, "replica.lag.time.max.ms": 8000, "request.timeout.ms": 8000,
          "leader.imbalance.check.interval.seconds": 15}
SETTLE_TIMEOUT_MS = 180_000.0


@dataclass
class Producer:
    """Produces one record at a time to one partition with acks=all, remembering what was acknowledged."""

    cluster: Cluster
    partition: int
    rng: random.Random
    acknowledged: list[tuple[int, int]] = field(default_factory=list)  # (sequence, offset)
    failed: int = 0
    sequence: int = 0
    in_flight: Future | None = None
    stopped: bool = False

    def value(self, sequence: int) -> bytes:
        return b"%d-%d" % (self.partition, sequence)

    def send_next(self) -> None:
        if self.stopped:
            return
        sequence, self.sequence = self.sequence, self.sequence + 1
        self.in_flight = self.cluster.produce(TOPIC, self.partition, [(b"key", self.value(sequence))], acks=-1)
        self.in_flight.add_done_callback(lambda future: self._done(sequence, future))

    def _done(self, sequence: int, future: Future) -> None:
        self.in_flight = None
        if future.error is None:
            self.acknowledged.append((sequence, future.result().base_offset))
        else:
            self.failed += 1
        self.cluster.scheduler.call_later(self.rng.uniform(20, 200), self.send_next)


@dataclass
class CampaignReport:
    """What one seed did and found."""

    seed: int
    actions: list[str]
    acknowledged: int
    failed: int
    journal: list[str]


class CampaignFailure(AssertionError):
    """A campaign check failed; the message names the seed to replay."""

    journal: list[str] = []


def _random_fault(cluster: Cluster, rng: random.Random, cut: set[tuple[str, str]]) -> str:
    """Apply one random fault (or repair) and describe it."""
    running = [b for b, broker in sorted(cluster.brokers.items()) if broker.running]
    stopped = [b for b, broker in sorted(cluster.brokers.items()) if not broker.running]
    nodes = [broker.node for broker in cluster.brokers.values()] + [COORDINATOR_NODE]
    choices = ["cut", "cut"]
    if cut:
        choices += ["heal", "heal"]
    if len(running) > 1:
        choices += ["kill", "kill", "shutdown"]
    if stopped:
        choices += ["restart", "restart", "restart"]
    choice = rng.choice(choices)
    if choice == "kill":
        victim = rng.choice(running)
        cluster.kill_broker(victim)
        return f"kill {victim}"
    if choice == "shutdown":
        victim = rng.choice(running)
        cluster.shutdown_broker(victim)
        return f"shutdown {victim}"
    if choice == "restart":
        back = rng.choice(stopped)
        if not cluster.brokers[back].running:
            cluster.restart_broker(back)
        return f"restart {back}"
    if choice == "heal":
        a, b = rng.choice(sorted(cut))
        cut.discard((a, b))
        cluster.heal_link(a, b)
        return f"heal {a}-{b}"
    a, b = sorted(rng.sample(nodes, 2))
    cut.add((a, b))
    cluster.cut_link(a, b)
    return f"cut {a}-{b}"


def _settled(cluster: Cluster) -> bool:
    if any(not broker.running for broker in cluster.brokers.values()):
        return False
    topic = cluster.snapshot().topic(TOPIC)
    for view in topic.partitions:
        if view.leader is None or len(view.isr) != len(view.replicas):
            return False
        if any(not r.online or r.log_end_offset != view.log_end_offset or r.high_watermark != view.log_end_offset
               for r in view.replica_views):
            return False
    return True


def _check_outcome(cluster: Cluster, producers: list[Producer]) -> None:
    for producer in producers:
        tp = TopicPartition(TOPIC, producer.partition)
        records = cluster.wait(cluster.fetch(TOPIC, producer.partition, 0, max_bytes=50_000_000))
        stored = {record.offset: record.value for record in records}
        for sequence, offset in producer.acknowledged:
            if stored.get(offset) != producer.value(sequence):
                raise AssertionError(f"{tp}: acknowledged record {producer.value(sequence)!r} at offset {offset} "
                                     f"is lost (found {stored.get(offset)!r})")
        offsets = [offset for _, offset in sorted(producer.acknowledged)]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            raise AssertionError(f"{tp}: acknowledged records are out of order: {offsets}")
        replicas = hosted_replicas(cluster, tp)
        high_watermark = min(replica.high_watermark for replica in replicas.values())
        contents = {broker_id: log_bytes(cluster.brokers[broker_id].replica_log(tp), 0, high_watermark)
                    for broker_id in replicas}
        if len(set(contents.values())) != 1 or len(replicas) != 3:
            raise AssertionError(f"{tp}: replicas differ below the high watermark {high_watermark}: "
                                 f"{ {b: len(c) for b, c in contents.items()} } bytes")


def _journal(cluster: Cluster) -> list[str]:
    return [f"{event.time_ms - DEFAULT_START_MS:9.0f} {event.describe()}" for event in cluster.journal]


def run_campaign(seed: int, path: Path, faults: int = FAULTS, keep_journal: bool = False) -> CampaignReport:
    """Run the campaign for ``seed`` in the data dir ``path``; raise CampaignFailure if a check fails."""
    rng = random.Random(seed)
    cluster = Cluster.open(path, brokers=3, seed=seed, broker_config=CONFIG)
    actions: list[str] = []
    producers: list[Producer] = []
    try:
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic(TOPIC, PARTITIONS, 3, {"min.insync.replicas": 2}))
        producers = [Producer(cluster, p, random.Random(f"{seed}-{p}")) for p in range(PARTITIONS)]
        for producer in producers:
            producer.send_next()
        cut: set[tuple[str, str]] = set()
        for _ in range(faults):
            run_checked(cluster, rng.uniform(200, 6000), CHECK_EVERY_MS)
            actions.append(f"{cluster.scheduler.now_ms - DEFAULT_START_MS:.0f} ms: "
                           f"{_random_fault(cluster, rng, cut)}")
        run_checked(cluster, rng.uniform(200, 6000), CHECK_EVERY_MS)
        for a, b in sorted(cut):
            cluster.heal_link(a, b)
        for producer in producers:
            producer.stopped = True
        end = cluster.scheduler.now_ms + SETTLE_TIMEOUT_MS
        while cluster.scheduler.now_ms < end and not (
                all(p.in_flight is None for p in producers) and _settled(cluster)):
            for broker_id, broker in sorted(cluster.brokers.items()):
                if not broker.running:
                    cluster.restart_broker(broker_id)
            run_checked(cluster, 1000, CHECK_EVERY_MS)
        if not _settled(cluster) or any(p.in_flight is not None for p in producers):
            raise AssertionError(f"the cluster did not settle within {SETTLE_TIMEOUT_MS:.0f} ms after healing")
        _check_outcome(cluster, producers)
    except Exception as failure:
        where = "".join(traceback.format_exception(failure)[-3:])
        error = CampaignFailure(f"seed {seed}: {failure!r}\nactions: {actions}\nraised at: {where}replay: "
                                f"python tests/cluster/fault_campaign.py --seed {seed} --journal")
        error.journal = _journal(cluster)
        raise error from failure
    finally:
        journal = _journal(cluster) if keep_journal else []
        cluster.close()
    return CampaignReport(seed, actions, sum(len(p.acknowledged) for p in producers),
                          sum(p.failed for p in producers), journal)


def main() -> int:
    parser = argparse.ArgumentParser(description="Replay the fault campaign for one seed.")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--faults", type=int, default=FAULTS)
    parser.add_argument("--journal", action="store_true", help="print the event journal")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kafkalab-campaign-") as tmp:
        try:
            report = run_campaign(args.seed, Path(tmp) / "data", args.faults, keep_journal=args.journal)
        except CampaignFailure as failure:
            if args.journal:
                print("\n".join(failure.journal))
            print(failure, file=sys.stderr)
            return 1
    print("\n".join(report.actions))
    if args.journal:
        print("\n".join(report.journal))
    print(f"seed {report.seed}: {report.acknowledged} records acknowledged, {report.failed} produces failed; "
          f"all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
