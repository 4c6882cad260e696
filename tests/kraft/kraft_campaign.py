"""A seeded fault campaign over a whole KRaft cluster: controllers and brokers killed, restarted, cut off.

Three controllers and three brokers run a replicated topic (min.insync.replicas=2) while
producers send one acks=all record at a time and faults hit controllers and brokers alike.
Checked at every step and at the end:

* Kafka's replication invariants (``kafkalab.cluster.invariants``);
* at most one controller is active per quorum epoch;
* every running broker's applied metadata is a prefix of the active controller's: the image
  the broker built is the one the committed records before its offset build;
* after healing and restarting everything: one active controller, every broker unfenced and
  back in every ISR, and every acknowledged record readable at the offset it was given.

Replay one seed: ``python tests/kraft/kraft_campaign.py --seed 7 [--journal]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from kafkalab.cluster.cluster import Cluster
from kafkalab.cluster.invariants import assert_invariants
from kafkalab.errors import KafkaError
from kafkalab.events.kraft import ControllerActivated
from kafkalab.metadata.image import MetadataImage
from kafkalab.metadata.records import decode_record
from kafkalab.protocol.produce import PartitionProduceResponse
from kafkalab.raft.listeners import decode_committed
from kafkalab.sim.process import Future

TOPIC = "orders"
PARTITIONS = 3
FAULTS = 12
CHECK_EVERY_MS = 100.0
SETTLE_TIMEOUT_MS = 120_000.0
CONTROLLERS = (101, 102, 103)


class CampaignFailure(AssertionError):
    """A check failed; the message names the seed and how to replay it."""


@dataclass
class Producer:
    """One acks=all record at a time to one partition, remembering what was acknowledged where."""

    cluster: Cluster
    partition: int
    rng: random.Random
    acknowledged: dict[int, bytes] = field(default_factory=dict)  # offset -> value
    sequence: int = 0
    in_flight: Future[PartitionProduceResponse] | None = None
    stopped: bool = False

    def send_next(self) -> None:
        if self.stopped:
            return
        value = b"%d-%d" % (self.partition, self.sequence)
        self.sequence += 1
        self.in_flight = self.cluster.produce(TOPIC, self.partition, [(b"key", value)], acks=-1)
        self.in_flight.add_done_callback(lambda future: self._done(value, future))

    def _done(self, value: bytes, future: Future[PartitionProduceResponse]) -> None:
        self.in_flight = None
        if future.error is None and future.result().error.name == "NONE":
            self.acknowledged[future.result().base_offset] = value
        self.cluster.scheduler.call_later(self.rng.uniform(20, 200), self.send_next)


class Monitor:
    """At most one active controller per epoch, and brokers that apply a prefix of the committed metadata."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.active_in_epoch: dict[int, int] = {}
        self.failures: list[str] = []
        cluster.journal.subscribe(self._on_event)

    def _on_event(self, event: object) -> None:
        if isinstance(event, ControllerActivated):
            known = self.active_in_epoch.setdefault(event.epoch, event.node_id)
            if known != event.node_id:
                self.failures.append(f"controllers {known} and {event.node_id} were both active in epoch {event.epoch}")

    def check(self, metadata: bool = False) -> None:
        assert_invariants(self.cluster)
        if metadata:
            self._check_brokers_metadata()
        if self.failures:
            raise AssertionError("; ".join(self.failures))

    def _check_brokers_metadata(self) -> None:
        quorum = self.cluster.quorum
        assert quorum is not None
        active = quorum.active
        if active is None or active.raft is None:
            return
        committed = [decode_record(value) for batch in decode_committed(
            active.raft.log.read(0, 1 << 30, committed_only=True)) if not batch.is_control
            for value in batch.records]
        offsets = [offset for batch in decode_committed(active.raft.log.read(0, 1 << 30, committed_only=True))
                   if not batch.is_control for offset in range(batch.base_offset, batch.last_offset + 1)]
        for broker_id, broker in sorted(self.cluster.brokers.items()):
            link = broker.quorum
            if link is None or not broker.running:
                continue
            applied = link.image.offset
            if applied > active.image.offset:
                continue  # this broker heard a high watermark the new leader has not committed again yet
            expected = MetadataImage()
            expected.replay_all(record for record, offset in zip(committed, offsets, strict=True) if offset <= applied)
            mine = (link.image.topics, link.image.configs, link.image.brokers, link.image.features)
            if mine != (expected.topics, expected.configs, expected.brokers, expected.features):
                raise AssertionError(f"broker {broker_id}'s metadata at offset {applied} is not what the committed "
                                     f"records before it build")


class Faults:
    """One random fault or repair at a time, on controllers and brokers alike."""

    def __init__(self, cluster: Cluster, rng: random.Random) -> None:
        self.cluster = cluster
        self.rng = rng
        self.cut: set[tuple[str, str]] = set()
        self.actions: list[str] = []

    def inject(self) -> None:
        quorum = self.cluster.quorum
        assert quorum is not None
        running_controllers = [n for n, node in quorum.nodes.items() if node.running]
        stopped_controllers = [n for n, node in quorum.nodes.items() if not node.running]
        running = [b for b, broker in self.cluster.brokers.items() if broker.running]
        stopped = [b for b, broker in self.cluster.brokers.items() if not broker.running]
        choices = ["cut broker", "cut controllers"]
        if self.cut:
            choices += ["heal", "heal"]
        if len(running_controllers) > 1:
            choices += ["kill controller", "kill active controller"]
        if stopped_controllers:
            choices += ["restart controller"] * 2
        if len(running) > 1:
            choices += ["kill broker", "shutdown broker"]
        if stopped:
            choices += ["restart broker"] * 2
        choice = self.rng.choice(choices)
        now = self.cluster.scheduler.now_ms
        if choice == "kill controller" or (choice == "kill active controller" and quorum.active is None):
            victim = self.rng.choice(running_controllers)
            self.cluster.kill_controller(victim)
        elif choice == "kill active controller":
            assert quorum.active is not None
            victim = quorum.active.node_id
            self.cluster.kill_controller(victim)
        elif choice == "restart controller":
            victim = self.rng.choice(stopped_controllers)
            self.cluster.restart_controller(victim)
        elif choice == "kill broker":
            victim = self.rng.choice(running)
            self.cluster.kill_broker(victim)
        elif choice == "shutdown broker":
            victim = self.rng.choice(running)
            self.cluster.shutdown_broker(victim)
        elif choice == "restart broker":
            victim = self.rng.choice(stopped)
            if not self.cluster.brokers[victim].running:
                self.cluster.restart_broker(victim)
        elif choice == "heal":
            a, b = self.rng.choice(sorted(self.cut))
            self.cut.discard((a, b))
            self.cluster.heal_link(a, b)
            victim = f"{a}-{b}"
        else:
            pair = (f"broker-{self.rng.choice(list(self.cluster.brokers))}" if choice == "cut broker"
                    else f"controller-{self.rng.choice(CONTROLLERS)}", f"controller-{self.rng.choice(CONTROLLERS)}")
            if pair[0] == pair[1]:
                self.actions.append(f"{now:.0f}: nothing")
                return
            a, b = sorted(pair)
            self.cut.add((a, b))
            self.cluster.cut_link(a, b)
            victim = f"{a}-{b}"
        self.actions.append(f"{now:.0f}: {choice} {victim}")


def _run_checked(cluster: Cluster, monitor: Monitor, duration_ms: float) -> None:
    end = cluster.scheduler.now_ms + duration_ms
    while cluster.scheduler.now_ms < end:
        cluster.run_for(min(CHECK_EVERY_MS, end - cluster.scheduler.now_ms))
        monitor.check()


def _whole(cluster: Cluster, producers: list[Producer]) -> bool:
    quorum = cluster.quorum
    assert quorum is not None
    active = quorum.active
    if active is None or any(p.in_flight is not None for p in producers):
        return False
    if not all(b.running and b.quorum is not None and not b.quorum.fenced for b in cluster.brokers.values()):
        return False
    topic = cluster.snapshot().topic(TOPIC)
    return topic is not None and all(p.leader is not None and len(p.isr) == 3 for p in topic.partitions)


def _check_acknowledged(cluster: Cluster, producers: list[Producer]) -> None:
    for producer in producers:
        records = {r.offset: r.value for r in cluster.wait(cluster.fetch(TOPIC, producer.partition, 0, 1 << 24))}
        for offset, value in sorted(producer.acknowledged.items()):
            if records.get(offset) != value:
                raise AssertionError(f"{TOPIC}-{producer.partition}: acknowledged {value!r} at offset {offset}, "
                                     f"found {records.get(offset)!r}")


def run_campaign(seed: int, path: Path, faults: int = FAULTS) -> list[str]:
    """Run the campaign for ``seed`` in ``path``; the faults it injected, or CampaignFailure."""
    rng = random.Random(seed)
    cluster = Cluster.open(path, brokers=3, seed=seed, mode="kraft")
    monitor = Monitor(cluster)
    injector = Faults(cluster, rng)
    producers: list[Producer] = []
    try:
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic(TOPIC, PARTITIONS, 3, {"min.insync.replicas": 2}))
        producers = [Producer(cluster, p, random.Random(f"{seed}-{p}")) for p in range(PARTITIONS)]
        for producer in producers:
            producer.send_next()
        for _ in range(faults):
            _run_checked(cluster, monitor, rng.uniform(300, 6000))
            monitor.check(metadata=True)
            injector.inject()
        _run_checked(cluster, monitor, rng.uniform(300, 6000))
        for a, b in sorted(injector.cut):
            cluster.heal_link(a, b)
        for producer in producers:
            producer.stopped = True
        quorum = cluster.quorum
        assert quorum is not None
        end = cluster.scheduler.now_ms + SETTLE_TIMEOUT_MS
        while not _whole(cluster, producers):
            if cluster.scheduler.now_ms > end:
                raise AssertionError(f"the cluster was not whole again within {SETTLE_TIMEOUT_MS:.0f} ms of healing")
            for node_id, node in quorum.nodes.items():
                if not node.running:
                    cluster.restart_controller(node_id)
            for broker_id, broker in cluster.brokers.items():
                if not broker.running:
                    cluster.restart_broker(broker_id)
            _run_checked(cluster, monitor, 1000)
        monitor.check(metadata=True)
        _check_acknowledged(cluster, producers)
        if cluster.process_failures:
            raise AssertionError(f"processes failed: {[f.describe() for f in cluster.process_failures]}")
    except (AssertionError, KafkaError) as failure:
        where = "".join(traceback.format_exception(failure)[-3:])
        raise CampaignFailure(f"seed {seed}: {failure}\nfaults: {injector.actions}\nraised at: {where}"
                              f"replay: python tests/kraft/kraft_campaign.py --seed {seed} --journal") from failure
    finally:
        journal = [f"{e.time_ms:.1f} {e.describe()}" for e in cluster.journal]
        cluster.close()
        if "--journal" in sys.argv:
            print("\n".join(journal))
    return injector.actions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--seeds", help="a range A-B")
    parser.add_argument("--journal", action="store_true")
    args = parser.parse_args()
    first, _, last = (args.seeds or "0-9").partition("-")
    seeds = [args.seed] if args.seed is not None else list(range(int(first), int(last) + 1))
    failed = 0
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="kafkalab-kraft-campaign-") as tmp:
            try:
                run_campaign(seed, Path(tmp) / "data")
            except CampaignFailure as failure:
                failed += 1
                print(failure)
    print(f"{len(seeds) - failed}/{len(seeds)} seeds passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
