"""Frozen read models of the cluster for the TUI, scenarios and lessons.

Views are built on the engine thread and never change afterwards, so another thread
may read them freely; nothing in a view points back into engine objects. They sit in a
low layer so that engine objects can describe themselves in these terms (``describe()``
of the broker, its replica manager and its group coordinator), and ``kafkalab/cluster``
assembles the cluster-wide views from those descriptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from kafkalab.protocol.types import TopicPartition


class HostedReplica(NamedTuple):
    """One broker's own replica of a partition, as that broker's replica manager holds it.

    A named tuple rather than a dataclass: a snapshot builds one for every replica.
    """

    topic: str
    partition: int
    is_leader: bool
    #: The leader this replica knows of (its own broker while leading; -1: none).
    leader_id: int
    leader_epoch: int
    #: The ISR as this replica knows it; a leader's may be ahead of ZooKeeper's while a change is pending.
    isr: tuple[int, ...]
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    size_bytes: int
    #: A leader's: below it every transaction is decided (KIP-98); the high watermark when none is
    #: open. -1 on a follower (consumers read from leaders, and a snapshot asks every replica).
    last_stable_offset: int


class ReplicaChanges(NamedTuple):
    """One broker's replica descriptions, with which of them changed since a stamp it gave before.

    A snapshot rebuilds only the views of partitions named here; the broker's totals come with
    them, kept as descriptions change, so a broker card sums nothing.
    """

    #: (incarnation, count): give it back to learn what changed after this.
    stamp: tuple[int, int]
    #: Partitions whose description changed, came or went since the stamp given; None: any may have
    #: (no stamp given, or one of another incarnation of the broker).
    changed: frozenset[TopicPartition] | None
    #: Every replica's description now (read-only; valid until the engine moves on).
    replicas: Mapping[TopicPartition, HostedReplica]
    leaders: int
    #: Replicas that follow a known leader.
    followers: int
    size_bytes: int


#: What a broker that is not running describes (to a reader whose last stamp was this one).
NO_REPLICAS = ReplicaChanges((0, 0), frozenset(), {}, 0, 0, 0)


class SessionDeadline(NamedTuple):
    """A ZooKeeper session: its client and when it expires unless the service hears from it."""

    #: The client's network node (``broker-2``).
    client: str
    timeout_ms: int
    expires_ms: float


class MemberDeadline(NamedTuple):
    """A group member's session: removed at ``expires_ms`` unless a heartbeat comes first."""

    client_id: str
    session_timeout_ms: int
    expires_ms: float


@dataclass(frozen=True)
class Countdown:
    """Something the cluster is waiting for, when it happens and the setting that decides how long.

    Built from the engine's own timers, so a screen can count down to ``due_ms`` (virtual time)
    instead of looking frozen while, say, ZooKeeper waits out a dead broker's session.
    """

    #: What happens then, as a sentence without its time: ``broker 2's ZooKeeper session expires``.
    what: str
    due_ms: float
    #: The config key whose value is being waited out (``zookeeper.session.timeout.ms``).
    setting: str


@dataclass(frozen=True)
class ReplicaView:
    """One broker's replica of a partition as that broker sees it."""

    broker_id: int
    online: bool
    is_leader: bool
    in_isr: bool
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    size_bytes: int


@dataclass(frozen=True)
class PartitionView:
    """A partition: the committed state in ZooKeeper plus each replica's offsets."""

    topic: str
    partition: int
    leader: int | None
    leader_epoch: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    replica_views: tuple[ReplicaView, ...]
    #: The leader's last stable offset (KIP-98): read_committed consumers read below it.
    last_stable_offset: int

    @property
    def offline(self) -> bool:
        """True when the partition has no leader."""
        return self.leader is None

    @property
    def name(self) -> str:
        return f"{self.topic}-{self.partition}"


@dataclass(frozen=True)
class ConfigEntry:
    """One config as DescribeConfigs answers it: its value and where that comes from.

    ``source`` is Kafka's ``DescribeConfigsResponse.ConfigSource`` name (``DYNAMIC_TOPIC_CONFIG``,
    ``STATIC_BROKER_CONFIG``, ``DEFAULT_CONFIG`` ...), as ``kafka-configs.sh --describe --all`` prints it.
    """

    name: str
    value: str
    source: str


#: The source of a topic's own override (``kafka-configs.sh --alter --entity-type topics``).
TOPIC_OVERRIDE = "DYNAMIC_TOPIC_CONFIG"


@dataclass(frozen=True)
class TopicView:
    """A topic, its partitions and config overrides."""

    name: str
    topic_id: str
    internal: bool
    partitions: tuple[PartitionView, ...]
    #: Every override the topic has, sorted, kafkalab's keys or not.
    config_overrides: tuple[tuple[str, str], ...]
    #: The effective value of each topic config key kafkalab implements (``kafkalab.config.TOPIC_CONFIG_KEYS``),
    #: sorted by name, with its source: the override, else the broker setting or default it inherits.
    configs: tuple[ConfigEntry, ...] = ()

    @cached_property
    def holds_readers_back(self) -> bool:
        """True when an open transaction keeps some partition's last stable offset below its high watermark. The
        dashboard asks on every draw; a view builder keeps an unchanged topic's view, so this walks its partitions
        (10,000 attached) once per change rather than once per key."""
        return any(p.last_stable_offset < p.high_watermark for p in self.partitions)


@dataclass(frozen=True)
class BrokerView:
    """A broker card: up or down, controller or not, what it leads and stores."""

    broker_id: int
    state: str
    registered: bool
    is_controller: bool
    zk_link_up: bool
    leader_count: int
    follower_count: int
    bytes_on_disk: int
    records_in: int
    #: Consumer groups this broker coordinates (it leads their __consumer_offsets partitions).
    coordinated_groups: tuple[str, ...] = ()
    #: The broker's own settings, sorted: what DescribeConfigs of the broker says is set rather than Kafka's default
    #: (``STATIC_BROKER_CONFIG`` from server.properties, or a dynamic broker config), with that source, as
    #: ``kafka-configs.sh --describe --entity-type brokers --all`` marks them.
    settings: tuple[ConfigEntry, ...] = ()

    @property
    def config_overrides(self) -> tuple[tuple[str, str], ...]:
        """The settings as ``(name, value)`` pairs."""
        return tuple((entry.name, entry.value) for entry in self.settings)


@dataclass(frozen=True)
class GroupMemberView:
    """One consumer in a group, as ``kafka-consumer-groups.sh --describe --members`` lists it."""

    member_id: str
    client_id: str
    client_host: str
    group_instance_id: str | None
    assignment: tuple[str, ...]


@dataclass(frozen=True)
class GroupPartitionView:
    """One row of ``kafka-consumer-groups.sh --describe``: CURRENT-OFFSET, LOG-END-OFFSET, LAG, owner.

    LOG-END-OFFSET is the high watermark (what a consumer can read), as Kafka's tool reports it;
    the offsets and LAG are None where the group has committed nothing for the partition.
    """

    topic: str
    partition: int
    current_offset: int | None
    log_end_offset: int
    lag: int | None
    member_id: str | None
    client_id: str | None
    #: ``(virtual time, lag)`` samples, oldest first.
    lag_history: tuple[tuple[float, int], ...]


@dataclass(frozen=True)
class HostedGroup:
    """A consumer group as the broker coordinating it holds it: state, members, assignment and commits."""

    group_id: str
    state: str
    generation: int
    protocol_type: str
    protocol: str
    coordinator: int
    offsets_partition: int
    leader_member_id: str | None
    members: tuple[GroupMemberView, ...]
    #: The member id owning each assigned partition (known while a consumer group is Stable).
    owners: Mapping[TopicPartition, str]
    #: The committed offset of each partition.
    committed: Mapping[TopicPartition, int]
    #: The members whose sessions run on heartbeats (not those parked in a rebalance).
    member_deadlines: tuple[MemberDeadline, ...] = ()
    #: While a rebalance gathers members: when it stops waiting, and whether that is the first one's delay.
    rebalance_due_ms: float | None = None
    initial_rebalance: bool = False


@dataclass(frozen=True)
class HostedTransaction:
    """A transactional id as its coordinator holds it (``kafka-transactions.sh describe``)."""

    transactional_id: str
    state: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    #: When the open transaction began (None unless it is Ongoing): it times out at start + timeout.
    started_ms: float | None
    coordinator: int
    #: The ``__transaction_state`` partition that stores it.
    state_partition: int
    partitions: tuple[TopicPartition, ...]


@dataclass(frozen=True)
class BrokerStatus:
    """A broker process as it describes itself: its state, whether it controls, the groups it coordinates."""

    broker_id: int
    #: The network node it answers as (``broker-1``).
    node: str
    state: str
    running: bool
    #: True while this broker's controller is the active one, as it believes itself.
    controller_active: bool
    #: Records appended as leader since this incarnation started.
    records_in: int
    groups: tuple[HostedGroup, ...]
    #: When this broker next deletes what retention no longer keeps (None while it is not running).
    next_retention_check_ms: float | None = None
    transactions: tuple[HostedTransaction, ...] = ()


@dataclass(frozen=True)
class GroupView:
    """A consumer group: state, generation, strategy, coordinator, members and per-partition lag."""

    group_id: str
    state: str
    generation: int
    protocol_type: str
    protocol: str
    coordinator: int
    offsets_partition: int
    leader_member_id: str | None
    members: tuple[GroupMemberView, ...]
    partitions: tuple[GroupPartitionView, ...]
    #: ``(virtual time, total lag)`` samples, oldest first.
    lag_history: tuple[tuple[float, int], ...]

    @property
    def total_lag(self) -> int:
        """The sum of LAG over partitions with a committed offset."""
        return sum(p.lag for p in self.partitions if p.lag is not None)


@dataclass(frozen=True)
class ClusterView:
    """Everything the screens draw, at one virtual instant."""

    time_ms: float
    cluster_id: str
    controller_id: int
    brokers: tuple[BrokerView, ...]
    topics: tuple[TopicView, ...]
    cut_links: tuple[tuple[str, str], ...]
    latencies: tuple[tuple[str, str, float], ...]
    last_event_seq: int
    groups: tuple[GroupView, ...] = ()
    #: What the cluster is waiting for now, soonest first.
    countdowns: tuple[Countdown, ...] = ()
    #: ``zookeeper`` (Kafka 3.9: ``controller_id`` is a broker's) or ``kraft`` (Kafka 4.1: a controller node's).
    mode: str = "zookeeper"
    #: Transactional ids as live coordinators hold them, by id.
    transactions: tuple[HostedTransaction, ...] = ()

    def transaction(self, transactional_id: str) -> HostedTransaction | None:
        """The transactional id, if a live coordinator has it loaded."""
        for transaction in self.transactions:
            if transaction.transactional_id == transactional_id:
                return transaction
        return None

    def group(self, group_id: str) -> GroupView | None:
        """The consumer group ``group_id``, if a live coordinator knows it."""
        for group in self.groups:
            if group.group_id == group_id:
                return group
        return None

    def topic(self, name: str) -> TopicView | None:
        """The topic named ``name``, if it exists."""
        for topic in self.topics:
            if topic.name == name:
                return topic
        return None

    def partition(self, topic: str, partition: int) -> PartitionView | None:
        """One partition, if it exists."""
        view = self.topic(topic)
        if view is None:
            return None
        for candidate in view.partitions:
            if candidate.partition == partition:
                return candidate
        return None

    def broker(self, broker_id: int) -> BrokerView | None:
        """One broker, if it exists."""
        for broker in self.brokers:
            if broker.broker_id == broker_id:
                return broker
        return None


@dataclass(frozen=True)
class ZnodeView:
    """A read-only view of one znode for the coordination-tree screen."""

    path: str
    data: str
    version: int
    ephemeral_owner: int
    owner_node: str | None
    children: tuple[str, ...]
