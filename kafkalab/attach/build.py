"""Turns describe rounds of a real cluster into the lab's own frozen views, so every screen works unchanged.

What a client cannot see is said plainly in the view rather than invented: a follower's
offsets are -1 (only the leader answers ListOffsets), bytes on disk and records in are 0
(DescribeLogDirs and broker metrics are not asked), group generations are -1 (DescribeGroups
does not return them); leader epochs come with the latest offsets (ListOffsets v4+). Groups go through the lab's own
``build_group_views``, so LAG is computed as in the lab: the leader's high watermark minus
the committed offset.
"""

from __future__ import annotations

from collections.abc import Mapping

from kafkalab.attach.observe import Observation, SeenGroup, SeenOffsets, SeenPartition, SeenTopic
from kafkalab.clients.java_strings import java_abs_hash
from kafkalab.cluster.group_views import LagTracker, build_group_views
from kafkalab.protocol.types import TopicPartition
from kafkalab.views import (
    BrokerStatus,
    BrokerView,
    ClusterView,
    ConfigEntry,
    GroupView,
    HostedGroup,
    HostedReplica,
    PartitionView,
    ReplicaView,
    TopicView,
)

#: ``ClusterView.mode`` of an attached cluster: whether it keeps metadata in ZooKeeper or KRaft is not asked.
ATTACHED_MODE = "attached"
OFFSETS_TOPIC = "__consumer_offsets"
#: Broker states as the lab names them (``BrokerState``): in the metadata, or only remembered from earlier.
RUNNING, NOT_RUNNING = "running", "not running"


class AttachedViewBuilder:
    """Builds ``ClusterView``s from rounds; remembers brokers seen before, so one that left shows as not running."""

    def __init__(self) -> None:
        self._known_brokers: set[int] = set()
        self._lag = LagTracker()
        #: Each partition's last view (and its leader's replica) with what it was built from: a quiet partition's
        #: view is reused, not rebuilt, so a round of a large cluster costs little more than its requests. Updated
        #: in place, never rebuilt.
        self._partitions: dict[TopicPartition, tuple[_PartitionKey, PartitionView, HostedReplica | None]] = {}

    def build(self, seen: Observation, last_event_seq: int = 0) -> ClusterView:
        """The view of one round; ``last_event_seq`` is the newest observed event's number."""
        live = set(seen.brokers)
        self._known_brokers |= live
        self._known_brokers |= {broker for topic in seen.topics for p in topic.partitions for broker in p.replicas}
        current: set[TopicPartition] = set()
        topics = tuple(self._topic(topic, seen.offsets, live, current) for topic in seen.topics)
        for tp in [tp for tp in self._partitions if tp not in current]:
            del self._partitions[tp]
        offsets_topic = next((t for t in topics if t.name == OFFSETS_TOPIC), None)
        hosted_groups = tuple(_hosted_group(group, len(offsets_topic.partitions) if offsets_topic else 0)
                              for group in seen.groups)
        # The lab's group views read each group from its coordinator's status and each high watermark from the
        # partition leader's replica: both are given here in those terms.
        statuses = [BrokerStatus(broker, f"broker-{broker}", RUNNING, True, False, 0,
                                 tuple(g for g in hosted_groups if g.coordinator == broker))
                    for broker in sorted({g.coordinator for g in hosted_groups})]
        leaders: dict[int, dict[TopicPartition, HostedReplica]] = {}
        for tp, (_, _, replica) in self._partitions.items():
            if replica is not None:
                leaders.setdefault(replica.leader_id, {})[tp] = replica
        high_watermarks = {tp: replica.high_watermark for hosted in leaders.values() for tp, replica in hosted.items()}
        self._lag.sample(hosted_groups, lambda tp: high_watermarks.get(tp, -1), seen.time_ms)
        groups = build_group_views(statuses, leaders, self._lag)
        brokers = tuple(_broker(broker, broker in live, seen.controller_id, topics, groups,
                                seen.broker_configs.get(broker, ()))
                        for broker in sorted(self._known_brokers))
        return ClusterView(seen.time_ms, seen.cluster_id, seen.controller_id, brokers, topics, (), (), last_event_seq,
                           groups, mode=ATTACHED_MODE)

    def _topic(self, topic: SeenTopic, offsets: Mapping[TopicPartition, SeenOffsets], live: set[int],
               current: set[TopicPartition]) -> TopicView:
        """A topic's view: the leader's offsets, -1 for followers' (no client request reads them). A quiet
        partition's entry stays as it was, keys included, so a round of a quiet cluster leaves nothing new behind
        for the garbage collector's full passes (``Observer._offsets`` says why that matters)."""
        partitions = []
        for seen in topic.partitions:
            tp = TopicPartition(topic.name, seen.partition)
            current.add(tp)
            found = offsets.get(tp, _UNKNOWN)
            key = (seen, found, tuple(broker in live for broker in seen.replicas))
            entry = self._partitions.get(tp)
            if entry is None or entry[0] != key:
                entry = self._partitions[tp] = (key, *_partition(tp, seen, found, live))
            partitions.append(entry[1])
        return TopicView(topic.name, topic.topic_id, topic.internal, tuple(partitions), topic.config_overrides,
                         topic.configs)


#: What a partition's view is built from: Metadata's answer, ListOffsets' answers, which replicas' brokers are up.
_PartitionKey = tuple[SeenPartition, SeenOffsets, tuple[bool, ...]]
_UNKNOWN = SeenOffsets()


def _partition(tp: TopicPartition, seen: SeenPartition, found: SeenOffsets, live: set[int]
               ) -> tuple[PartitionView, HostedReplica | None]:
    """A partition's view, and its leader's replica as the lab's group views read high watermarks from (None without
    a leader that answered)."""
    leader = seen.leader if seen.leader is not None and seen.leader >= 0 else None
    start, hw = found.log_start_offset, found.high_watermark
    replica_views = tuple(
        ReplicaView(broker, broker in live, broker == leader, broker in seen.isr,
                    *((start, hw, hw) if broker == leader else (-1, -1, -1)), 0)
        for broker in seen.replicas)
    view = PartitionView(tp.topic, tp.partition, leader, found.leader_epoch, seen.replicas, seen.isr, start, hw, hw,
                         replica_views, found.last_stable_offset)
    replica = (HostedReplica(tp.topic, tp.partition, True, leader, found.leader_epoch, seen.isr, start, hw, hw, 0,
                             found.last_stable_offset)
               if leader is not None and hw >= 0 else None)
    return view, replica




def _hosted_group(group: SeenGroup, offsets_partitions: int) -> HostedGroup:
    """A group in the terms its coordinator would describe it in (generation and leader are not returned)."""
    owners = {_parse(name): member.member_id for member in group.members for name in member.assignment}
    # Kafka's GroupCoordinator.partitionFor: abs(groupId.hashCode) % offsets.topic.num.partitions.
    partition = java_abs_hash(group.group_id) % offsets_partitions if offsets_partitions else -1
    return HostedGroup(group.group_id, group.state, -1, group.protocol_type, group.protocol, group.coordinator,
                       partition, None, group.members, owners, dict(group.committed))


def _parse(name: str) -> TopicPartition:
    """``orders-2`` back to its topic and partition (topic names may contain ``-`` themselves)."""
    topic, _, number = name.rpartition("-")
    return TopicPartition(topic, int(number))


def _broker(broker: int, live: bool, controller_id: int, topics: tuple[TopicView, ...],
            groups: tuple[GroupView, ...], settings: tuple[ConfigEntry, ...]) -> BrokerView:
    """A broker card: up while the metadata lists it; what it leads and follows by the metadata."""
    leads = sum(1 for t in topics for p in t.partitions if p.leader == broker)
    follows = sum(1 for t in topics for p in t.partitions if broker in p.replicas and p.leader not in (None, broker))
    return BrokerView(broker, RUNNING if live else NOT_RUNNING, live, broker == controller_id, live, leads,
                      follows if live else 0, 0, 0, tuple(sorted(g.group_id for g in groups if g.coordinator == broker)),
                      settings)
