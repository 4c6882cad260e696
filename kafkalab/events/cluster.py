"""Events of brokers, the controller, replication, topics and the network (logs on disk: storage.py)."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.coordination import node_label
from kafkalab.events.journal import Event


def _ids(values: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


# -- brokers -------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerStarted(Event):
    """A broker process started: it opened its log directory (recovering logs after a crash),
    then registers itself in ZooKeeper and waits for the controller to tell it its roles."""

    kind = "broker"
    broker_id: int
    logs: int
    previous_stop: str  # "first" (empty log dir), "clean" or "crash"

    def describe(self) -> str:
        if self.previous_stop == "first":
            return f"Broker {self.broker_id} started for the first time with an empty log directory."
        if self.previous_stop == "crash":
            return (f"Broker {self.broker_id} started after a crash and recovered {self.logs} partition log(s) "
                    f"past their recovery points.")
        return (f"Broker {self.broker_id} started after a clean shutdown and opened {self.logs} partition log(s), "
                f"reading only enough to see that each ends on a whole batch.")


@dataclass(frozen=True)
class BrokerStopped(Event):
    """A broker stopped. A crash loses everything in memory (ISR state, unflushed
    checkpoints); a clean shutdown first moves leadership away, flushes every log and
    writes a clean-shutdown marker so the next start skips recovery. A broker whose log
    dir failed halts the same way a crash does."""

    kind = "broker"
    broker_id: int
    clean: bool
    #: Why a broker stopped by itself (its log dir failed); empty for a crash or shutdown from outside.
    reason: str = ""
    #: A KRaft broker: the active controller, not ZooKeeper, notices its silence.
    kraft: bool = False

    def describe(self) -> str:
        if self.clean:
            return f"Broker {self.broker_id} shut down cleanly: logs flushed, checkpoints written."
        notices = ("the active controller fences it when its heartbeats have stopped for broker.session.timeout.ms"
                   if self.kraft else "its ZooKeeper session expires")
        if self.reason:
            return f"Broker {self.broker_id} halted: {self.reason}. The cluster notices when {notices}."
        return f"Broker {self.broker_id} crashed. Nobody is told: the cluster notices only when {notices}."


@dataclass(frozen=True)
class BrokerStartupFailed(Event):
    """A starting broker hit an error it cannot recover from, such as its ZooKeeper session
    expiring before it registered, and exits as Kafka's does ("Fatal error during
    KafkaServer startup"). Starting it again begins afresh."""

    kind = "broker"
    broker_id: int
    reason: str

    def describe(self) -> str:
        return f"Broker {self.broker_id} failed to start and exits: {self.reason}."


@dataclass(frozen=True)
class BrokerRegistered(Event):
    """The broker created its ephemeral /brokers/ids/N znode. The controller watches that
    directory, so this is how it learns the broker is alive."""

    kind = "broker"
    broker_id: int
    broker_epoch: int

    def describe(self) -> str:
        return f"Broker {self.broker_id} registered /brokers/ids/{self.broker_id} (broker epoch {self.broker_epoch})."


@dataclass(frozen=True)
class BrokerRegistrationBlocked(Event):
    """The broker restarted before ZooKeeper expired its previous session, so the old
    ephemeral /brokers/ids/N still exists. Kafka refuses to start in that case; kafkalab
    retries until the old session expires."""

    kind = "broker"
    broker_id: int

    def describe(self) -> str:
        return (f"Broker {self.broker_id} waits to register: /brokers/ids/{self.broker_id} still belongs to "
                f"its previous ZooKeeper session until that session expires.")


# -- controller ----------------------------------------------------------------------


@dataclass(frozen=True)
class ControllerElected(Event):
    """A broker won the race to create the ephemeral /controller znode and became the
    controller. The controller epoch increases each time so brokers can ignore orders from
    a controller that has been replaced (a zombie)."""

    kind = "controller"
    broker_id: int
    controller_epoch: int

    def describe(self) -> str:
        return f"Broker {self.broker_id} became the controller (controller epoch {self.controller_epoch})."


@dataclass(frozen=True)
class ControllerResigned(Event):
    """A broker stopped being the controller, for example because its ZooKeeper session
    expired and /controller was deleted."""

    kind = "controller"
    broker_id: int
    reason: str

    def describe(self) -> str:
        return f"Broker {self.broker_id} is no longer the controller: {self.reason}."


@dataclass(frozen=True)
class BrokerFailed(Event):
    """The controller's watch on /brokers/ids fired and a broker's znode was gone. The
    controller now elects new leaders for the partitions that broker led and removes it
    from every ISR."""

    kind = "controller"
    controller_id: int
    broker_id: int

    def describe(self) -> str:
        return (f"Controller {self.controller_id} saw /brokers/ids/{self.broker_id} disappear: broker "
                f"{self.broker_id} is gone; electing new leaders for its partitions.")


@dataclass(frozen=True)
class BrokerJoined(Event):
    """The controller saw a new /brokers/ids/N. It sends the broker its replicas
    (LeaderAndIsr) and every broker the new layout (UpdateMetadata)."""

    kind = "controller"
    controller_id: int
    broker_id: int

    def describe(self) -> str:
        return (f"Controller {self.controller_id} saw broker {self.broker_id} join and sent it its replicas; "
                f"it will fetch from the leaders and rejoin the ISR once caught up.")


@dataclass(frozen=True)
class LeaderElected(Event):
    """The controller chose a partition's leader. Kafka's rule: the first replica in
    assignment order that is alive and in the ISR. The leader epoch increases so that
    replicas can tell old leaders' data from new."""

    kind = "election"
    topic: str
    partition: int
    leader: int
    previous_leader: int
    leader_epoch: int
    isr: tuple[int, ...]
    reason: str
    unclean: bool = False

    def describe(self) -> str:
        where = f"{self.topic}-{self.partition}"
        if self.unclean:
            return (f"UNCLEAN election: broker {self.leader} leads {where} though it was not in the ISR "
                    f"({self.reason}); acknowledged records it lacks are lost, and a returning replica "
                    f"that has them will truncate them (leader epoch {self.leader_epoch}).")
        before = f" (was {self.previous_leader})" if self.previous_leader >= 0 else ""
        return (f"Broker {self.leader} leads {where}{before}: {self.reason}; ISR {_ids(self.isr)}, "
                f"leader epoch {self.leader_epoch}.")


@dataclass(frozen=True)
class NewPartitionsOnline(Event):
    """The controller brought many new partitions online at once (a wide topic such as
    __consumer_offsets): each is led by the first live replica of its list, and its live
    replicas form the ISR. Spreading first replicas across brokers spreads leadership."""

    kind = "election"
    topic: str
    leaders: tuple[tuple[int, int], ...]  # (partition, leader broker)

    def describe(self) -> str:
        counts: dict[int, int] = {}
        for _, leader in self.leaders:
            counts[leader] = counts.get(leader, 0) + 1
        spread = ", ".join(f"broker {b} leads {n}" for b, n in sorted(counts.items()))
        return f"{len(self.leaders)} new partitions of {self.topic} are online: {spread}."


@dataclass(frozen=True)
class PartitionOffline(Event):
    """No replica of the partition can lead: none in the ISR is alive and unclean leader
    election is disabled. Produce and fetch fail until an ISR replica returns."""

    kind = "election"
    topic: str
    partition: int
    isr: tuple[int, ...]

    def describe(self) -> str:
        return (f"{self.topic}-{self.partition} is OFFLINE: no replica of ISR {_ids(self.isr)} is alive, and no "
                f"other replica may lead (unclean election is disabled or none is alive).")


# -- replication ---------------------------------------------------------------------


@dataclass(frozen=True)
class IsrShrunk(Event):
    """A follower had not caught up with the leader's log end for replica.lag.time.max.ms,
    or its broker died, so it left the in-sync replica set. acks=all writes no longer wait
    for it; if the ISR falls below min.insync.replicas, acks=all writes are rejected."""

    kind = "isr"
    topic: str
    partition: int
    leader: int
    removed: tuple[int, ...]
    isr: tuple[int, ...]
    reason: str

    def describe(self) -> str:
        return (f"ISR of {self.topic}-{self.partition} shrank to {_ids(self.isr)}: removed "
                f"{_ids(self.removed)} ({self.reason}).")


@dataclass(frozen=True)
class IsrExpanded(Event):
    """A follower caught up with the leader's high watermark and rejoined the ISR."""

    kind = "isr"
    topic: str
    partition: int
    leader: int
    added: tuple[int, ...]
    isr: tuple[int, ...]

    def describe(self) -> str:
        return (f"Broker {_ids(self.added)[1:-1]} caught up and rejoined the ISR of {self.topic}-{self.partition}: "
                f"{_ids(self.isr)}.")


@dataclass(frozen=True)
class HighWatermarkAdvanced(Event):
    """Every in-sync replica now has the records below the high watermark, so they are
    committed: consumers may read them and acks=all producers get their acknowledgement."""

    kind = "hw"
    broker_id: int
    topic: str
    partition: int
    old: int
    new: int

    def describe(self) -> str:
        return f"High watermark of {self.topic}-{self.partition} on leader {self.broker_id} moved {self.old} -> {self.new}."


@dataclass(frozen=True)
class LogTruncated(Event):
    """A replica cut records off the end of its log. After a leader change (KIP-101/279) a
    follower asks the new leader where its epoch ended and drops anything past it: records
    that were never committed, or acknowledged records the leader's log does not hold: lost
    to an unclean election (the leader was not in sync), or to the leader's own log recovery
    (its disk damaged records every replica had acknowledged). The events before this one
    say which: an UNCLEAN election, or the leader's LogRecovered."""

    kind = "replication"
    broker_id: int
    topic: str
    partition: int
    old_end: int
    new_end: int
    reason: str
    #: How many of the removed records were below this replica's high watermark, i.e. acknowledged.
    committed_lost: int = 0

    def describe(self) -> str:
        lost = self.old_end - self.new_end
        text = (f"Broker {self.broker_id} truncated {self.topic}-{self.partition} from offset {self.old_end} to "
                f"{self.new_end}: {lost} record(s) removed ({self.reason})")
        if self.committed_lost:
            return (f"{text}. DATA LOSS: {self.committed_lost} acknowledged record(s) below its high watermark "
                    f"are not in the leader's log either (lost to an unclean election or to the leader's log "
                    f"recovery).")
        return text + "."


@dataclass(frozen=True)
class ProduceRejected(Event):
    """A leader refused a produce request and told the producer why, with Kafka's error."""

    kind = "produce"
    broker_id: int
    topic: str
    partition: int
    error: str
    reason: str

    def describe(self) -> str:
        return f"Broker {self.broker_id} rejected a write to {self.topic}-{self.partition}: {self.error} ({self.reason})."


# -- topics --------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicCreated(Event):
    """The controller wrote the topic's replica assignment to ZooKeeper and elected a leader
    for each partition: the first live replica of each list."""

    kind = "topic"
    topic: str
    partitions: int
    replication_factor: int
    assignment: tuple[tuple[int, ...], ...]
    configs: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        layout = ", ".join(f"{p}:{_ids(r)}" for p, r in enumerate(self.assignment[:6]))
        more = ", ..." if len(self.assignment) > 6 else ""
        return (f"Topic {self.topic} created: {self.partitions} partition(s), replication factor "
                f"{self.replication_factor}; replicas {layout}{more}.")


@dataclass(frozen=True)
class TopicAutoCreationRequested(Event):
    """A client's Metadata request named a topic that did not exist, and the broker has
    auto.create.topics.enable=true: it had the topic created with its num.partitions and
    default.replication.factor, and told the client LEADER_NOT_AVAILABLE until the leaders are elected.
    A typo in a topic name makes a new topic this way, which is why many clusters turn it off."""

    kind = "topic"
    broker_id: int
    topic: str
    client_id: str
    partitions: int
    replication_factor: int

    def describe(self) -> str:
        asked = f"client {self.client_id}" if self.client_id else "a client"
        return (f"Broker {self.broker_id} auto-created topic {self.topic} ({self.partitions} partition(s), replication "
                f"factor {self.replication_factor}) because {asked} asked for it (auto.create.topics.enable=true).")


@dataclass(frozen=True)
class TopicMarkedForDeletion(Event):
    """The controller began deleting the topic: brokers stop serving it and every replica deletes its
    log. The topic leaves ZooKeeper only once every replica confirmed, so a replica on a broker that is
    down halts the deletion until that broker is back (Kafka's ``TopicDeletionManager``)."""

    kind = "topic"
    topic: str
    offline_replica_brokers: tuple[int, ...]

    def describe(self) -> str:
        halted = (f"; halted until broker(s) {_ids(self.offline_replica_brokers)} are back"
                  if self.offline_replica_brokers else "")
        return f"Topic {self.topic} marked for deletion{halted}."


@dataclass(frozen=True)
class PartitionsAdded(Event):
    """The controller grew a topic (CreatePartitions): it wrote the longer replica assignment to
    ZooKeeper and elected a leader for each new partition. Existing partitions keep their records,
    but a key's partition is murmur2(key) modulo the partition count, so keys may now land elsewhere."""

    kind = "topic"
    topic: str
    partitions: int
    assignment: tuple[tuple[int, ...], ...]

    def describe(self) -> str:
        return (f"Topic {self.topic} grew to {self.partitions} partitions; the new ones have replicas "
                f"{', '.join(_ids(r) for r in self.assignment)}.")


@dataclass(frozen=True)
class TopicDeleted(Event):
    """The controller stopped and deleted every replica of the topic and removed it from ZooKeeper."""

    kind = "topic"
    topic: str

    def describe(self) -> str:
        return f"Topic {self.topic} deleted."


@dataclass(frozen=True)
class TopicConfigChanged(Event):
    """A topic's config overrides changed in ZooKeeper; every broker applies them."""

    kind = "topic"
    topic: str
    changes: tuple[tuple[str, str | None], ...]

    def describe(self) -> str:
        text = ", ".join(f"{key}={value}" if value is not None else f"{key} reset to default"
                         for key, value in self.changes)
        return f"Config of topic {self.topic} changed: {text}."


# -- network -------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkCut(Event):
    """Messages between the two nodes are now lost in both directions, as in a network
    partition. Neither side is told; requests between them time out."""

    kind = "network"
    a: str
    b: str

    def describe(self) -> str:
        return f"Network link {node_label(self.a)} <-> {node_label(self.b)} cut."


@dataclass(frozen=True)
class LinkHealed(Event):
    """The link works again; queued retries and notifications get through."""

    kind = "network"
    a: str
    b: str

    def describe(self) -> str:
        return f"Network link {node_label(self.a)} <-> {node_label(self.b)} healed."


@dataclass(frozen=True)
class LinkLatencyChanged(Event):
    """Messages on the link now take this long each way."""

    kind = "network"
    a: str
    b: str
    latency_ms: float

    def describe(self) -> str:
        return f"Network link {node_label(self.a)} <-> {node_label(self.b)} latency set to {self.latency_ms:g} ms."
