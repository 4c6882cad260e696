"""A seeded fault campaign over the KRaft quorum: kills, restarts from disk, clean shutdowns, cut and healed links.

Three or five voters and two observers (brokers) replicate ``__cluster_metadata-0`` while
whoever leads appends metadata records (a topic with its partitions, ISR changes and
configs per append, in Kafka's layout) and every replica's listener snapshots its state. Raft's safety is
checked as it runs and after every step:

* at most one leader per epoch, and no voter grants two candidates its vote in one epoch;
* every committed record any listener was given agrees with what every other was given
  at that offset, and each listener receives the committed log in order, without gaps;
* a committed record sits at the offset its ``append`` returned;
* every broker (observer) applies metadata that is a prefix of the leader's: the records it
  applied are the leader's first ones, and the ``MetadataImage`` it built by replaying them
  (as a KRaft broker does) is the image those committed records build;
* every response leaves a node only once its ``quorum-state`` file is at least that new
  (a granted vote already on disk); every running replica's file matches its epoch;
* no replica stops on an error.

After the faults every link is healed and every replica restarted; a stable leader must
appear within ``LIVENESS_MS``, a last record must commit everywhere, and all replicas
must hold the same batches below the high watermark with nothing committed lost.

Replay one seed: ``python tests/raft/quorum_campaign.py --seed 17 [--voters 5] [--journal]``;
many: ``python tests/raft/quorum_campaign.py --seeds 0-499 --jobs 2``.
"""

from __future__ import annotations

import argparse
import base64
import functools
import multiprocessing
import os
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raft_harness import OBSERVER_ID, Quorum, node_name, parse_snapshot_record

from kafkalab.events.raft import QuorumLeaderElected, QuorumReplicaFailed, QuorumVoteGranted
from kafkalab.metadata.image import MetadataImage
from kafkalab.metadata.records import (
    BROKER_RESOURCE,
    TOPIC_RESOURCE,
    ConfigRecord,
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    TopicRecord,
    decode_record,
    encode_record,
)
from kafkalab.protocol.raft import BeginQuorumEpochResponse, VoteRequest, VoteResponse
from kafkalab.raft.client import RaftNode
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.epoch_states import Role
from kafkalab.raft.listeners import CommittedBatch, LeaderAndEpoch
from kafkalab.raft.snapshots import SnapshotContents
from kafkalab.storage.records import iter_batch_headers

FAULTS = 16
CHECK_EVERY_MS = 100.0
#: After healing, a stable leader must exist within this much virtual time (a few election timeouts).
LIVENESS_MS = 10_000.0
SETTLE_TIMEOUT_MS = 30_000.0
#: Small segments and retention so that rolls, snapshots, log cleaning and FetchSnapshot all happen.
CONFIG = QuorumConfig.build({"metadata.log.segment.bytes": 2048, "metadata.log.segment.min.bytes": 1024,
                             "metadata.max.retention.bytes": 4096})
SNAPSHOT_EVERY_BYTES = 400
MAX_FETCH_BYTES = 1500


#: The brokers: observers of the metadata log that apply it.
BROKER_IDS = (OBSERVER_ID, OBSERVER_ID + 1)


def metadata_records(sequence: int, rng: random.Random) -> list[bytes]:
    """One self-contained change, as a controller writes it: a topic, its partitions, maybe an ISR change and a config.

    Self-contained, so that any prefix of whole appends replays (a truncated append takes its
    records with it).
    """
    name = f"t{sequence}"
    topic_id = base64.urlsafe_b64encode(sequence.to_bytes(16, "big")).decode().rstrip("=")
    records: list[MetadataRecord] = [TopicRecord(name, topic_id)]
    for partition in range(rng.randint(1, 3)):
        replicas = tuple(rng.sample(range(1, 6), 3))
        records.append(PartitionRecord(partition, topic_id, replicas, replicas, replicas[0]))
        if rng.random() < 0.5:
            records.append(PartitionChangeRecord(partition, topic_id, isr=replicas[:2]))
    if rng.random() < 0.3:
        records.append(ConfigRecord(TOPIC_RESOURCE, name, "retention.ms", str(rng.randint(1, 10**6))))
    return [encode_record(record) for record in records]


class MetadataApplier:
    """What a KRaft broker does with the committed log: replay every record into a ``MetadataImage``."""

    def __init__(self, node: RaftNode) -> None:
        self.node = node
        self.image = MetadataImage()
        self.next_offset = 0

    def handle_commit(self, batches: Sequence[CommittedBatch]) -> None:
        for batch in batches:
            if not batch.is_control:
                self.image.replay_all(decode_record(value) for value in batch.records)
            self.next_offset = batch.last_offset + 1

    def handle_load_snapshot(self, snapshot: SnapshotContents) -> None:
        # The harness's snapshots hold each applied record as ``<offset>:<value>``.
        self.image = MetadataImage()
        self.image.replay_all(decode_record(parse_snapshot_record(record)[1]) for record in snapshot.records)
        self.next_offset = snapshot.snapshot_id.offset

    def handle_leader_change(self, leader: LeaderAndEpoch) -> None:
        pass


def _image_state(image: MetadataImage) -> tuple[Any, ...]:
    return image.topics, image.configs, image.brokers, image.features


def check_brokers_follow_the_leader(quorum: Quorum, appliers: dict[int, MetadataApplier]) -> None:
    """Every running broker's applied records are a prefix of the leader's, and its image is theirs replayed."""
    leader = quorum.leader()
    committed = quorum.committed.records
    for broker_id, applier in appliers.items():
        node = quorum.nodes.get(broker_id)
        if node is None or not node.running or node is not applier.node:
            continue
        if leader is not None:
            mine, theirs = quorum.listeners[broker_id].applied, quorum.listeners[leader.node_id].applied
            shared = min(len(mine), len(theirs))
            if mine[:shared] != theirs[:shared]:
                raise AssertionError(f"broker {broker_id} applied records that are not a prefix of leader "
                                     f"{leader.node_id}'s")
        expected = MetadataImage()
        expected.replay_all(decode_record(committed[offset]) for offset in sorted(committed)
                            if offset < applier.next_offset)
        if _image_state(applier.image) != _image_state(expected):
            raise AssertionError(f"broker {broker_id}'s metadata image at offset {applier.next_offset} is not the "
                                 f"image the committed records before it build")


class CampaignFailure(AssertionError):
    """A check failed; the message names the seed and how to replay it."""

    journal: list[str] = []


@dataclass
class CampaignReport:
    """What one seed did and found."""

    seed: int
    voters: int
    actions: list[str]
    appended: int
    committed: int
    elections: int
    snapshots_fetched: int
    logs_cleaned: int
    truncations: int
    liveness_ms: float
    journal: list[str] = field(default_factory=list)


class SafetyMonitor:
    """Checks that hold at every instant, fed by the journal and by every response a node sends."""

    def __init__(self, quorum: Quorum) -> None:
        self.quorum = quorum
        self.leader_of_epoch: dict[int, int] = {}
        self.vote_of: dict[tuple[int, int], int] = {}
        self.failures: list[str] = []
        #: Per replica, the newest epoch its quorum-state file was seen to hold (files never go back).
        self.epoch_on_disk: dict[int, int] = {}
        #: Per replica, the (epoch, vote) its memory and file last agreed on.
        self.agreed: dict[int, tuple[int, int | None]] = {}
        quorum.journal.subscribe(self._on_event)
        quorum.network.response_checks.append(self._check_response)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, QuorumLeaderElected):
            self._leader(event.epoch, event.leader_id)
        elif isinstance(event, QuorumVoteGranted) and not event.pre_vote:
            known = self.vote_of.setdefault((event.voter_id, event.epoch), event.candidate_id)
            if known != event.candidate_id:
                self.failures.append(f"voter {event.voter_id} voted for {known} and {event.candidate_id} in epoch "
                                     f"{event.epoch}")
        elif isinstance(event, QuorumReplicaFailed):
            self.failures.append(f"replica {event.node_id} failed: {event.error}")

    def _leader(self, epoch: int, leader_id: int) -> None:
        known = self.leader_of_epoch.setdefault(epoch, leader_id)
        if known != leader_id:
            self.failures.append(f"two leaders in epoch {epoch}: {known} and {leader_id}")

    def _check_response(self, node: str, request: Any, response: Any) -> None:
        """Before a response leaves ``node``, its quorum-state on disk must already say as much."""
        node_id = next(n for n in self.quorum.all_ids if node_name(n, self.quorum.voter_ids) == node)
        epoch = getattr(response, "leader_epoch", -1)
        if epoch <= self.epoch_on_disk.get(node_id, -1) and not isinstance(response, VoteResponse | BeginQuorumEpochResponse):
            return
        stored = self.quorum.stored_election(node_id)
        self.epoch_on_disk[node_id] = stored["leaderEpoch"]
        if stored["leaderEpoch"] < epoch:
            self.failures.append(f"{node} answered in epoch {epoch} but its quorum-state says {stored['leaderEpoch']}")
        if isinstance(response, VoteResponse) and isinstance(request, VoteRequest) and response.vote_granted \
                and not request.pre_vote and (stored["leaderEpoch"], stored["votedId"]) != (
                    request.candidate_epoch, request.candidate_id):
            self.failures.append(f"{node} granted its vote to {request.candidate_id} in epoch "
                                 f"{request.candidate_epoch} before writing it to quorum-state ({stored})")
        if isinstance(response, BeginQuorumEpochResponse) and response.leader_id >= 0 and (
                stored["leaderEpoch"], stored["leaderId"]) != (response.leader_epoch, response.leader_id):
            self.failures.append(f"{node} acknowledged leader {response.leader_id} in epoch {response.leader_epoch} "
                                 f"before writing it to quorum-state ({stored})")

    def check_now(self) -> None:
        """The checks read from the replicas' state at this instant."""
        for node in self.quorum.running():
            if node.role is Role.LEADER:
                self._leader(node.epoch, node.node_id)
            hw = node.high_watermark
            if hw is not None and hw > node.log.end_offset:
                self.failures.append(f"replica {node.node_id}: high watermark {hw} above its log end "
                                     f"{node.log.end_offset}")
            voted = node.voted_id
            if self.agreed.get(node.node_id) == (node.epoch, voted):
                continue
            stored = self.quorum.stored_election(node.node_id)
            if stored["leaderEpoch"] != node.epoch:
                self.failures.append(f"replica {node.node_id} is in epoch {node.epoch} but its quorum-state says "
                                     f"{stored['leaderEpoch']}")
            if node.role is not Role.RESIGNED and stored["votedId"] >= 0 and voted != stored["votedId"]:
                self.failures.append(f"replica {node.node_id} believes it voted for {voted} in epoch {node.epoch}, "
                                     f"its quorum-state says {stored['votedId']}")
            self.agreed[node.node_id] = (node.epoch, voted)
        if self.failures:
            raise AssertionError("; ".join(self.failures))


class Appender:
    """Appends one unique record at a time to whichever replica leads, remembering the offset it was promised."""

    def __init__(self, quorum: Quorum, rng: random.Random) -> None:
        self.quorum = quorum
        self.rng = rng
        self.promised: dict[bytes, int] = {}
        self.sequence = 0
        self.stopped = False

    def tick(self) -> None:
        if self.stopped:
            return
        leaders = self.quorum.leaders()
        if leaders:
            leader = self.rng.choice(leaders)
            values = metadata_records(self.sequence, self.rng)
            self.sequence += 1
            last = leader.append(values, epoch=leader.epoch)
            for index, value in enumerate(values):
                self.promised[value] = last - (len(values) - 1 - index)
        self.quorum.scheduler.call_later(self.rng.uniform(20, 250), self.tick)

    def check(self) -> None:
        for offset, value in self.quorum.committed.records.items():
            if self.promised.get(value) != offset:
                raise AssertionError(f"record {value!r} is committed at offset {offset} but its append returned "
                                     f"{self.promised.get(value)}")


def _cut(quorum: Quorum, cut: set[tuple[str, str]], a: str, b: str) -> None:
    pair = (min(a, b), max(a, b))
    cut.add(pair)
    quorum.network.cut(*pair)


def _random_fault(quorum: Quorum, rng: random.Random, cut: set[tuple[str, str]]) -> str:
    """Apply one random fault or repair and describe it; half the faults aim at the leader."""
    running = [node.node_id for node in quorum.running()]
    stopped = [n for n in quorum.all_ids if n not in running]
    leader = quorum.leader()
    names = {n: node_name(n, quorum.voter_ids) for n in quorum.all_ids}
    choices = ["cut", "isolate", "partition"]
    if cut:
        choices += ["heal", "heal", "heal all"]
    if len(running) > 1:
        choices += ["kill", "shutdown"]
        if leader is not None:
            choices += ["kill leader", "isolate leader"]
    if stopped:
        choices += ["restart", "restart", "restart"]
    choice = rng.choice(choices)
    if choice in ("kill", "kill leader", "shutdown"):
        victim = leader.node_id if choice == "kill leader" and leader is not None else rng.choice(running)
        if choice == "shutdown":
            quorum.nodes[victim].shutdown()
        else:
            quorum.nodes[victim].kill()
        return f"{choice.split()[0]} {victim}"
    if choice == "restart":
        back = rng.choice(stopped)
        quorum.start(back)
        return f"restart {back}"
    if choice == "heal":
        a, b = rng.choice(sorted(cut))
        cut.discard((a, b))
        quorum.network.heal(a, b)
        return f"heal {a}-{b}"
    if choice == "heal all":
        for a, b in sorted(cut):
            quorum.network.heal(a, b)
        cut.clear()
        return "heal all"
    if choice in ("isolate", "isolate leader"):
        victim = leader.node_id if choice == "isolate leader" and leader is not None else rng.choice(quorum.all_ids)
        for other in quorum.all_ids:
            if other != victim:
                _cut(quorum, cut, names[victim], names[other])
        return f"isolate {names[victim]}"
    if choice == "partition":
        side = set(rng.sample(quorum.all_ids, rng.randint(1, len(quorum.all_ids) - 1)))
        for a in side:
            for b in set(quorum.all_ids) - side:
                _cut(quorum, cut, names[a], names[b])
        return f"partition {sorted(names[n] for n in side)} | {sorted(names[n] for n in set(quorum.all_ids) - side)}"
    a, b = rng.sample(quorum.all_ids, 2)
    _cut(quorum, cut, names[a], names[b])
    return f"cut {names[a]}-{names[b]}"


def _run_checked(quorum: Quorum, monitor: SafetyMonitor, duration_ms: float) -> None:
    end = quorum.scheduler.now_ms + duration_ms
    while quorum.scheduler.now_ms < end:
        quorum.scheduler.run_until(min(quorum.scheduler.now_ms + CHECK_EVERY_MS, end))
        monitor.check_now()


def _batches_below(quorum: Quorum, node_id: int, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """``(base offset, last offset, epoch, crc)`` of the replica's batches between ``start`` and ``end``."""
    log = quorum.nodes[node_id].log
    batches, offset = [], start
    while offset < end:
        data = log.read(offset, 1 << 20)
        if not data:
            break
        for _, header in iter_batch_headers(data):
            if header.base_offset >= end:
                break
            batches.append((header.base_offset, header.last_offset, header.partition_leader_epoch, header.crc))
            offset = header.next_offset
    return batches


def _check_outcome(quorum: Quorum, appender: Appender) -> None:
    leader = quorum.stable_leader()
    assert leader is not None
    hw = leader.high_watermark
    assert hw is not None
    appender.check()
    committed = quorum.committed.records
    for node_id, listener in quorum.listeners.items():
        if listener.next_offset != hw:
            raise AssertionError(f"replica {node_id}'s listener is at offset {listener.next_offset}, the high "
                                 f"watermark is {hw}")
        if dict(listener.applied) != {o: v for o, v in committed.items() if o < hw}:
            raise AssertionError(f"replica {node_id}'s applied state differs from the committed records")
    start = max(node.log.start_offset for node in quorum.running())
    reference = _batches_below(quorum, leader.node_id, start, hw)
    for node in quorum.running():
        if node.high_watermark != hw or _batches_below(quorum, node.node_id, start, hw) != reference:
            raise AssertionError(f"replica {node.node_id} holds different batches below the high watermark {hw}")


def _committed_or_deposed(leader: RaftNode, epoch: int, offset: int) -> bool:
    return not leader.running or leader.epoch != epoch or (leader.high_watermark or 0) > offset


def _append_last(quorum: Quorum, monitor: SafetyMonitor, appender: Appender) -> int:
    """Append a last record to the stable leader until one commits; its offset.

    A leader can lose its epoch before the record commits (it is then truncated, as any
    uncommitted record may be): the record is appended again to the next leader.
    """
    end = quorum.scheduler.now_ms + SETTLE_TIMEOUT_MS
    attempt = 0
    while quorum.scheduler.now_ms < end:
        leader = quorum.stable_leader()
        if leader is None:
            _run_checked(quorum, monitor, 10)
            continue
        value = encode_record(ConfigRecord(BROKER_RESOURCE, "", f"last-{attempt}", "1"))
        attempt += 1
        offset = leader.append([value], epoch=leader.epoch)
        appender.promised[value] = offset
        epoch = leader.epoch
        quorum.run_until(functools.partial(_committed_or_deposed, leader, epoch, offset), SETTLE_TIMEOUT_MS)
        if leader.running and leader.epoch == epoch and (leader.high_watermark or 0) > offset:
            return offset
    raise AssertionError(f"no last record was committed within {SETTLE_TIMEOUT_MS:.0f} ms")


def _journal(quorum: Quorum) -> list[str]:
    return [f"{event.time_ms:9.1f} {event.describe()}" for event in quorum.journal]


def run_campaign(seed: int, path: Path, voters: int = 3, faults: int = FAULTS,
                 keep_journal: bool = False) -> CampaignReport:
    """Run the campaign for ``seed`` in ``path``; raise CampaignFailure if a check fails."""
    rng = random.Random(seed)
    quorum = Quorum(path, tuple(range(1, voters + 1)), BROKER_IDS, seed=seed, config=CONFIG,
                    snapshot_every_bytes=SNAPSHOT_EVERY_BYTES, max_fetch_bytes=MAX_FETCH_BYTES)
    appliers: dict[int, MetadataApplier] = {}

    def attach_applier(node: RaftNode) -> None:
        if not node.is_voter:
            appliers[node.node_id] = MetadataApplier(node)
            node.register(appliers[node.node_id])

    quorum.on_start.append(attach_applier)
    monitor = SafetyMonitor(quorum)
    appender = Appender(quorum, random.Random(f"append-{seed}"))
    actions: list[str] = []
    liveness_ms = 0.0
    try:
        quorum.start_all()
        appender.tick()
        cut: set[tuple[str, str]] = set()
        for _ in range(faults):
            _run_checked(quorum, monitor, rng.uniform(300, 8000))
            check_brokers_follow_the_leader(quorum, appliers)
            actions.append(f"{quorum.scheduler.now_ms:.0f} ms: {_random_fault(quorum, rng, cut)}")
        _run_checked(quorum, monitor, rng.uniform(300, 8000))
        for a, b in sorted(cut):
            quorum.network.heal(a, b)
        healed_at = quorum.scheduler.now_ms
        while True:
            # A replica still shutting down cleanly is restarted once it has stopped.
            for node_id in quorum.all_ids:
                if not quorum.nodes[node_id].running:
                    quorum.start(node_id)
            if quorum.stable_leader() is not None and not any(n.shutting_down for n in quorum.running()):
                break
            if quorum.scheduler.now_ms - healed_at > LIVENESS_MS:
                raise AssertionError(f"no stable leader within {LIVENESS_MS:.0f} ms of healing")
            _run_checked(quorum, monitor, 10)
        liveness_ms = quorum.scheduler.now_ms - healed_at
        appender.stopped = True
        last = _append_last(quorum, monitor, appender)
        if not quorum.run_until(lambda: all(n.high_watermark is not None and n.high_watermark > last
                                            and quorum.listeners[n.node_id].next_offset > last
                                            for n in quorum.running()), SETTLE_TIMEOUT_MS):
            raise AssertionError(f"the last record (offset {last}) was not applied everywhere within "
                                 f"{SETTLE_TIMEOUT_MS:.0f} ms")
        monitor.check_now()
        _check_outcome(quorum, appender)
        check_brokers_follow_the_leader(quorum, appliers)
        leader = quorum.stable_leader()
        assert leader is not None
        for broker_id, applier in appliers.items():
            if applier.next_offset != leader.high_watermark:
                raise AssertionError(f"broker {broker_id} applied the log to {applier.next_offset}, not to the high "
                                     f"watermark {leader.high_watermark}")
    except Exception as failure:
        where = "".join(traceback.format_exception(failure)[-3:])
        error = CampaignFailure(f"seed {seed} ({voters} voters): {failure}\nactions: {actions}\nraised at: {where}"
                                f"replay: python tests/raft/quorum_campaign.py --seed {seed} --voters {voters} "
                                f"--journal")
        error.journal = _journal(quorum)
        raise error from failure
    finally:
        journal = _journal(quorum) if keep_journal else []
        quorum.close()
    events = list(quorum.journal)
    return CampaignReport(
        seed, voters, actions, len(appender.promised), len(quorum.committed.records),
        elections=sum(isinstance(e, QuorumLeaderElected) for e in events),
        snapshots_fetched=sum(e.name == "MetadataSnapshotLoaded" and getattr(e, "fetched_from", -1) >= 0
                              for e in events),
        logs_cleaned=sum(e.name == "MetadataLogCleaned" for e in events),
        truncations=sum(e.name == "QuorumFollowerTruncated" for e in events), liveness_ms=liveness_ms, journal=journal)


def scratch_root() -> str | None:
    """A tmpfs directory for campaign data when there is one: the campaign fsyncs thousands of times, which
    costs milliseconds each on a disk and nothing on tmpfs, and it checks logic, not the disk."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _run_one(args: tuple[int, int, int]) -> tuple[int, int, str | None, CampaignReport | None, float]:
    seed, voters, faults = args
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kafkalab-raft-campaign-", dir=scratch_root()) as tmp:
        try:
            report = run_campaign(seed, Path(tmp), voters, faults)
        except CampaignFailure as failure:
            return seed, voters, str(failure), None, time.perf_counter() - started
    return seed, voters, None, report, time.perf_counter() - started


def _seed_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the KRaft quorum fault campaign.")
    parser.add_argument("--seed", type=int, help="replay one seed")
    parser.add_argument("--seeds", help="a range of seeds, e.g. 0-499")
    parser.add_argument("--voters", type=int, choices=(3, 5), help="only this quorum size (default: both)")
    parser.add_argument("--faults", type=int, default=FAULTS)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--journal", action="store_true", help="print the event journal of a single seed")
    args = parser.parse_args()
    sizes = [args.voters] if args.voters else [3, 5]
    if args.seed is not None:
        with tempfile.TemporaryDirectory(prefix="kafkalab-raft-campaign-", dir=scratch_root()) as tmp:
            try:
                report = run_campaign(args.seed, Path(tmp), sizes[0], args.faults, keep_journal=args.journal)
            except CampaignFailure as failure:
                if args.journal:
                    print("\n".join(failure.journal))
                print(failure, file=sys.stderr)
                return 1
        print("\n".join(report.journal if args.journal else report.actions))
        print(f"seed {report.seed} ({report.voters} voters): {report.appended} appended, {report.committed} committed, "
              f"{report.elections} elections, {report.truncations} truncations, {report.snapshots_fetched} snapshots "
              f"fetched, {report.logs_cleaned} log cleanings, stable leader {report.liveness_ms:.0f} ms after "
              f"healing; all checks passed")
        return 0
    jobs = [(seed, voters, args.faults) for seed in _seed_range(args.seeds or "0-19") for voters in sizes]
    failed = 0
    worst_liveness = 0.0
    started = time.perf_counter()
    with multiprocessing.Pool(args.jobs) as pool:
        for seed, voters, failure, report, seconds in pool.imap_unordered(_run_one, jobs):
            if failure is not None:
                failed += 1
                print(f"FAIL seed {seed} ({voters} voters) in {seconds:.1f} s:\n{failure}\n", flush=True)
            elif report is not None:
                worst_liveness = max(worst_liveness, report.liveness_ms)
    print(f"{len(jobs) - failed}/{len(jobs)} runs passed in {time.perf_counter() - started:.0f} s; slowest stable "
          f"leader after healing: {worst_liveness:.0f} ms")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
