"""Builds ClusterView snapshots from the coordination tree and the running brokers.

Partition leaders, ISRs and epochs come from ZooKeeper (the committed truth); replica
offsets and groups come from what each live broker says of itself (``Broker.describe()``
and ``describe_replicas()``), never from its objects. Parsed znodes are cached by their
modification zxid, so a snapshot of a large, quiet cluster costs little.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kafkalab.cluster.countdowns import build_countdowns
from kafkalab.cluster.group_views import build_group_views
from kafkalab.coordination import paths
from kafkalab.coordination.tree import ZnodeTree
from kafkalab.protocol.types import TopicPartition
from kafkalab.validation import INTERNAL_TOPICS
from kafkalab.views import (
    BrokerStatus,
    BrokerView,
    ClusterView,
    HostedReplica,
    PartitionView,
    ReplicaView,
    TopicView,
)

if TYPE_CHECKING:
    from kafkalab.cluster.cluster import Cluster


class ViewBuilder:
    """Turns live engine state into immutable views."""

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[int, Any]] = {}
        #: Each partition's last view with what it was built from (its parsed state znode, its
        #: replicas and what their brokers said): a quiet partition's view is reused, not rebuilt.
        self._partitions: dict[TopicPartition, tuple[Any, tuple[int, ...], tuple[HostedReplica | None, ...],
                                                     PartitionView]] = {}
        #: Each topic's partition layout with the parsed assignment it came from.
        self._layouts: dict[str, tuple[Any, tuple[tuple[TopicPartition, tuple[int, ...], str], ...]]] = {}

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
        """A consistent snapshot of the whole cluster at the current virtual time."""
        tree = cluster.coordinator.tree
        controller = self._json(tree, paths.CONTROLLER)
        controller_id = int(controller["brokerid"]) if controller else -1
        statuses = [broker.describe() for _, broker in sorted(cluster.brokers.items())]
        hosted = {status.broker_id: cluster.brokers[status.broker_id].describe_replicas() for status in statuses}
        topics = []
        # Views and layouts of partitions no longer there are forgotten.
        previous, self._partitions = self._partitions, {}
        layouts, self._layouts = self._layouts, {}
        topics_node = tree.nodes.get(paths.BROKER_TOPICS)
        for topic in sorted(topics_node.children if topics_node else ()):
            assignment = self._json(tree, paths.topic_path(topic))
            if not assignment:
                continue
            config = self._json(tree, paths.topic_config_path(topic)) or {"config": {}}
            partitions = []
            for tp, replicas, state_path in self._layout(layouts, topic, assignment):
                state = self._json(tree, state_path) or {}
                partitions.append(self._cached_partition(previous, hosted, tp, replicas, state))
            topics.append(TopicView(topic, assignment.get("topic_id", ""), topic in INTERNAL_TOPICS,
                                    tuple(partitions), tuple(sorted(config["config"].items()))))
        broker_views = tuple(self._broker(status, hosted[status.broker_id], controller_id, cluster)
                             for status in statuses)
        now = cluster.scheduler.now_ms
        return ClusterView(now, cluster.cluster_id, controller_id, broker_views, tuple(topics),
                           tuple(cluster.network.cut_links()),
                           tuple((a, b, ms) for (a, b), ms in sorted(cluster.network.latencies().items())),
                           cluster.journal.last_seq, build_group_views(statuses, hosted, cluster.lag),
                           build_countdowns(cluster.coordinator.session_deadlines(), statuses, topics,
                                            cluster.client_stopped, now),
                           tuple(sorted((t for s in statuses if s.running for t in s.transactions),
                                        key=lambda t: t.transactional_id)))

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
        if cached is not None and cached[0] is state and cached[1] == replicas and cached[2] == found:
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

    @staticmethod
    def _broker(status: BrokerStatus, replicas: Mapping[TopicPartition, HostedReplica], controller_id: int,
                cluster: Cluster) -> BrokerView:
        hosted = replicas.values()
        leaders = sum(1 for replica in hosted if replica.is_leader)
        followers = sum(1 for replica in hosted if not replica.is_leader and replica.leader_id >= 0)
        registered = paths.broker_path(status.broker_id) in cluster.coordinator.tree.nodes
        return BrokerView(status.broker_id, status.state, registered,
                          status.broker_id == controller_id and status.running,
                          cluster.network.link_up(status.node, "zk"), leaders, followers,
                          sum(replica.size_bytes for replica in hosted), status.records_in,
                          tuple(sorted(group.group_id for group in status.groups)))
