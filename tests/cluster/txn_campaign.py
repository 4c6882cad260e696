"""A seeded transaction campaign: brokers die mid-transaction, yet read_committed sees each transaction whole or not at all.

Two transactional ids run transactions of one to six records over three partitions (RF=3,
``min.insync.replicas=2``), committing or aborting. Around most transactions one fault
strikes: the transactional id's coordinator or a leader of a partition the transaction
writes is crashed (sometimes losing the ``.txnindex`` writes it never flushed, which log
recovery must rebuild), or shut down cleanly, at one of four moments: before the sends,
after some of them, as the commit or abort is asked for, or once the coordinator has
written PrepareCommit/PrepareAbort (the outcome is decided, the markers are not all
written). Sometimes the application itself dies mid-transaction and a new instance fences
it. A victim comes back a few seconds later.

A commit or abort that returned fixes the outcome; one that failed leaves it unknown, and a
new instance of the producer takes over. A read_committed consumer reads throughout, and a
fresh one reads everything at the end. Checks: no reader ever sees a record of an aborted
transaction nor a record twice; each partition gives a producer's records in the order
sent; every committed transaction is seen whole, an unknown one whole or not at all; once
settled no transaction is left open (every LSO reaches its high watermark, every id is
Empty or Complete*); and no engine process failed along the way.

Replay one seed: ``python tests/cluster/txn_campaign.py --seed 17 [--journal]``.
Run many: ``python tests/cluster/txn_campaign.py --seeds 0-999 --jobs 2``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from campaign_runner import SeedOutcome, run_seeds

from kafkalab.clients.consumer import Consumer
from kafkalab.clients.producer import Producer
from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.journal import Event
from kafkalab.events.transactions import TransactionStateChanged
from kafkalab.protocol.types import TopicPartition
from kafkalab.server.broker import BrokerState
from kafkalab.sim.process import Future
from kafkalab.sim.scheduler import DEFAULT_START_MS

TOPIC = "orders"
PARTITIONS = 3
TRANSACTIONAL_IDS = ("campaign-a", "campaign-b")
CONFIG = {"group.initial.rebalance.delay.ms": 0, "zookeeper.session.timeout.ms": 6000,
          "replica.lag.time.max.ms": 8000}
#: How long a commit, an abort or an init may take across a failover before its outcome counts as unknown.
END_TIMEOUT_MS = 150_000.0
MOMENTS = ("before sends", "after sends", "at the end", "once decided")
KILLS = ("crash", "crash losing its .txnindex writes", "clean shutdown")


@dataclass
class CampaignReport:
    """What one seed did and found."""

    seed: int
    actions: list[str]
    committed: int
    aborted: int
    unknown: int
    records_checked: int
    journal: list[str]


class CampaignFailure(AssertionError):
    """A check failed; the message names the seed and the command that replays it."""

    def __init__(self, message: str, journal: list[str]) -> None:
        super().__init__(message)
        self.journal = journal


def replay_command(seed: int) -> str:
    return f"python tests/cluster/txn_campaign.py --seed {seed} --journal"


@dataclass
class Outcomes:
    """The transactions by outcome, each a list of its values; and every value in the order it was sent."""

    committed: list[list[str]] = field(default_factory=list)
    aborted: list[list[str]] = field(default_factory=list)
    unknown: list[list[str]] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)


class Campaign:
    """One seed's cluster, producers, reader and faults."""

    def __init__(self, cluster: Cluster, rng: random.Random) -> None:
        self.cluster = cluster
        self.rng = rng
        self.actions: list[str] = []
        self.outcomes = Outcomes()
        self.instances = dict.fromkeys(TRANSACTIONAL_IDS, 0)
        self.producers = {tid: self._new_producer(tid) for tid in TRANSACTIONAL_IDS}
        self.reader = self._reader()
        self.read_live: list[str] = []
        #: Clean shutdowns under way.
        self.stopping: list[Future[None]] = []
        #: (transactional id, victim, how) to strike once that id's coordinator decides the transaction.
        self.on_decided: tuple[str, int, str] | None = None
        cluster.journal.subscribe(self._strike_once_decided)

    def _new_producer(self, transactional_id: str) -> Producer:
        self.instances[transactional_id] += 1
        producer = self.cluster.producer(transactional_id=transactional_id,
                                         client_id=f"{transactional_id}-{self.instances[transactional_id]}")
        if not self._settle(producer.init_transactions()):
            raise AssertionError(f"{transactional_id}: InitProducerId failed within {END_TIMEOUT_MS:.0f} ms")
        return producer

    def _reader(self) -> Consumer:
        # Assigned, not subscribed: no group coordinator is needed while brokers are down.
        consumer = self.cluster.consumer(auto_offset_reset="earliest", isolation_level="read_committed",
                                         enable_auto_commit=False)
        consumer.assign([TopicPartition(TOPIC, p) for p in range(PARTITIONS)])
        return consumer

    def _settle(self, future: Future) -> bool:
        """True if the future completed without error within the time a failover takes."""
        try:
            self.cluster.wait(future, timeout_ms=END_TIMEOUT_MS)
        except KafkaError:
            return False
        return True

    def poll_live(self, rounds: int = 1) -> None:
        for _ in range(rounds):
            self.read_live += [r.value.decode() for r in self.cluster.wait(self.reader.poll(200)) if r.value is not None]

    # -- faults ----------------------------------------------------------------

    def _victim(self, transactional_id: str, partitions: set[int]) -> int | None:
        view = self.cluster.snapshot()
        if self.rng.random() < 0.5:
            transaction = view.transaction(transactional_id)
            return transaction.coordinator if transaction is not None else None
        partition = view.partition(TOPIC, self.rng.choice(sorted(partitions)))
        return partition.leader if partition is not None else None

    def _strike(self, victim: int, how: str) -> None:
        broker = self.cluster.brokers[victim]
        if not broker.running:
            return
        self.actions.append(f"{self.cluster.scheduler.now_ms - DEFAULT_START_MS:9.0f} {how}: broker {victim}")
        # It comes back on its own a little later, whatever the campaign is waiting for meanwhile.
        self.cluster.scheduler.call_later(self.rng.uniform(1000, 5000), self._bring_back, victim)
        if how == "clean shutdown":
            self.stopping.append(self.cluster.shutdown_broker(victim))
            return
        logs = [log for p in range(PARTITIONS) if (log := broker.replica_log(TopicPartition(TOPIC, p))) is not None]
        self.cluster.kill_broker(victim)
        if how == KILLS[1]:
            for log in logs:
                for index in log.directory.glob("*.txnindex"):
                    index.unlink()

    def _bring_back(self, victim: int) -> None:
        broker = self.cluster.brokers[victim]
        if broker.state is BrokerState.PENDING_CONTROLLED_SHUTDOWN:
            self.cluster.scheduler.call_later(500, self._bring_back, victim)
        elif not broker.running:
            self.cluster.restart_broker(victim)

    def _strike_once_decided(self, event: Event) -> None:
        armed = self.on_decided
        if (armed is not None and isinstance(event, TransactionStateChanged) and event.transactional_id == armed[0]
                and event.new_state in ("PrepareCommit", "PrepareAbort")):
            self.on_decided = None
            self.cluster.scheduler.call_soon(self._strike, armed[1], armed[2])

    def restart_stopped(self) -> None:
        for stopping in self.stopping:
            try:
                self.cluster.wait(stopping, timeout_ms=END_TIMEOUT_MS)
            except KafkaError as exc:
                if exc.error != Errors.BROKER_NOT_AVAILABLE:  # a crash may end a clean shutdown
                    raise
        self.stopping.clear()
        for broker_id, broker in sorted(self.cluster.brokers.items()):
            if not broker.running:
                self.cluster.wait(self.cluster.restart_broker(broker_id), timeout_ms=END_TIMEOUT_MS)

    # -- one transaction -------------------------------------------------------

    def transaction(self, number: int) -> None:
        rng = self.rng
        tid = rng.choice(TRANSACTIONAL_IDS)
        producer = self.producers[tid]
        sends = [(f"{tid}/t{number}/{i}/p{partition}", partition)
                 for i, partition in enumerate(rng.randrange(PARTITIONS) for _ in range(rng.randint(1, 6)))]
        commit = rng.random() < 0.6
        fault = rng.random() < 0.8
        moment, how = rng.choice(MOMENTS), rng.choice(KILLS)
        victim = self._victim(tid, {p for _, p in sends}) if fault else None
        app_dies = rng.random() < 0.1
        self.actions.append(f"{self.cluster.scheduler.now_ms - DEFAULT_START_MS:9.0f} {tid} transaction {number}: "
                            f"{len(sends)} record(s), {'commit' if commit else 'abort'}"
                            + (f"; {how} of broker {victim} {moment}" if victim is not None else "")
                            + ("; the application dies before ending it" if app_dies else ""))
        producer.begin_transaction()
        if victim is not None and moment == "before sends":
            self._strike(victim, how)
        for index, (value, partition) in enumerate(sends):
            self.outcomes.sent[value] = len(self.outcomes.sent)
            producer.send(TOPIC, value, partition=partition)
            if victim is not None and moment == "after sends" and index == len(sends) // 2:
                self.cluster.run_for(rng.uniform(0, 50))
                self._strike(victim, how)
        values = [value for value, _ in sends]
        if app_dies:
            self.cluster.run_for(rng.uniform(0, 200))
            producer.crash()
            self.producers[tid] = self._new_producer(tid)  # fences the dead instance, aborting what it left open
            self.outcomes.aborted.append(values)
        else:
            if victim is not None and moment == "once decided":
                self.on_decided = (tid, victim, how)
            ending = producer.commit_transaction() if commit else producer.abort_transaction()
            if victim is not None and moment == "at the end":
                self._strike(victim, how)
            if self._settle(ending):
                (self.outcomes.committed if commit else self.outcomes.aborted).append(values)
            else:
                self.outcomes.unknown.append(values)
                producer.crash()
                self.producers[tid] = self._new_producer(tid)
            self.on_decided = None
        self.poll_live()
        self.cluster.run_for(rng.uniform(500, 3000))

    # -- the end ---------------------------------------------------------------

    def read_all(self) -> list[str]:
        consumer = self._reader()
        values: list[str] = []
        for _ in range(40):
            values += [r.value.decode() for r in self.cluster.wait(consumer.poll(500)) if r.value is not None]
        self.cluster.wait(consumer.close())
        return values

    def check(self) -> int:
        cluster, outcomes = self.cluster, self.outcomes
        cluster.run_for(10_000)
        self.restart_stopped()
        cluster.run_for(30_000)
        self.poll_live(20)
        view = cluster.snapshot()
        for partition in view.topic(TOPIC).partitions:
            assert partition.last_stable_offset == partition.high_watermark, (
                f"{TOPIC}-{partition.partition}: LSO {partition.last_stable_offset} is below the high watermark "
                f"{partition.high_watermark}: a transaction was left open")
        for tid in TRANSACTIONAL_IDS:
            transaction = view.transaction(tid)
            assert transaction is not None and transaction.state in ("Empty", "CompleteCommit", "CompleteAbort"), (
                f"{tid} is {transaction.state if transaction else 'not loaded'} after the cluster settled")
        final = self.read_all()
        for name, seen in (("the live reader", self.read_live), ("a fresh reader", final)):
            assert len(seen) == len(set(seen)), f"{name} read a record twice"
            assert set(seen) <= set(outcomes.sent), f"{name} read values nobody sent"
            for values in outcomes.aborted:
                assert not set(values) & set(seen), f"{name} read aborted {values}"
            for values in outcomes.unknown:
                assert set(values) <= set(final) or not set(values) & set(seen), f"{name} read {values} in part"
            for partition_values in _by_partition_and_producer(seen):
                order = [outcomes.sent[v] for v in partition_values]
                assert order == sorted(order), f"{name} read {partition_values} out of the order sent"
        for values in outcomes.committed:
            assert set(values) <= set(final), f"committed {values} was not read whole"
        assert set(self.read_live) <= set(final), "the live reader read what a fresh one does not"
        failures = cluster.process_failures
        assert not failures, "failed along the way:\n" + "\n".join(e.describe() for e in failures)
        return len(final)


def _by_partition_and_producer(seen: list[str]) -> list[list[str]]:
    """The values read, split by partition and transactional id (both written in the value), in read order."""
    groups: dict[tuple[str, str], list[str]] = {}
    for value in seen:
        tid, _, _, partition = value.split("/")
        groups.setdefault((tid, partition), []).append(value)
    return list(groups.values())


def _journal(cluster: Cluster) -> list[str]:
    return [f"{event.time_ms - DEFAULT_START_MS:9.0f} {event.describe()}" for event in cluster.journal]


def run_campaign(seed: int, path: Path, keep_journal: bool = False) -> CampaignReport:
    """Run the campaign for ``seed`` in the data dir ``path``; raise CampaignFailure if a check fails."""
    rng = random.Random(seed)
    cluster = Cluster.open(path, brokers=3, seed=seed, broker_config=CONFIG)
    campaign: Campaign | None = None
    try:
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic(TOPIC, PARTITIONS, 3, {"min.insync.replicas": 2}))
        campaign = Campaign(cluster, rng)
        for number in range(rng.randint(6, 12)):
            campaign.transaction(number)
        checked = campaign.check()
    except Exception as failure:
        where = "".join(traceback.format_exception(failure)[-3:])
        actions = "\n".join(campaign.actions) if campaign is not None else ""
        raise CampaignFailure(f"seed {seed}: {failure!r}\nactions:\n{actions}\nraised at: {where}"
                              f"replay: {replay_command(seed)}", _journal(cluster)) from failure
    finally:
        journal = _journal(cluster) if keep_journal else []
        cluster.close()
    outcomes = campaign.outcomes
    return CampaignReport(seed, campaign.actions, len(outcomes.committed), len(outcomes.aborted),
                          len(outcomes.unknown), checked, journal)


def _seed_range(text: str) -> range:
    first, _, last = text.partition("-")
    try:
        return range(int(first), int(last or first) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds as A-B (e.g. 0-999), not {text!r}") from None


def outcome_of(seed: int) -> SeedOutcome:
    """Run ``seed`` in a temporary data dir and say what it checked or why it failed."""
    with tempfile.TemporaryDirectory(prefix="kafkalab-txn-campaign-") as tmp:
        try:
            report = run_campaign(seed, Path(tmp) / "data")
        except CampaignFailure as failure:
            return SeedOutcome(seed, 0, str(failure), replay_command(seed))
    return SeedOutcome(seed, report.records_checked, None, None)


def _replay(seed: int, print_journal: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="kafkalab-txn-campaign-") as tmp:
        try:
            report = run_campaign(seed, Path(tmp) / "data", print_journal)
        except CampaignFailure as failure:
            if print_journal:
                print("\n".join(failure.journal))
            print(failure, file=sys.stderr)
            return 1
    if print_journal:
        print("\n".join(report.journal))
    print("\n".join(report.actions))
    print(f"seed {seed}: {report.committed} committed, {report.aborted} aborted, {report.unknown} unknown; "
          f"{report.records_checked} committed records read back; all checks passed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the transaction campaign for one seed or a range of seeds.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--seed", type=int, help="replay one seed")
    which.add_argument("--seeds", type=_seed_range, help="run seeds A-B (inclusive)")
    parser.add_argument("--jobs", type=int, default=1, help="processes running seeds in parallel (with --seeds)")
    parser.add_argument("--progress-every", type=int, default=50, help="seeds between progress lines")
    parser.add_argument("--journal", action="store_true", help="print the event journal (with --seed)")
    args = parser.parse_args()
    if args.seed is not None:
        return _replay(args.seed, args.journal)
    return run_seeds(args.seeds, outcome_of, args.jobs, args.progress_every)


if __name__ == "__main__":
    sys.exit(main())
