"""Requests only the active controller serves: topic admin, elections, ISR changes, shutdowns.

Each handler runs as one event on the controller's serial queue, validates the request
with Kafka's error names, writes ZooKeeper, then informs the brokers.
"""

from __future__ import annotations

import base64

from kafkalab.config import parse_topic_configs
from kafkalab.controller import elections, placement
from kafkalab.controller.context import TopicInfo
from kafkalab.controller.controller import Controller
from kafkalab.coordination import paths
from kafkalab.coordination.protocol import ZkCode, ZkException
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import PartitionsAdded, TopicCreated, TopicDeleted
from kafkalab.protocol.admin import (
    ApiResult,
    CreatableTopic,
    CreatePartitionsRequest,
    CreatePartitionsResponse,
    CreateTopicsRequest,
    CreateTopicsResponse,
    DeleteTopicsRequest,
    DeleteTopicsResponse,
    ElectionType,
    ElectLeadersRequest,
    ElectLeadersResponse,
)
from kafkalab.protocol.controller_api import (
    AlterPartitionRequest,
    AlterPartitionResponse,
    ControlledShutdownRequest,
    ControlledShutdownResponse,
    PartitionState,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Process
from kafkalab.validation import collides, validate_topic_name


def _topic_id(controller: Controller) -> str:
    """A random topic id printed as Kafka prints a Uuid (22 url-safe base64 characters)."""
    raw = controller.rng.getrandbits(128).to_bytes(16, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _result(exc: KafkaError) -> ApiResult:
    return ApiResult(exc.error, exc.message)


class ControllerRequests:
    """The active controller's handlers for admin and broker-to-controller requests."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    # -- topics --------------------------------------------------------------------

    def create_topics(self, request: CreateTopicsRequest) -> Process[CreateTopicsResponse]:
        results: dict[str, ApiResult] = {}
        for topic in request.topics:
            try:
                assignment, configs = self._validate_new_topic(topic)
            except KafkaError as exc:
                results[topic.name] = _result(exc)
                continue
            if not request.validate_only:
                yield from self._create_topic(topic, assignment, configs)
            results[topic.name] = ApiResult(Errors.NONE)
        return CreateTopicsResponse(results)

    def _validate_new_topic(self, topic: CreatableTopic) -> tuple[dict[int, tuple[int, ...]], dict[str, str]]:
        context = self.controller.context
        validate_topic_name(topic.name)
        if topic.name in context.topics:
            raise KafkaError(Errors.TOPIC_ALREADY_EXISTS, f"Topic '{topic.name}' already exists.")
        for existing in context.topics:
            if collides(topic.name, existing):
                raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION,
                                 f"Topic '{topic.name}' collides with existing topic: {existing}.")
        parsed = parse_topic_configs(topic.configs)
        configs = {key: str(topic.configs[key]) for key in parsed}
        live = sorted(context.live_brokers)
        # KIP-464: -1 asks for the broker's num.partitions / default.replication.factor.
        config = self.controller.config
        partitions = config["num.partitions"] if topic.num_partitions == -1 else topic.num_partitions
        replication = config["default.replication.factor"] if topic.replication_factor == -1 else topic.replication_factor
        assignment = placement.assign_replicas(partitions, replication, live, self.controller.rng)
        return assignment, configs

    def _create_topic(self, topic: CreatableTopic, assignment: dict[int, tuple[int, ...]],
                      configs: dict[str, str]) -> Process[None]:
        controller = self.controller
        zk = controller.zk
        topic_id = _topic_id(controller)
        # Kafka writes the config before the assignment, so brokers never see a topic without it.
        yield zk.create(paths.topic_config_path(topic.name), paths.topic_config_data(configs))
        yield zk.create(paths.topic_path(topic.name), paths.topic_assignment(assignment, topic_id))
        controller.context.topics[topic.name] = TopicInfo(assignment, topic_id, configs)
        controller.journal.emit(TopicCreated, topic=topic.name, partitions=len(assignment),
                                replication_factor=len(assignment[0]),
                                assignment=tuple(assignment[p] for p in sorted(assignment)),
                                configs=tuple(sorted(configs.items())))
        changed = yield from controller.elect_new_partitions(controller.context.partitions_of(topic.name))
        controller.writer.send_update_metadata(changed)

    def create_partitions(self, request: CreatePartitionsRequest) -> Process[CreatePartitionsResponse]:
        """Add partitions to topics (Kafka's ``AdminZkClient.createPartitions``); existing ones never move."""
        results: dict[str, ApiResult] = {}
        for name, count in request.topics:
            try:
                added = self._new_partitions(name, count)
            except KafkaError as exc:
                results[name] = _result(exc)
                continue
            if not request.validate_only:
                yield from self._add_partitions(name, added)
            results[name] = ApiResult(Errors.NONE)
        return CreatePartitionsResponse(results)

    def _new_partitions(self, name: str, count: int) -> dict[int, tuple[int, ...]]:
        context = self.controller.context
        info = context.topics.get(name)
        if info is None:
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"The topic '{name}' does not exist.")
        current = len(info.assignment)
        if count == current:
            raise KafkaError(Errors.INVALID_PARTITIONS, f"Topic already has {current} partitions.")
        if count < current:
            raise KafkaError(Errors.INVALID_PARTITIONS,
                             f"Topic currently has {current} partitions, which is higher than the requested {count}.")
        live = sorted(context.live_brokers)
        first = info.assignment[0]
        # Kafka continues partition 0's layout: the start index is where its first replica sits.
        start = next((i for i, broker in enumerate(live) if broker >= first[0]), 0)
        return placement.assign_replicas(count - current, len(first), live, self.controller.rng,
                                         fixed_start_index=start, start_partition_id=current)

    def _add_partitions(self, name: str, added: dict[int, tuple[int, ...]]) -> Process[None]:
        controller = self.controller
        info = controller.context.topics[name]
        assignment = {**info.assignment, **added}
        yield controller.zk.set_data(paths.topic_path(name), paths.topic_assignment(assignment, info.topic_id))
        controller.context.topics[name] = TopicInfo(assignment, info.topic_id, info.config)
        controller.journal.emit(PartitionsAdded, topic=name, partitions=len(assignment),
                                assignment=tuple(added[p] for p in sorted(added)))
        changed = yield from controller.elect_new_partitions([TopicPartition(name, p) for p in sorted(added)])
        controller.writer.send_update_metadata(changed)

    def delete_topics(self, request: DeleteTopicsRequest) -> Process[DeleteTopicsResponse]:
        controller = self.controller
        results: dict[str, ApiResult] = {}
        for name in request.names:
            if name not in controller.context.topics:
                results[name] = ApiResult(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{name}' does not exist.")
                continue
            yield from self._delete_topic(name)
            results[name] = ApiResult(Errors.NONE)
        return DeleteTopicsResponse(results)

    def _delete_topic(self, name: str) -> Process[None]:
        controller = self.controller
        context = controller.context
        zk = controller.zk
        tps = context.partitions_of(name)
        per_broker: dict[int, list[TopicPartition]] = {}
        for tp in tps:
            for replica in context.replicas(tp):
                per_broker.setdefault(replica, []).append(tp)
        for broker_id, partitions in sorted(per_broker.items()):
            controller.writer.send_stop_replica(broker_id, partitions, delete=True)
        for tp in tps:
            for path in (paths.partition_state_path(name, tp.partition), paths.partition_path(name, tp.partition)):
                yield from _delete_if_present(zk, path)
            context.states.pop(tp, None)
        for path in (paths.partitions_path(name), paths.topic_path(name), paths.topic_config_path(name)):
            yield from _delete_if_present(zk, path)
        del context.topics[name]
        controller.writer.send_update_metadata(states=(), deleted_topics=(name,))
        controller.journal.emit(TopicDeleted, topic=name)

    # -- elections -----------------------------------------------------------------

    def elect_leaders(self, request: ElectLeadersRequest) -> Process[ElectLeadersResponse]:
        controller = self.controller
        context = controller.context
        live = context.live() - context.shutting_down
        tps = request.partitions if request.partitions is not None else tuple(context.partitions())
        results: dict[TopicPartition, ApiResult] = {}
        changes: list[tuple[PartitionState, elections.Election]] = []
        unclean_offline: list[TopicPartition] = []
        for tp in tps:
            state = context.states.get(tp)
            if state is None:
                results[tp] = ApiResult(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Partition {tp} does not exist.")
                continue
            if request.election_type == ElectionType.UNCLEAN:
                if state.leader != -1:
                    results[tp] = ApiResult(Errors.ELECTION_NOT_NEEDED, f"{tp} already has leader {state.leader}.")
                else:
                    unclean_offline.append(tp)
                continue
            if state.leader == state.replicas[0]:
                results[tp] = ApiResult(Errors.ELECTION_NOT_NEEDED,
                                        f"Broker {state.leader} is already the preferred leader of {tp}.")
                continue
            election = elections.preferred_replica_election(state.replicas, state.isr, live)
            if election is None:
                results[tp] = ApiResult(Errors.PREFERRED_LEADER_NOT_AVAILABLE,
                                        f"Preferred replica {state.replicas[0]} of {tp} is not alive and in the ISR "
                                        f"{list(state.isr)}.")
                continue
            changes.append((state, election))
            results[tp] = ApiResult(Errors.NONE)
        if changes:
            yield from controller.change_leaders(changes, reason="preferred leader election")
        for tp in unclean_offline:
            committed = yield from self._elect_unclean(tp)
            results[tp] = ApiResult(Errors.NONE) if committed else ApiResult(
                Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE, f"No live replica of {tp} can lead.")
        return ElectLeadersResponse(results)

    def _elect_unclean(self, tp: TopicPartition) -> Process[bool]:
        controller = self.controller
        state = controller.context.states[tp]
        election = elections.offline_partition_election(state.replicas, state.isr, controller.context.live(), True)
        if election is None:
            return False
        yield from controller.change_leaders([(state, election)], reason="unclean election requested")
        return True

    # -- broker requests -------------------------------------------------------------

    def alter_partition(self, request: AlterPartitionRequest) -> Process[AlterPartitionResponse]:
        """A leader's ISR change (KIP-497): checked against the current epochs, then committed."""
        controller = self.controller
        context = controller.context
        state = context.states.get(request.tp)
        if state is None:
            return AlterPartitionResponse(Errors.UNKNOWN_TOPIC_OR_PARTITION)
        if context.live_brokers.get(request.broker_id) != request.broker_epoch:
            return AlterPartitionResponse(Errors.STALE_BROKER_EPOCH)
        if state.leader != request.broker_id:
            return AlterPartitionResponse(Errors.NOT_LEADER_OR_FOLLOWER, state)
        if request.leader_epoch != state.leader_epoch:
            return AlterPartitionResponse(Errors.FENCED_LEADER_EPOCH, state)
        if set(request.new_isr) == set(state.isr):
            # Kafka answers a change that is already committed before checking the partition
            # epoch, so a leader retrying after a lost response learns it succeeded.
            return AlterPartitionResponse(Errors.NONE, state)
        if request.partition_epoch != state.partition_epoch:
            return AlterPartitionResponse(Errors.INVALID_UPDATE_VERSION, state)
        new_isr = tuple(r for r in request.new_isr if r in context.live_brokers and r in state.replicas)
        if state.leader not in new_isr:
            return AlterPartitionResponse(Errors.INVALID_REQUEST, state)
        proposed = PartitionState(state.topic, state.partition, context.controller_epoch, state.leader,
                                  state.leader_epoch, new_isr, state.partition_epoch, state.replicas)
        committed = yield from controller.writer.write(proposed)
        controller.writer.send_update_metadata([committed])
        return AlterPartitionResponse(Errors.NONE, committed)

    def controlled_shutdown(self, request: ControlledShutdownRequest) -> Process[ControlledShutdownResponse]:
        """Move leadership off a broker that wants to stop, and take it out of every ISR."""
        controller = self.controller
        context = controller.context
        broker_id = request.broker_id
        if context.live_brokers.get(broker_id) != request.broker_epoch:
            return ControlledShutdownResponse(Errors.STALE_BROKER_EPOCH)
        context.shutting_down.add(broker_id)
        live = context.live()
        changes: list[tuple[PartitionState, elections.Election]] = []
        for state in list(context.states.values()):
            if state.leader == broker_id and len(state.replicas) > 1:
                election = elections.controlled_shutdown_election(state.replicas, state.isr, live,
                                                                  context.shutting_down)
                if election is not None:
                    changes.append((state, election))
        moved = yield from controller.change_leaders(
            changes, reason=f"broker {broker_id} is shutting down cleanly (controlled shutdown)")
        moved_tps = {s.tp for s in moved}
        followers = [tp for tp, s in context.states.items()
                     if broker_id in s.isr and s.leader != broker_id and tp not in moved_tps]
        yield from controller.remove_from_isr([broker_id], skip=set(context.states) - set(followers))
        controller.writer.send_stop_replica(broker_id, followers, delete=False)
        remaining = tuple(sorted(tp for tp, s in context.states.items()
                                 if s.leader == broker_id and len(s.replicas) > 1))
        return ControlledShutdownResponse(Errors.NONE, remaining)


def _delete_if_present(zk, path: str) -> Process[None]:
    try:
        yield zk.delete(path)
    except ZkException as exc:
        if exc.code != ZkCode.NO_NODE:
            raise
