"""A seeded fault campaign: random crashes, shutdowns, cut links and controller failovers while producing with acks=all.

RF=3, ``min.insync.replicas=2``. Invariants are checked every ``CHECK_EVERY_MS`` of virtual
time, and any exception escaping the engine fails the seed. At the end every link is
healed and every broker restarted, and once the ISRs are full the campaign checks that no
acknowledged record was lost, that acknowledged records kept their order, that all
replicas hold the same bytes below the high watermark, that every topic created during a
failover is online and fully replicated, that every topic deleted during one is gone
from ZooKeeper, from every broker and from disk, and that no process or partition fetch
failed along the way.

Replay one seed: ``python tests/cluster/fault_campaign.py --seed 17 [--journal]``.
Run many: ``python tests/cluster/fault_campaign.py --seeds 0-1999 --jobs 2``.
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from campaign_checks import check_acknowledged, deletion_leftovers, partitions_settled
from campaign_faults import FaultInjector
from campaign_producer import AcksAllProducer
from campaign_runner import SeedOutcome, run_seeds
from cluster_helpers import run_checked

from kafkalab.cluster.cluster import Cluster
from kafkalab.events.failures import ReplicaFetchFailed
from kafkalab.sim.scheduler import DEFAULT_START_MS

TOPIC = "campaign"
PARTITIONS = 2
REPLICATION_FACTOR = 3
#: Topics created only to be deleted while the controller fails (controller faults only).
DOOMED_TOPICS = ("doomed-0", "doomed-1")
FAULTS = 12
CHECK_EVERY_MS = 250.0
CONFIG = {"zookeeper.session.timeout.ms": 6000, "replica.lag.time.max.ms": 8000, "request.timeout.ms": 8000,
          "leader.imbalance.check.interval.seconds": 15}
SETTLE_TIMEOUT_MS = 180_000.0


@dataclass
class CampaignReport:
    """What one seed did and found."""

    seed: int
    actions: list[str]
    acknowledged: int
    failed: int
    journal: list[str]


class CampaignFailure(AssertionError):
    """A campaign check failed; the message names the seed and the command that replays it."""

    def __init__(self, message: str, journal: list[str]) -> None:
        super().__init__(message)
        self.journal = journal


def replay_command(seed: int, faults: int = FAULTS, controller_faults: bool = True) -> str:
    """The command that replays ``seed`` with its journal."""
    options = ("" if faults == FAULTS else f" --faults {faults}") + ("" if controller_faults else " --basic")
    return f"python tests/cluster/fault_campaign.py --seed {seed}{options} --journal"


def _check_nothing_failed(cluster: Cluster) -> None:
    """Faults are the cluster's business: none may stop a process or a follower's fetching unseen."""
    failures = [*cluster.process_failures, *cluster.journal.of_type(ReplicaFetchFailed)]
    if failures:
        raise AssertionError("failed along the way:\n" + "\n".join(event.describe() for event in failures))


def _journal(cluster: Cluster) -> list[str]:
    return [f"{event.time_ms - DEFAULT_START_MS:9.0f} {event.describe()}" for event in cluster.journal]


def _create_doomed_topics(cluster: Cluster) -> list[str]:
    """One-partition topics holding a record, to be deleted during a controller failover."""
    for topic in DOOMED_TOPICS:
        cluster.wait(cluster.create_topic(topic, 1, REPLICATION_FACTOR))
        cluster.wait(cluster.produce(topic, 0, [(b"key", b"doomed")], acks=-1))
    return list(DOOMED_TOPICS)


def _settle(cluster: Cluster, injector: FaultInjector, producers: list[AcksAllProducer]) -> None:
    """Heal, restart and retry until the cluster is whole again; fail if it never is."""
    for a, b in sorted(injector.cut):
        cluster.heal_link(a, b)
    for producer in producers:
        producer.stopped = True

    def settled() -> bool:
        return (all(p.in_flight is None for p in producers) and injector.admin_done()
                and all(partitions_settled(cluster, topic) for topic in (TOPIC, *injector.creations))
                and not any(deletion_leftovers(cluster, topic) for topic in injector.deletions))

    end = cluster.scheduler.now_ms + SETTLE_TIMEOUT_MS
    while cluster.scheduler.now_ms < end and not settled():
        for broker_id, broker in sorted(cluster.brokers.items()):
            if not broker.running:
                cluster.restart_broker(broker_id)
        injector.retry_failed_admin()
        run_checked(cluster, 1000, CHECK_EVERY_MS)
    if not settled():
        leftovers = {topic: found for topic in injector.deletions if (found := deletion_leftovers(cluster, topic))}
        raise AssertionError(f"the cluster did not settle within {SETTLE_TIMEOUT_MS:.0f} ms after healing"
                             f"{'; deleted topics still found: ' + str(leftovers) if leftovers else ''}")


def run_campaign(seed: int, path: Path, faults: int = FAULTS, keep_journal: bool = False,
                 controller_faults: bool = True) -> CampaignReport:
    """Run the campaign for ``seed`` in the data dir ``path``; raise CampaignFailure if a check fails.

    ``controller_faults=False`` injects only the basic faults, as the first campaign did.
    """
    rng = random.Random(seed)
    cluster = Cluster.open(path, brokers=3, seed=seed, broker_config=CONFIG)
    injector = FaultInjector(cluster, rng, controller_faults, [])
    producers: list[AcksAllProducer] = []
    try:
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic(TOPIC, PARTITIONS, REPLICATION_FACTOR, {"min.insync.replicas": 2}))
        if controller_faults:
            injector.doomed_topics = _create_doomed_topics(cluster)
        producers = [AcksAllProducer(cluster, TOPIC, p, random.Random(f"{seed}-{p}")) for p in range(PARTITIONS)]
        for producer in producers:
            producer.send_next()
        for _ in range(faults):
            run_checked(cluster, rng.uniform(200, 6000), CHECK_EVERY_MS)
            injector.inject()
        run_checked(cluster, rng.uniform(200, 6000), CHECK_EVERY_MS)
        injector.stop()
        _settle(cluster, injector, producers)
        check_acknowledged(cluster, TOPIC, producers, REPLICATION_FACTOR)
        _check_nothing_failed(cluster)
    except Exception as failure:
        where = "".join(traceback.format_exception(failure)[-3:])
        raise CampaignFailure(f"seed {seed}: {failure!r}\nactions: {injector.actions}\nraised at: {where}"
                              f"replay: {replay_command(seed, faults, controller_faults)}",
                              _journal(cluster)) from failure
    finally:
        journal = _journal(cluster) if keep_journal else []
        cluster.close()
    return CampaignReport(seed, injector.actions, sum(len(p.acknowledged) for p in producers),
                          sum(p.failed for p in producers), journal)


def _seed_range(text: str) -> range:
    first, _, last = text.partition("-")
    try:
        return range(int(first), int(last or first) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds as A-B (e.g. 0-1999), not {text!r}") from None


def _replay(seed: int, faults: int, controller_faults: bool, print_journal: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="kafkalab-campaign-") as tmp:
        try:
            report = run_campaign(seed, Path(tmp) / "data", faults, print_journal, controller_faults)
        except CampaignFailure as failure:
            if print_journal:
                print("\n".join(failure.journal))
            print(failure, file=sys.stderr)
            return 1
    print("\n".join(report.actions))
    if print_journal:
        print("\n".join(report.journal))
    print(f"seed {report.seed}: {report.acknowledged} records acknowledged, {report.failed} produces failed; "
          f"all checks passed")
    return 0


def outcome_of(seed: int, faults: int = FAULTS, controller_faults: bool = True) -> SeedOutcome:
    """Run ``seed`` in a temporary data dir and say what it checked or why it failed."""
    with tempfile.TemporaryDirectory(prefix="kafkalab-campaign-") as tmp:
        try:
            report = run_campaign(seed, Path(tmp) / "data", faults, controller_faults=controller_faults)
        except CampaignFailure as failure:
            return SeedOutcome(seed, 0, str(failure), replay_command(seed, faults, controller_faults))
    return SeedOutcome(seed, report.acknowledged, None, None)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the fault campaign for one seed or a range of seeds.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--seed", type=int, help="replay one seed")
    which.add_argument("--seeds", type=_seed_range, help="run seeds A-B (inclusive)")
    parser.add_argument("--jobs", type=int, default=1, help="processes running seeds in parallel (with --seeds)")
    parser.add_argument("--progress-every", type=int, default=100, help="seeds between progress lines")
    parser.add_argument("--faults", type=int, default=FAULTS, help="faults per seed")
    parser.add_argument("--basic", action="store_true",
                        help="only the basic faults (links, crashes, shutdowns, restarts), as the first campaign")
    parser.add_argument("--journal", action="store_true", help="print the event journal (with --seed)")
    args = parser.parse_args()
    if args.seed is not None:
        return _replay(args.seed, args.faults, not args.basic, args.journal)
    worker = functools.partial(outcome_of, faults=args.faults, controller_faults=not args.basic)
    return run_seeds(args.seeds, worker, args.jobs, args.progress_every)


if __name__ == "__main__":
    sys.exit(main())
