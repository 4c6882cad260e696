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
from kafkalab.errors import Errors, KafkaError, quoted
from kafkalab.events.cluster import PartitionsAdded, TopicCreated
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
from kafkalab.validation import (
    MAX_RECORDS_PER_USER_OP,
    is_internal,
    validate_partition_increase,
    validate_topic_is_new,
    validate_topic_name,
)


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
                assignment, configs = self._validate_new_topic(topic, request.internal_topics_allowed)
            except KafkaError as exc:
                results[topic.name] = _result(exc)
                continue
            try:
                if request.validate_only:
                    yield from self._check_not_in_zookeeper(topic.name)
                else:
                    yield from self._create_topic(topic, assignment, configs)
            except KafkaError as exc:
                results[topic.name] = _result(exc)
                continue
            results[topic.name] = ApiResult(Errors.NONE)
        return CreateTopicsResponse(results)

    def _check_not_in_zookeeper(self, name: str) -> Process[None]:
        """Kafka's ``AdminZkClient.validateTopicCreate`` asks ZooKeeper, not a cache: right after a
        controller failover the new controller may not have read a topic its predecessor created."""
        found = yield self.controller.zk.exists(paths.topic_path(name))
        if found.code == ZkCode.OK:
            raise KafkaError(Errors.TOPIC_ALREADY_EXISTS, f"Topic '{name}' already exists.")

    def _validate_new_topic(self, topic: CreatableTopic,
                            internal_topics_allowed: bool) -> tuple[dict[int, tuple[int, ...]], dict[str, str]]:
        context = self.controller.context
        validate_topic_name(topic.name)
        if is_internal(topic.name) and not internal_topics_allowed:
            # Kafka's KafkaApis refuses __cluster_metadata this way; here the brokers create the
            # internal topics themselves, with the offsets.topic.* settings their readers rely on.
            raise KafkaError(Errors.INVALID_REQUEST, f"Creation of internal topic {topic.name} is prohibited.")
        if topic.name in context.topics_to_delete:
            raise KafkaError(Errors.TOPIC_ALREADY_EXISTS, f"Topic '{topic.name}' is marked for deletion.")
        validate_topic_is_new(topic.name, context.topics)
        partitions = self._partitions(topic)
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
            raise KafkaError(Errors.INVALID_PARTITIONS, f"Number of partitions must be at least 1, not {quoted(partitions)}.")
        parsed = parse_topic_configs(topic.configs)
        # One topic record, one per partition and one per config override, as Kafka's controller counts them.
        if 1 + partitions + len(parsed) > MAX_RECORDS_PER_USER_OP:
            raise KafkaError(Errors.POLICY_VIOLATION,
                             f"Unable to perform excessively large batch operation: {partitions:,} partitions are more "
                             f"than one request may create ({MAX_RECORDS_PER_USER_OP - 1 - len(parsed):,}).")
        configs = {key: str(topic.configs[key]) for key in parsed}
        live = sorted(context.live_brokers)
        assignment = placement.assign_replicas(self._partitions(topic), self._replication_factor(topic), live,
                                               self.controller.rng)
        return assignment, configs

    def _partitions(self, topic: CreatableTopic) -> int:
        """-1 asks for the broker's ``num.partitions`` (KIP-464, Kafka 2.4+)."""
        return self.controller.config["num.partitions"] if topic.num_partitions == -1 else topic.num_partitions

    def _replication_factor(self, topic: CreatableTopic) -> int:
        """-1 asks for the broker's ``default.replication.factor`` (KIP-464, Kafka 2.4+)."""
        if topic.replication_factor == -1:
            return self.controller.config["default.replication.factor"]
        return topic.replication_factor

    def _create_topic(self, topic: CreatableTopic, assignment: dict[int, tuple[int, ...]],
                      configs: dict[str, str]) -> Process[None]:
        controller = self.controller
        zk = controller.zk
        topic_id = _topic_id(controller)
        # Kafka writes the config before the assignment, so brokers never see a topic without it,
        # and overwrites one that is there (setOrCreateEntityConfigs): a creation cut short by a
        # controller failover leaves a config behind that must not block the next attempt.
        yield from self._check_not_in_zookeeper(topic.name)
        config_path, config_data = paths.topic_config_path(topic.name), paths.topic_config_data(configs)
        try:
            yield zk.create(config_path, config_data)
        except ZkException as exc:
            if exc.code != ZkCode.NODE_EXISTS:
                raise
            yield zk.set_data(config_path, config_data)
        try:
            yield zk.create(paths.topic_path(topic.name), paths.topic_assignment(assignment, topic_id))
        except ZkException as exc:
            # AdminZkClient.writeTopicPartitionAssignment turns NodeExistsException into TopicExistsException.
            # It happens after the check above when a create resent after CONNECTIONLOSS had in fact been
            # applied: the topic is in ZooKeeper, and the controller's watch on /brokers/topics picks it up.
            if exc.code == ZkCode.NODE_EXISTS:
                raise KafkaError(Errors.TOPIC_ALREADY_EXISTS, f"Topic '{topic.name}' already exists.") from None
            raise
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
        validate_partition_increase(current, count)
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
        """Mark topics for deletion, then wait until they are gone (Kafka's ``ZkAdminManager.deleteTopics``).

        Not run on the controller's queue (the deletion it waits for runs there). Like Kafka's
        ``DelayedDeleteTopics``, a topic still there after the request's timeout answers
        REQUEST_TIMED_OUT, and the deletion carries on; Kafka's waits until the topic left the
        metadata cache, ours until it left ZooKeeper, so a client sees it gone once answered.
        """
        controller = self.controller
        results: dict[str, ApiResult] | None = yield controller.submit(
            lambda: self._mark_for_deletion(request.names), "DeleteTopics")
        if results is None:
            raise KafkaError(Errors.NOT_CONTROLLER, "This broker is not the controller.")
        marked = [name for name, result in results.items() if result.error == Errors.NONE]
        still_there = yield controller.deletion.wait_deleted(marked, request.timeout_ms)
        for name in still_there:
            holding = ", ".join(map(str, controller.deletion.brokers_holding_replicas(name)))
            results[name] = ApiResult(Errors.REQUEST_TIMED_OUT, f"Topic '{name}' is marked for deletion; it is "
                                                                f"deleted once broker(s) {holding} delete their replicas.")
        return DeleteTopicsResponse(results)

    def _mark_for_deletion(self, names: tuple[str, ...]) -> Process[dict[str, ApiResult]]:
        results: dict[str, ApiResult] = {}
        for name in names:
            if name not in self.controller.context.topics:
                results[name] = ApiResult(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {quoted(name)} does not exist.")
                continue
            try:
                yield self.controller.zk.create(paths.delete_topic_path(name), "")
            except ZkException as exc:
                # Kafka swallows TopicAlreadyMarkedForDeletionException: the request waits like the first.
                if exc.code != ZkCode.NODE_EXISTS:
                    raise
            results[name] = ApiResult(Errors.NONE)
        return results

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
            if tp.topic in context.topics_to_delete:
                # Kafka's onReplicaElection leaves partitions of topics being deleted out, with this error.
                results[tp] = ApiResult(Errors.INVALID_TOPIC_EXCEPTION, f"Topic {tp.topic} is being deleted.")
                continue
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

