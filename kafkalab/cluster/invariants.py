"""Kafka's replication invariants, checked against the running engine at any instant.

Tests run ``check_invariants`` after every step, and scenarios may too. Each rule holds in
Apache Kafka at every moment, not only once the cluster has settled: committed partition
state in ZooKeeper is consistent, at most one replica leads at the current leader epoch,
no replica's high watermark passes its log end, every in-sync follower holds exactly
the leader's batches below the leader's high watermark, and a controller has at most one
request in flight to each broker. Two rules are the lab's own: what the views show of a replica
is its state now (a broker keeps its replicas' descriptions between snapshots), and a leader
leaves a follower fetch session's partition alone only while reading it would answer nothing
(it looks only at the partitions that changed, ``broker/fetch_sessions.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafkalab.cluster.view_builder import ViewBuilder
from kafkalab.controller.channel import CONTROL_REQUEST_KINDS
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.log import PartitionLog
from kafkalab.views import ClusterView, HostedReplica, PartitionView

if TYPE_CHECKING:
    from kafkalab.cluster.cluster import Cluster


@dataclass(frozen=True)
class Violation:
    """One broken invariant: what it is about (a partition or a link), the rule and what was seen."""

    subject: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.rule} ({self.detail})"


def log_bytes(log: PartitionLog, start_offset: int, end_offset: int) -> bytes:
    """The stored bytes of the whole batches holding offsets ``start_offset`` to ``end_offset - 1``.

    Batches are found through the offset index, so comparing two replicas costs two
    reads and a byte comparison, not a walk over every batch.
    """
    chunks = []
    for segment in log.log_segments():
        if segment.base_offset >= end_offset:
            break
        first = segment.find_batch(start_offset)
        if first is None:
            continue
        last = segment.find_batch(end_offset)
        chunks.append(segment.read_bytes(first[0], (last[0] if last else segment.size) - first[0]))
    return b"".join(chunks)


def hosted_replicas(cluster: Cluster, tp: TopicPartition) -> dict[int, HostedReplica]:
    """The replicas of ``tp`` on running brokers, by broker id, as each broker describes its own."""
    hosted = {}
    for broker_id, broker in sorted(cluster.brokers.items()):
        replica = broker.describe_replicas(tp).get(tp)
        if replica is not None:
            hosted[broker_id] = replica
    return hosted


def check_invariants(cluster: Cluster) -> list[Violation]:
    """Every invariant broken right now (an empty list when all hold).

    It reads every in-sync follower's log up to the high watermark, so it suits tests and
    scenario-sized logs; checking gigabytes after every step would be slow.
    """
    snapshot = cluster.snapshot()
    violations = (_check_controller_channels(cluster) + _check_descriptions(cluster)
                  + _check_views(cluster, snapshot) + _check_fetch_sessions(cluster))
    for topic in snapshot.topics:
        for view in topic.partitions:
            violations += _check_partition(cluster, view)
    return violations


def assert_invariants(cluster: Cluster) -> None:
    """Raise AssertionError listing every broken invariant."""
    violations = check_invariants(cluster)
    if violations:
        listed = "\n  ".join(str(v) for v in violations)
        raise AssertionError(f"invariants broken at {cluster.scheduler.now_ms:.0f} ms:\n  {listed}")


def _check_controller_channels(cluster: Cluster) -> list[Violation]:
    """Kafka's ``RequestSendThread`` sends a broker's next control request only once the last one is answered."""
    in_flight = Counter((pending.source, pending.destination) for pending in cluster.network.pending_requests()
                        if pending.kind in CONTROL_REQUEST_KINDS)
    return [Violation(f"{source} -> {destination}", "one controller request in flight per broker",
                      f"{count} requests in flight") for (source, destination), count in sorted(in_flight.items())
            if count > 1]


def _check_descriptions(cluster: Cluster) -> list[Violation]:
    """What views show of a replica is its state now: a kept description is made again when it changes."""
    return [Violation(f"{tp} on broker {broker_id}", "a replica's description matches its state",
                      "kept from before a change")
            for broker_id, broker in sorted(cluster.brokers.items()) for tp in broker.stale_descriptions()]


def _check_views(cluster: Cluster, kept: ClusterView) -> list[Violation]:
    """A snapshot rebuilt from what changed since the last one equals one a fresh builder makes from every
    replica's description (which ``_check_descriptions`` holds equal to its state): none missed a change."""
    fresh = ViewBuilder().build(cluster)
    if kept == fresh:
        return []
    differing = [name for name in sorted({t.name for t in kept.topics} | {t.name for t in fresh.topics})
                 if kept.topic(name) != fresh.topic(name)] or ["the cluster"]
    return [Violation(name, "a snapshot equals one built from scratch", "kept from before a change")
            for name in differing]


def _check_fetch_sessions(cluster: Cluster) -> list[Violation]:
    """A leader leaves a follower session's partition alone only while a read of it would answer nothing."""
    return [Violation(f"{tp} on broker {broker_id}", "a fetch session looks at every partition that changed",
                      f"left alone in session {session_id}")
            for broker_id, broker in sorted(cluster.brokers.items())
            for session_id, tp in broker.overlooked_session_partitions()]


def _check_partition(cluster: Cluster, view: PartitionView) -> list[Violation]:
    out: list[Violation] = []

    def broken(rule: str, detail: str) -> None:
        out.append(Violation(view.name, rule, detail))

    isr, replicas = set(view.isr), set(view.replicas)
    if view.leader_epoch >= 0:
        if not isr and cluster.quorum is None:
            # Kafka 3.9 keeps a leaderless partition's last ISR member; with KRaft's eligible
            # leader replicas (KIP-966, Kafka 4.1) the ISR may empty, its members kept as ELR.
            broken("ISR not empty", "ZooKeeper holds an empty ISR")
        if not isr <= replicas:
            broken("ISR within replicas", f"ISR {list(view.isr)}, replicas {list(view.replicas)}")
        if view.leader is not None and view.leader not in isr:
            broken("leader in ISR", f"leader {view.leader}, ISR {list(view.isr)}")
    hosted = hosted_replicas(cluster, TopicPartition(view.topic, view.partition))
    current_leaders = []
    for broker_id, replica in hosted.items():
        where = f"broker {broker_id}"
        if replica.high_watermark > replica.log_end_offset:
            broken("high watermark <= log end offset",
                   f"{where}: HW {replica.high_watermark}, LEO {replica.log_end_offset}")
        if replica.leader_epoch > view.leader_epoch:
            broken("leader epoch never ahead of ZooKeeper",
                   f"{where} is at epoch {replica.leader_epoch}, ZooKeeper at {view.leader_epoch}")
        if replica.is_leader:
            if broker_id not in replica.isr or not set(replica.isr) <= replicas:
                broken("leader's ISR within replicas and holding the leader",
                       f"{where}: ISR {list(replica.isr)}, replicas {list(view.replicas)}")
            if replica.leader_epoch == view.leader_epoch:
                current_leaders.append(broker_id)
    if len(current_leaders) > 1 or (current_leaders and current_leaders[0] != view.leader):
        broken("one leader per partition",
               f"brokers {current_leaders} lead at epoch {view.leader_epoch}; ZooKeeper names {view.leader}")
    if len(current_leaders) == 1:
        out += _check_followers_agree(cluster, view, current_leaders[0], hosted)
    return out


def _check_followers_agree(cluster: Cluster, view: PartitionView, leader_id: int,
                           hosted: dict[int, HostedReplica]) -> list[Violation]:
    """In-sync followers hold the leader's bytes below the leader's high watermark."""
    tp = TopicPartition(view.topic, view.partition)
    leader = hosted[leader_id]
    leader_log = cluster.brokers[leader_id].replica_log(tp)
    out = []
    for broker_id in leader.isr:
        follower = hosted.get(broker_id)
        follower_log = cluster.brokers[broker_id].replica_log(tp) if follower is not None else None
        if broker_id == leader_id or follower is None or follower_log is None or leader_log is None:
            continue
        end = min(leader.high_watermark, follower.log_end_offset)
        # Retention may have deleted a different prefix on each replica.
        start = max(leader.log_start_offset, follower.log_start_offset)
        if start < end and log_bytes(follower_log, start, end) != log_bytes(leader_log, start, end):
            out.append(Violation(view.name, "followers are prefixes of the leader below the high watermark",
                                 f"broker {broker_id} differs from leader {leader_id} between offsets {start} "
                                 f"and {end} (leader HW {leader.high_watermark})"))
    return out
