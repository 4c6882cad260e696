"""The active controller's answers to topic, config, election and ISR requests (Kafka 4.1's ``QuorumController``).

CreateTopics, DeleteTopics, CreatePartitions, IncrementalAlterConfigs, ElectLeaders and
AlterPartition: each handler decides with the node's ``ReplicationControl`` against its
working image (``ReplicationControlManager``, ``ConfigurationControlManager``), writes the
records through the node and returns the response with the future of their commit; what
happened is narrated (TopicCreated, PartitionsAdded ...) only once it is committed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import PartitionsAdded, TopicConfigChanged, TopicCreated, TopicDeleted
from kafkalab.kraft.broker_link import partition_state
from kafkalab.kraft.replication import Change, ReplicationControl
from kafkalab.metadata.records import ConfigRecord, MetadataRecord, PartitionRecord
from kafkalab.protocol import admin as admin_api
from kafkalab.protocol import controller_api as ctl
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future

if TYPE_CHECKING:
    from kafkalab.kraft.controller_node import ControllerNode

#: A request handler: the response (or a function making it once committed) and the commit's future.
Handler = Callable[[Any], tuple[Any, Future[None]]]


class TopicRequests:
    """The handlers of one controller node's topic, config, election and AlterPartition requests."""

    def __init__(self, node: ControllerNode) -> None:
        self.node = node

    def handlers(self) -> dict[type, Handler]:
        return {
            admin_api.CreateTopicsRequest: self.create_topics,
            admin_api.DeleteTopicsRequest: self.delete_topics,
            admin_api.CreatePartitionsRequest: self.create_partitions,
            admin_api.IncrementalAlterConfigsRequest: self.alter_configs,
            admin_api.ElectLeadersRequest: self.elect_leaders,
            ctl.AlterPartitionRequest: self.alter_partition,
        }

    def create_topics(self, request: admin_api.CreateTopicsRequest) -> tuple[Any, Future[None]]:
        results: dict[str, admin_api.ApiResult] = {}
        committed: Future[None] = Future.completed(None)
        created: list[tuple[admin_api.CreatableTopic, list[MetadataRecord]]] = []
        for topic in request.topics:
            try:
                records = self.node.replication.create_topic(topic, request.internal_topics_allowed)
            except KafkaError as exc:
                results[topic.name] = ReplicationControl.result(exc)
                continue
            results[topic.name] = admin_api.ApiResult(Errors.NONE)
            if not request.validate_only:
                committed = self.node.write(records)
                created.append((topic, records))

        def narrate(future: Future[None]) -> None:
            if future.error is not None:
                return
            for topic, _ in created:
                image = self.node.image.topics.get(topic.name)
                if image is None:
                    continue
                assignment = tuple(p.replicas for _, p in sorted(image.partitions.items()))
                self.node.journal.emit(TopicCreated, topic=topic.name, partitions=len(assignment),
                                  replication_factor=len(assignment[0]), assignment=assignment,
                                  configs=tuple(sorted(self.node.image.topic_config(topic.name).items())))

        committed.add_done_callback(narrate)
        return admin_api.CreateTopicsResponse(results), committed

    def delete_topics(self, request: admin_api.DeleteTopicsRequest) -> tuple[Any, Future[None]]:
        results: dict[str, admin_api.ApiResult] = {}
        committed: Future[None] = Future.completed(None)
        deleted: list[str] = []
        for name in request.names:
            try:
                committed = self.node.write(self.node.replication.delete_topic(name))
            except KafkaError as exc:
                if exc.error in (Errors.NOT_CONTROLLER, Errors.NOT_LEADER_OR_FOLLOWER):
                    raise
                results[name] = ReplicationControl.result(exc)
                continue
            results[name] = admin_api.ApiResult(Errors.NONE)
            deleted.append(name)
        self.node.after_commit(committed, lambda: [self.node.journal.emit(TopicDeleted, topic=name) for name in deleted])
        return admin_api.DeleteTopicsResponse(results), committed

    def create_partitions(self, request: admin_api.CreatePartitionsRequest) -> tuple[Any, Future[None]]:
        results: dict[str, admin_api.ApiResult] = {}
        committed: Future[None] = Future.completed(None)
        for name, count in request.topics:
            try:
                records = self.node.replication.create_partitions(name, count)
            except KafkaError as exc:
                results[name] = ReplicationControl.result(exc)
                continue
            results[name] = admin_api.ApiResult(Errors.NONE)
            if not request.validate_only:
                committed = self.node.write(records)
                added = tuple(r.replicas for r in records if isinstance(r, PartitionRecord))
                self.node.after_commit(committed, functools.partial(self.node.journal.emit, PartitionsAdded, topic=name,
                                                                partitions=count, assignment=added))
        return admin_api.CreatePartitionsResponse(results), committed

    def alter_configs(self, request: admin_api.IncrementalAlterConfigsRequest) -> tuple[Any, Future[None]]:
        try:
            records = self.node.replication.alter_configs(request)
        except KafkaError as exc:
            if exc.error in (Errors.NOT_CONTROLLER, Errors.NOT_LEADER_OR_FOLLOWER):
                raise
            return admin_api.IncrementalAlterConfigsResponse(ReplicationControl.result(exc)), Future.completed(None)
        if request.validate_only:
            return admin_api.IncrementalAlterConfigsResponse(admin_api.ApiResult(Errors.NONE)), Future.completed(None)
        committed = self.node.write(records)
        changes = tuple((record.name, record.value) for record in records if isinstance(record, ConfigRecord))
        self.node.after_commit(committed, lambda: self.node.journal.emit(TopicConfigChanged, topic=request.topic,
                                                                changes=changes))
        return admin_api.IncrementalAlterConfigsResponse(admin_api.ApiResult(Errors.NONE)), committed

    def elect_leaders(self, request: admin_api.ElectLeadersRequest) -> tuple[Any, Future[None]]:
        working = self.node.working
        partitions: Iterable[TopicPartition] = (
            request.partitions if request.partitions is not None
            else self.node.replication.partitions_where(lambda p: True))
        results: dict[TopicPartition, admin_api.ApiResult] = {}
        changes: list[Change] = []
        for tp in partitions:
            if request.election_type == admin_api.ElectionType.UNCLEAN:
                registration = working.partition(tp.topic, tp.partition)
                if registration is None:
                    results[tp] = admin_api.ApiResult(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Partition {tp} does not exist.")
                elif registration.leader >= 0:
                    results[tp] = admin_api.ApiResult(Errors.ELECTION_NOT_NEEDED,
                                                      f"{tp} already has leader {registration.leader}.")
                else:
                    results[tp] = admin_api.ApiResult(Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE,
                                                      f"No live replica of {tp} can lead.")
                continue
            result, record = self.node.replication.elect_preferred(tp)
            results[tp] = result
            if record is not None:
                changes.append((tp, record))
        committed = self.node.write_changes(changes, "preferred leader election")
        return admin_api.ElectLeadersResponse(results), committed

    def alter_partition(self, request: ctl.AlterPartitionRequest) -> tuple[Any, Future[None]]:
        broker_epochs = {b: r.epoch for b, r in self.node.working.brokers.items()}
        error, record = self.node.replication.alter_partition(request, broker_epochs)
        if error != Errors.NONE:
            return ctl.AlterPartitionResponse(error), Future.completed(None)
        committed = self.node.write([record]) if record is not None else Future.completed(None)
        tp = request.tp

        def response() -> ctl.AlterPartitionResponse:
            registration = self.node.image.partition(tp.topic, tp.partition)
            if registration is None:
                return ctl.AlterPartitionResponse(Errors.UNKNOWN_TOPIC_OR_PARTITION)
            return ctl.AlterPartitionResponse(Errors.NONE, partition_state(tp, registration))

        return response, committed
