"""Committing partition state changes: ZooKeeper first, then the brokers.

Every leader or ISR change the controller makes goes the way Kafka's does: a conditional
write of ``/brokers/topics/T/partitions/P/state`` (fenced by the controller epoch's znode
version, so a replaced controller cannot write), then LeaderAndIsr to the partition's
live replicas and UpdateMetadata to every live broker.
"""

from __future__ import annotations

from collections.abc import Iterable

from kafkalab.controller.channel import ControllerChannel, ResponseCallback
from kafkalab.controller.context import ControllerContext
from kafkalab.coordination import paths
from kafkalab.coordination.client import CoordinationClient
from kafkalab.coordination.protocol import ZkCode, ZkException, ZkResponse
from kafkalab.protocol.controller_api import (
    BrokerEndpoint,
    ControlRequestType,
    LeaderAndIsrRequest,
    PartitionState,
    StopReplicaPartition,
    StopReplicaRequest,
    UpdateMetadataRequest,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process


class ControllerFenced(Exception):
    """Another controller took over: this one's ZooKeeper writes are rejected."""


def endpoint(context: ControllerContext, broker_id: int) -> BrokerEndpoint:
    """How a broker is reached, as metadata reports it: the endpoint it registered."""
    host, port = context.endpoints.get(broker_id, ("localhost", paths.broker_port(broker_id)))
    return BrokerEndpoint(broker_id, host, port)


class PartitionStateWriter:
    """Writes partition states to ZooKeeper and tells brokers about them."""

    def __init__(self, controller_id: int, context: ControllerContext, zk: CoordinationClient,
                 channel: ControllerChannel) -> None:
        self.controller_id = controller_id
        self.context = context
        self.zk = zk
        self.channel = channel

    def _guard(self) -> tuple[str, int]:
        return (paths.CONTROLLER_EPOCH, self.context.epoch_zk_version)

    def _fenced(self, operation: Future[ZkResponse]) -> Process[ZkResponse]:
        """Await a guarded ZooKeeper operation; a newer controller epoch raises ControllerFenced."""
        try:
            return (yield operation)
        except ZkException as exc:
            if exc.code == ZkCode.BAD_VERSION and exc.path == paths.CONTROLLER_EPOCH:
                raise ControllerFenced() from None
            raise

    def write(self, state: PartitionState, create: bool = False) -> Process[PartitionState]:
        """Store ``state`` in ZooKeeper and the context; returns it with its new partition epoch."""
        data = paths.partition_state_data(state)
        path = paths.partition_state_path(state.topic, state.partition)
        if create:
            for parent in (paths.partitions_path(state.topic), paths.partition_path(state.topic, state.partition)):
                try:
                    yield from self._fenced(self.zk.create(parent, "", guard=self._guard()))
                except ZkException as exc:
                    if exc.code != ZkCode.NODE_EXISTS:
                        raise
            try:
                response = yield from self._fenced(self.zk.create(path, data, guard=self._guard()))
            except ZkException as exc:
                if exc.code != ZkCode.NODE_EXISTS:
                    raise
                # A create whose answer was lost with the connection is sent again once the session
                # reconnects (Kafka's ZooKeeperClient resends on CONNECTIONLOSS) and then finds its own
                # znode: the same data means it is ours. Anything else is a failed state change.
                response = yield self.zk.get_data(path)
                if response.data != data:
                    raise
        else:
            response = yield from self._fenced(self.zk.set_data(path, data, state.partition_epoch,
                                                                guard=self._guard()))
        assert response.stat is not None, "a create or set_data answers with the znode's stat"
        committed = PartitionState(state.topic, state.partition, self.context.controller_epoch, state.leader,
                                   state.leader_epoch, state.isr, response.stat.version, state.replicas)
        self.context.states[state.tp] = committed
        return committed

    def delete(self, path: str) -> Process[None]:
        """Delete ``path`` and every znode under it, fenced by the controller epoch (Kafka's ``deleteRecursive``)."""
        try:
            children = yield self.zk.get_children(path)
        except ZkException as exc:
            if exc.code == ZkCode.NO_NODE:
                return
            raise
        for child in sorted(children.children):
            yield from self.delete(f"{path}/{child}")
        try:
            yield from self._fenced(self.zk.delete(path, guard=self._guard()))
        except ZkException as exc:
            if exc.code != ZkCode.NO_NODE:
                raise

    def send_leader_and_isr(self, states: Iterable[PartitionState], only_to: Iterable[int] | None = None,
                            new: bool = False) -> None:
        """Send each state to its live replicas (optionally only to some brokers)."""
        targets = set(only_to) if only_to is not None else None
        per_broker: dict[int, list[PartitionState]] = {}
        for state in states:
            for replica in state.replicas:
                if replica in self.context.live_brokers and (targets is None or replica in targets):
                    per_broker.setdefault(replica, []).append(
                        PartitionState(state.topic, state.partition, state.controller_epoch, state.leader,
                                       state.leader_epoch, state.isr, state.partition_epoch, state.replicas, new))
        leaders = tuple(endpoint(self.context, b) for b in sorted(self.context.live_brokers))
        for broker_id, broker_states in sorted(per_broker.items()):
            self.channel.send(broker_id, LeaderAndIsrRequest(
                self.controller_id, self.context.controller_epoch, self.context.live_brokers[broker_id],
                tuple(broker_states), leaders))

    def send_update_metadata(self, states: Iterable[PartitionState] | None = None,
                             to: Iterable[int] | None = None, deleted_topics: tuple[str, ...] = ()) -> None:
        """Tell brokers the layout: the given states (default: all, a FULL update) and the live brokers.

        Every update names the topics being deleted, so brokers stop serving them (Kafka sends
        their partitions with ``LeaderDuringDelete``, which brokers drop from their caches).
        """
        chosen = tuple(self.context.states.values()) if states is None else tuple(states)
        deleted_topics = tuple(sorted(set(deleted_topics) | self.context.topics_to_delete))
        update_type = ControlRequestType.FULL if states is None else ControlRequestType.INCREMENTAL
        brokers = tuple(endpoint(self.context, b) for b in sorted(self.context.live_brokers))
        topics = self.context.topics
        topic_ids = tuple((name, topics[name].topic_id) for name in sorted({s.topic for s in chosen}) if name in topics)
        for broker_id in sorted(self.context.live_brokers if to is None else to):
            if broker_id in self.context.live_brokers:
                self.channel.send(broker_id, UpdateMetadataRequest(
                    self.controller_id, self.context.controller_epoch, self.context.live_brokers[broker_id],
                    chosen, brokers, deleted_topics, update_type, topic_ids))

    def send_stop_replica(self, broker_id: int, partitions: Iterable[TopicPartition], delete: bool,
                          on_response: ResponseCallback | None = None) -> None:
        """Tell one broker to stop (and optionally delete) replicas; ``on_response`` gets its answer."""
        if broker_id not in self.context.live_brokers:
            return
        items = tuple(StopReplicaPartition(tp, delete) for tp in partitions)
        if items:
            self.channel.send(broker_id, StopReplicaRequest(
                self.controller_id, self.context.controller_epoch, self.context.live_brokers[broker_id], items),
                on_response)
