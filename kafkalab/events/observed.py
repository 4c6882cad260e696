"""Events seen on an attached cluster: what changed between two describe rounds, not what caused it.

On a real cluster kafkalab is a client among others: it sees the brokers' answers to
Metadata, ListOffsets, DescribeGroups and OffsetFetch, one round per interval, and
narrates the difference. Each sentence starts "Observed" so a learner never mistakes it
for the lab's own events, which say why a thing happened; ``explain()`` says what in
Kafka usually causes it. A change that came and went between two rounds is not seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.journal import Event


def _ids(values: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _leader(broker: int | None) -> str:
    return "no leader" if broker is None else f"broker {broker}"


@dataclass(frozen=True)
class Observed(Event):
    """Something seen changed on an attached cluster; ``time_ms`` is the wall clock's, not the lab's virtual time."""

    wall_clock = True


@dataclass(frozen=True)
class ObservedBrokerLeft(Observed):
    """A broker is no longer in the cluster's metadata: its ZooKeeper session expired or the
    KRaft controller fenced it (it stopped, crashed or lost its link). Its leaderships move
    to other in-sync replicas."""

    kind = "broker"
    broker_id: int

    def describe(self) -> str:
        return f"Observed: broker {self.broker_id} left the cluster's metadata."


@dataclass(frozen=True)
class ObservedBrokerJoined(Observed):
    """A broker appeared in the cluster's metadata: it registered (again). It becomes a
    follower of its partitions and rejoins their ISRs once caught up."""

    kind = "broker"
    broker_id: int

    def describe(self) -> str:
        return f"Observed: broker {self.broker_id} joined the cluster's metadata."


@dataclass(frozen=True)
class ObservedControllerMoved(Observed):
    """Another node is the active controller: the previous one stopped or lost its session
    (ZooKeeper mode) or leadership of the metadata quorum (KRaft)."""

    kind = "controller"
    controller_id: int
    previous: int

    def describe(self) -> str:
        return f"Observed: the controller moved from {self.previous} to {self.controller_id}."


@dataclass(frozen=True)
class ObservedTopicCreated(Observed):
    """A topic appeared in the metadata: someone created it (or a client's request auto-created it)."""

    kind = "topic"
    topic: str
    partitions: int
    replication_factor: int

    def describe(self) -> str:
        return (f"Observed: topic {self.topic} appeared with {self.partitions} partition(s), "
                f"replication factor {self.replication_factor}.")


@dataclass(frozen=True)
class ObservedTopicDeleted(Observed):
    """A topic is gone from the metadata: it was deleted."""

    kind = "topic"
    topic: str

    def describe(self) -> str:
        return f"Observed: topic {self.topic} was deleted."


@dataclass(frozen=True)
class ObservedLeaderMoved(Observed):
    """A partition's leader changed. Kafka's controller elects the first live replica of the
    assignment that is in the ISR when the leader's broker leaves, or moves leadership back to
    the preferred replica (auto.leader.rebalance.enable)."""

    kind = "election"
    topic: str
    partition: int
    leader: int | None
    previous_leader: int | None
    leader_epoch: int

    def describe(self) -> str:
        epoch = f", leader epoch {self.leader_epoch}" if self.leader_epoch >= 0 else ""
        return (f"Observed: leader of {self.topic}-{self.partition} moved from {_leader(self.previous_leader)} "
                f"to {_leader(self.leader)}{epoch}.")


@dataclass(frozen=True)
class ObservedIsrShrank(Observed):
    """Replicas left a partition's in-sync replica set: they fell behind for replica.lag.time.max.ms
    or their broker left. acks=all writes no longer wait for them, and are refused once the ISR
    is smaller than min.insync.replicas."""

    kind = "isr"
    topic: str
    partition: int
    removed: tuple[int, ...]
    isr: tuple[int, ...]

    def describe(self) -> str:
        return (f"Observed: ISR of {self.topic}-{self.partition} shrank to {_ids(self.isr)}: "
                f"removed {_ids(self.removed)}.")


@dataclass(frozen=True)
class ObservedIsrExpanded(Observed):
    """Replicas caught up with the leader and rejoined a partition's in-sync replica set."""

    kind = "isr"
    topic: str
    partition: int
    added: tuple[int, ...]
    isr: tuple[int, ...]

    def describe(self) -> str:
        return f"Observed: ISR of {self.topic}-{self.partition} expanded to {_ids(self.isr)}: added {_ids(self.added)}."


@dataclass(frozen=True)
class ObservedMemberJoined(Observed):
    """A consumer joined a group: the coordinator starts a rebalance so the partitions are
    shared among the members again."""

    kind = "group"
    group_id: str
    client_id: str
    member_id: str

    def describe(self) -> str:
        return f"Observed: {self.client_id} joined group {self.group_id}."


@dataclass(frozen=True)
class ObservedMemberLeft(Observed):
    """A consumer left a group: it closed (LeaveGroup), or the coordinator removed it after
    session.timeout.ms without heartbeats or max.poll.interval.ms without a poll."""

    kind = "group"
    group_id: str
    client_id: str
    member_id: str

    def describe(self) -> str:
        return f"Observed: {self.client_id} left group {self.group_id}."


@dataclass(frozen=True)
class ObservedGroupStateChanged(Observed):
    """A group's state changed. PreparingRebalance and CompletingRebalance are a rebalance in
    progress (members rejoin, then the leader's assignment is handed out); Stable means every
    partition has its owner; Empty means no member is left and the committed offsets stay."""

    kind = "group"
    group_id: str
    state: str
    previous: str

    def describe(self) -> str:
        if self.state in ("PreparingRebalance", "CompletingRebalance"):
            return f"Observed: group {self.group_id} is rebalancing ({self.previous} -> {self.state})."
        return f"Observed: group {self.group_id} went from {self.previous} to {self.state}."


@dataclass(frozen=True)
class ObservedRebalance(Observed):
    """A group's assignment changed between two rounds, so it rebalanced in between, even if
    no round saw it in PreparingRebalance."""

    kind = "group"
    group_id: str
    #: ``(client id, partitions)`` after the rebalance.
    assignment: tuple[tuple[str, tuple[str, ...]], ...]

    def describe(self) -> str:
        owners = "; ".join(f"{client} owns {', '.join(parts) or 'nothing'}" for client, parts in self.assignment)
        return f"Observed: group {self.group_id} rebalanced: {owners or 'no members'}."


@dataclass(frozen=True)
class ObservedLagGrowing(Observed):
    """A group's total lag (the high watermarks minus its committed offsets, as
    kafka-consumer-groups.sh reports LAG) grew: producers write faster than the group commits."""

    kind = "commit"
    group_id: str
    lag: int
    previous: int

    def describe(self) -> str:
        return f"Observed: lag of group {self.group_id} is growing: {self.previous} -> {self.lag}."
