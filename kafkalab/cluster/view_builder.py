"""Builds ClusterView snapshots from the committed metadata and the running brokers.

Partition leaders, ISRs and epochs come from the committed truth: ZooKeeper in ZooKeeper
mode, the controllers' replay of the committed metadata log in KRaft mode; replica
offsets and groups come from what each live broker says of itself (``Broker.describe()``
and ``describe_changes()``), never from its objects. A snapshot is built from the last one
and what changed since: the replicas whose descriptions a broker stamped as changed name
the topics to build again, while the committed metadata keeps its version; parsed znodes
are cached by their modification zxid. A large, quiet cluster's snapshot costs little.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kafkalab.broker.config_describer import broker_configs, topic_configs
from kafkalab.cluster.countdowns import build_countdowns, fencing_countdowns
from kafkalab.cluster.group_views import build_group_views
from kafkalab.config import BrokerConfig
from kafkalab.coordination import paths
from kafkalab.coordination.server import COORDINATOR_NODE
from kafkalab.coordination.tree import ZnodeTree
from kafkalab.protocol.admin import ConfigSource, DescribedConfig
from kafkalab.protocol.types import TopicPartition
from kafkalab.validation import INTERNAL_TOPICS
from kafkalab.views import (
    BrokerStatus,
    BrokerView,
    ClusterView,
    ConfigEntry,
    Countdown,
    HostedReplica,
    PartitionView,
    ReplicaChanges,
    ReplicaView,
    TopicView,
)

if TYPE_CHECKING:
    from kafkalab.cluster.cluster import Cluster
    from kafkalab.metadata.image import MetadataImage

#: What the committed metadata says of the cluster: controller id, registered brokers, the node brokers keep
#: a session with (ZooKeeper, or the active controller), and session deadlines for countdowns.
_Layout = tuple[int, set[int], "str | None", Any]


class ViewBuilder:
    """Turns live engine state into immutable views."""

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[int, Any]] = {}
        #: Each partition's last view with what it was built from (its committed state, its replicas
        #: and what their brokers said): a quiet partition's view is reused, not rebuilt.
        self._partitions: dict[TopicPartition, tuple[Any, tuple[int, ...], tuple[HostedReplica | None, ...],
                                                     PartitionView]] = {}
        #: Each topic's partition layout with the parsed assignment it came from (ZooKeeper mode).
        self._layouts: dict[str, tuple[Any, tuple[tuple[TopicPartition, tuple[int, ...], str], ...]]] = {}
        #: Each topic's last view: a topic whose partitions' views were all reused is the same object
        #: again, so what the UI works out from a topic it can keep while the topic stays the same.
        self._topics: dict[str, TopicView] = {}
        self._last_topics: dict[str, TopicView] = {}
        #: The broker config the entries below were worked out from, the brokers' settings, and each set of
        #: topic overrides' effective configs: topics rarely change theirs, so a snapshot looks them up.
        self._broker_config: BrokerConfig | None = None
        #: What the last snapshot was built from: the broker config, the committed metadata (ZooKeeper's tree or
        #: the controllers' image) with its version, the brokers, and the stamp each broker gave its descriptions.
        self._metadata: tuple[object, ...] = ()
        self._brokers: set[int] = set()
        self._stamps: dict[int, tuple[int, int]] = {}
        self._settings: tuple[ConfigEntry, ...] = ()
        self._topic_configs: dict[tuple[tuple[str, str], ...], tuple[ConfigEntry, ...]] = {}

    def _json(self, tree: ZnodeTree, path: str) -> Any:
        node = tree.nodes.get(path)
        if node is None:
            return None
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == node.mzxid:
            return cached[1]
        try:
            value = json.loads(node.data) if node.data else None
        except json.JSONDecodeError:
            value = None
        self._parsed[path] = (node.mzxid, value)
        return value

    def partition_count(self, tree: ZnodeTree, topic: str) -> int | None:
        """How many partitions ``topic`` has according to ZooKeeper, or None if it does not exist."""
        assignment = self._json(tree, paths.topic_path(topic))
        return len(assignment["partitions"]) if assignment else None

    def build(self, cluster: Cluster) -> ClusterView:
        """A consistent snapshot of the whole cluster at the current virtual time.

        Rebuilt from what changed since the last one: while the committed metadata stays as it was,
        only topics with a partition whose description changed on some broker are built again (and of
        those, only the partitions that moved); any metadata change, a broker started or stopped, or
        another broker config makes a whole pass, which still reuses every unchanged partition's view.
        """
        statuses = [broker.describe() for _, broker in sorted(cluster.brokers.items())]
        changes = {status.broker_id: cluster.brokers[status.broker_id].describe_changes(
            self._stamps.get(status.broker_id)) for status in statuses}
        self._stamps = {broker_id: described.stamp for broker_id, described in changes.items()}
        hosted = {broker_id: described.replicas for broker_id, described in changes.items()}
        now = cluster.scheduler.now_ms
        dirty = self._dirty_topics((cluster.broker_config, *_committed_version(cluster)), changes)
        self._configs_for(cluster.broker_config)
        fencing: list[Countdown] = []
        if cluster.quorum is not None:
            controller_id, registered, controller_node, sessions = self._kraft(cluster)
            image = cluster.quorum.image
            topics = self._topic_views(sorted(image.topics), dirty,
                                       lambda name, previous, layouts: self._kraft_topic(image, name, hosted, previous))
            active = cluster.quorum.active
            if active is not None:
                fencing = fencing_countdowns(active.session_deadlines(),
                                             cluster.broker_config["broker.heartbeat.interval.ms"], now)
        else:
            assert cluster.coordinator is not None
            controller_id, registered, controller_node, sessions = self._zookeeper(cluster)
            tree = cluster.coordinator.tree
            topics_node = tree.nodes.get(paths.BROKER_TOPICS)
            topics = self._topic_views(sorted(topics_node.children if topics_node else ()), dirty,
                                       lambda name, previous, layouts: self._zookeeper_topic(tree, name, hosted,
                                                                                             previous, layouts))
        broker_views = tuple(self._broker(status, changes[status.broker_id], controller_id, cluster,
                                          status.broker_id in registered, controller_node)
                             for status in statuses)
        return ClusterView(now, cluster.cluster_id, controller_id, broker_views, tuple(topics),
                           tuple(cluster.network.cut_links()),
                           tuple((a, b, ms) for (a, b), ms in sorted(cluster.network.latencies().items())),
                           cluster.journal.last_seq, build_group_views(statuses, hosted, cluster.lag),
                           build_countdowns(sessions, statuses, topics, cluster.client_stopped, now, fencing),
                           mode=cluster.meta.mode,
                           transactions=tuple(sorted((t for s in statuses if s.running for t in s.transactions),
                                                     key=lambda t: t.transactional_id)))

    def _dirty_topics(self, metadata: tuple[object, ...], changes: Mapping[int, ReplicaChanges]) -> set[str] | None:
        """The topics to build again because a replica of theirs changed; None: every topic (a whole pass)."""
        whole = metadata != self._metadata or changes.keys() != self._brokers \
            or any(described.changed is None for described in changes.values())
        self._metadata, self._brokers = metadata, set(changes)
        if whole:
            return None
        return {tp.topic for described in changes.values() for tp in described.changed or ()}

    def _topic_views(self, names: list[str], dirty: set[str] | None,
                     build: Callable[[str, Mapping[TopicPartition, Any], Mapping[str, Any]], TopicView | None]
                     ) -> list[TopicView]:
        """Every topic's view: the last one's where ``dirty`` leaves it out, else built (``build``) again.

        A whole pass starts the caches afresh, so views and layouts of partitions no longer there are
        forgotten; a partial one updates them in place.
        """
        previous, layouts = self._partitions, self._layouts
        if dirty is None:
            self._partitions, self._layouts = {}, {}
            self._last_topics, self._topics = self._topics, {}
        else:
            self._last_topics = self._topics
        topics = []
        for name in names:
            kept = dirty is not None and name not in dirty
            view = self._topics.get(name) if kept else build(name, previous, layouts)
            if view is not None:
                topics.append(view)
        return topics

    def _kraft(self, cluster: Cluster) -> _Layout:
        """KRaft: the committed image; a broker counts as registered while it is registered and unfenced."""
        assert cluster.quorum is not None
        image = cluster.quorum.image
        active = cluster.quorum.active
        registered = {broker_id for broker_id, registration in image.brokers.items() if not registration.fenced}
        return (active.node_id if active is not None else -1, registered,
                active.node if active is not None else None, {})

    def _kraft_topic(self, image: MetadataImage, name: str,
                     hosted: Mapping[int, Mapping[TopicPartition, HostedReplica]],
                     previous: Mapping[TopicPartition, Any]) -> TopicView:
        """KRaft: a topic's view from its partitions' registrations in the image."""
        topic = image.topics[name]
        partitions = tuple(
            self._cached_partition(previous, hosted, TopicPartition(name, index), tuple(registration.replicas),
                                   {"leader": registration.leader, "isr": registration.isr,
                                    "leader_epoch": registration.leader_epoch})
            for index, registration in sorted(topic.partitions.items()))
        return self._topic(name, topic.topic_id, partitions, image.topic_config(name))

    def _zookeeper(self, cluster: Cluster) -> _Layout:
        """ZooKeeper mode: the znodes the controller wrote; a broker is registered while its znode exists."""
        assert cluster.coordinator is not None
        tree = cluster.coordinator.tree
        controller = self._json(tree, paths.CONTROLLER)
        controller_id = int(controller["brokerid"]) if controller else -1
        registered = {broker_id for broker_id in cluster.brokers if paths.broker_path(broker_id) in tree.nodes}
        return controller_id, registered, COORDINATOR_NODE, cluster.coordinator.session_deadlines()

    def _zookeeper_topic(self, tree: ZnodeTree, topic: str, hosted: Mapping[int, Mapping[TopicPartition, HostedReplica]],
                         previous: Mapping[TopicPartition, Any], layouts: Mapping[str, Any]) -> TopicView | None:
        """ZooKeeper mode: a topic's view from its assignment, config and partition state znodes (None: none)."""
        assignment = self._json(tree, paths.topic_path(topic))
        if not assignment:
            return None
        config = self._json(tree, paths.topic_config_path(topic)) or {"config": {}}
        partitions = []
        for tp, replicas, state_path in self._layout(layouts, topic, assignment):
            state = self._json(tree, state_path) or {}
            partitions.append(self._cached_partition(previous, hosted, tp, replicas, state))
        return self._topic(topic, assignment.get("topic_id", ""), tuple(partitions), config["config"])

    def _configs_for(self, broker_config: BrokerConfig) -> None:
        """Work out the brokers' settings again when the broker config is another (a cluster reopened)."""
        if broker_config is self._broker_config:
            return
        self._broker_config, self._topic_configs = broker_config, {}
        # Every broker has the cluster's settings, all static (broker/config_describer.py).
        self._settings = tuple(_entry(config) for config in broker_configs(broker_config)
                               if config.source is not ConfigSource.DEFAULT_CONFIG)

    def _topic(self, name: str, topic_id: str, partitions: tuple[PartitionView, ...],
               overrides: Mapping[str, str]) -> TopicView:
        """A topic's view with its overrides and, as DescribeConfigs of it answers, its effective configs.

        The last snapshot's view of the topic when they are equal (compared cheaply: reused partition
        views are the same objects), so the UI can keep what it worked out from it.
        """
        own = tuple(sorted(overrides.items()))
        configs = self._topic_configs.get(own)
        if configs is None:
            assert self._broker_config is not None
            configs = tuple(_entry(config) for config in topic_configs(overrides, self._broker_config))
            self._topic_configs[own] = configs
        view = TopicView(name, topic_id, name in INTERNAL_TOPICS, partitions, own, configs)
        kept = self._last_topics.get(name)
        if kept is not None and kept == view:
            view = kept
        self._topics[name] = view
        return view

    def _layout(self, previous: Mapping[str, Any], topic: str, assignment: dict[str, Any]
                ) -> tuple[tuple[TopicPartition, tuple[int, ...], str], ...]:
        """A topic's partitions in order with their replicas and state znode, worked out once per assignment."""
        cached = previous.get(topic)
        if cached is not None and cached[0] is assignment:
            self._layouts[topic] = cached
            return cached[1]
        layout = tuple((TopicPartition(topic, int(number)), tuple(replicas),
                        paths.partition_state_path(topic, int(number)))
                       for number, replicas in sorted(assignment["partitions"].items(), key=lambda kv: int(kv[0])))
        self._layouts[topic] = (assignment, layout)
        return layout

    def _cached_partition(self, previous: Mapping[TopicPartition, Any],
                          hosted: Mapping[int, Mapping[TopicPartition, HostedReplica]], tp: TopicPartition,
                          replicas: tuple[int, ...], state: dict[str, Any]) -> PartitionView:
        found = tuple([on_broker.get(tp) if (on_broker := hosted.get(broker_id)) is not None else None
                       for broker_id in replicas])
        cached = previous.get(tp)
        if cached is not None and cached[0] == state and cached[1] == replicas and cached[2] == found:
            view = cached[3]
        else:
            view = self._partition(tp, replicas, found, state)
        self._partitions[tp] = (state, replicas, found, view)
        return view

    @staticmethod
    def _partition(tp: TopicPartition, replicas: tuple[int, ...], found: tuple[HostedReplica | None, ...],
                   state: dict[str, Any]) -> PartitionView:
        leader = state.get("leader", -1)
        isr = tuple(state.get("isr", ()))
        replica_views = []
        leader_view = None
        lso = -1
        for broker_id, replica in zip(replicas, found, strict=True):
            if replica is None:
                replica_views.append(ReplicaView(broker_id, False, False, broker_id in isr, -1, -1, -1, 0))
                continue
            view = ReplicaView(broker_id, True, replica.is_leader, broker_id in isr, replica.log_start_offset,
                               replica.high_watermark, replica.log_end_offset, replica.size_bytes)
            replica_views.append(view)
            if broker_id == leader:
                leader_view, lso = view, replica.last_stable_offset
        if leader_view is None:
            known = [r for r in replica_views if r.online]
            start = max((r.log_start_offset for r in known), default=0)
            hw = max((r.high_watermark for r in known), default=0)
            end = max((r.log_end_offset for r in known), default=0)
        else:
            start, hw, end = leader_view.log_start_offset, leader_view.high_watermark, leader_view.log_end_offset
        return PartitionView(tp.topic, tp.partition, leader if leader >= 0 else None, state.get("leader_epoch", -1),
                             replicas, isr, start, hw, end, tuple(replica_views), lso if lso >= 0 else hw)

    def _broker(self, status: BrokerStatus, replicas: ReplicaChanges, controller_id: int,
                cluster: Cluster, registered: bool, controller_node: str | None) -> BrokerView:
        """A broker card; its coordination link is to ZooKeeper, or in KRaft mode to the active controller."""
        return BrokerView(status.broker_id, status.state, registered,
                          status.broker_id == controller_id and status.running,
                          controller_node is not None and cluster.network.link_up(status.node, controller_node),
                          replicas.leaders, replicas.followers, replicas.size_bytes, status.records_in,
                          tuple(sorted(group.group_id for group in status.groups)), self._settings)


def _committed_version(cluster: Cluster) -> tuple[object, int]:
    """The committed metadata and its version: every change to it moves the version (a zxid, or the
    image's count of applied records), and another object (a restarted quorum) is another."""
    if cluster.quorum is not None:
        image = cluster.quorum.image
        return image, image.version
    assert cluster.coordinator is not None
    tree = cluster.coordinator.tree
    return tree, tree.zxid


def _entry(config: DescribedConfig) -> ConfigEntry:
    return ConfigEntry(config.name, config.value or "", config.source.name)
