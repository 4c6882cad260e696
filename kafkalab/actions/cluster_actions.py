"""Actions on the cluster itself: topics, configs, brokers, network links, elections."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.actions.base import MAX_STEP_MS, Action, ActionRun, doc, register
from kafkalab.actions.describe import describe_topic
from kafkalab.actions.results import (
    AlterConfigResult,
    BrokerResult,
    CreateTopicResult,
    DeleteTopicResult,
    DescribeTopicResult,
    ElectLeadersResult,
    LatencyResult,
    LinkResult,
    Node,
)
from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.types import TopicPartition
from kafkalab.session.session import Session
from kafkalab.validation import COLLISION_WARNING, MAX_RECORDS_PER_USER_OP, has_collision_chars, min_isr_warning


@register
@dataclass(frozen=True)
class CreateTopic(Action[CreateTopicResult]):
    step = "create_topic"
    summary = "Create a topic with partitions, a replication factor and config overrides."

    name: str = doc("Topic name (letters, digits, '.', '_' and '-').", examples=["orders"])
    partitions: int = doc("Number of partitions (a request creates at most 10,000 metadata records: one for the "
                          "topic, one per partition and one per config override).", 1, minimum=1,
                          maximum=MAX_RECORDS_PER_USER_OP - 1)
    replication_factor: int = doc("Copies of each partition, at most the number of live brokers.", 1, minimum=1)
    config: dict[str, bool | int | float | str] = doc("Topic config overrides with Kafka's names.", {},
                                                      examples=[{"min.insync.replicas": 2}])

    def run(self, session: Session) -> ActionRun[CreateTopicResult]:
        yield session.cluster.create_topic(self.name, self.partitions, self.replication_factor, self.config)
        warnings = []
        if has_collision_chars(self.name):  # as Kafka's kafka-topics.sh warns
            warnings.append(COLLISION_WARNING)
        min_isr = session.cluster.topic_config(self.name).min_insync_replicas
        if min_isr > self.replication_factor:
            warnings.append(min_isr_warning(min_isr, self.replication_factor))
        return CreateTopicResult(self.name, self.partitions, self.replication_factor, " ".join(warnings) or None)


@register
@dataclass(frozen=True)
class DeleteTopic(Action[DeleteTopicResult]):
    step = "delete_topic"
    summary = "Delete a topic and every replica of it."
    shorthand = "topic"

    topic: str = doc("Topic to delete.")

    def run(self, session: Session) -> ActionRun[DeleteTopicResult]:
        yield session.cluster.delete_topic(self.topic)
        return DeleteTopicResult(self.topic)


@register
@dataclass(frozen=True)
class AlterConfig(Action[AlterConfigResult]):
    step = "alter_config"
    summary = "Set or reset a topic's config overrides (retention.ms, min.insync.replicas ...)."

    topic: str = doc("Topic whose config changes.")
    set: dict[str, bool | int | float | str] = doc("Overrides to set.", {})
    delete: tuple[str, ...] = doc("Overrides to remove (back to the broker default).", ())

    def run(self, session: Session) -> ActionRun[AlterConfigResult]:
        yield session.cluster.alter_topic_config(self.topic, self.set, self.delete)
        return AlterConfigResult(self.topic, {k: str(v) for k, v in self.set.items()}, self.delete)


@register
@dataclass(frozen=True)
class DescribeTopic(Action[DescribeTopicResult]):
    step = "describe_topic"
    summary = "Show each partition's leader, replicas, ISR, epoch and offsets."
    shorthand = "topic"

    topic: str = doc("Topic to describe.")

    def run(self, session: Session) -> DescribeTopicResult:
        return describe_topic(session.cluster.snapshot(), self.topic)


@register
@dataclass(frozen=True)
class KillBroker(Action[BrokerResult]):
    step = "kill_broker"
    summary = "Crash a broker: no flush, no goodbye; the cluster notices when its ZooKeeper session expires."
    shorthand = "broker"

    broker: int = doc("Broker id.", minimum=1)

    def run(self, session: Session) -> BrokerResult:
        session.cluster.kill_broker(self.broker)
        return BrokerResult(self.broker)


@register
@dataclass(frozen=True)
class RestartBroker(Action[BrokerResult]):
    step = "restart_broker"
    summary = "Start a stopped broker: it recovers its logs, registers and catches up."
    shorthand = "broker"

    broker: int = doc("Broker id.", minimum=1)

    def run(self, session: Session) -> ActionRun[BrokerResult]:
        yield session.cluster.restart_broker(self.broker)
        return BrokerResult(self.broker)


@register
@dataclass(frozen=True)
class ShutdownBroker(Action[BrokerResult]):
    step = "shutdown_broker"
    summary = "Stop a broker cleanly: leadership moves away first, logs are flushed."
    shorthand = "broker"

    broker: int = doc("Broker id.", minimum=1)

    def run(self, session: Session) -> ActionRun[BrokerResult]:
        yield session.cluster.shutdown_broker(self.broker)
        return BrokerResult(self.broker)


def _pair(between: tuple[Node, ...]) -> tuple[Node, Node]:
    if len(between) != 2:
        raise KafkaError(Errors.INVALID_ARGUMENT, f"A link joins exactly two nodes, got {list(between)}.")
    return between[0], between[1]


@register
@dataclass(frozen=True)
class CutLink(Action[LinkResult]):
    step = "cut_link"
    summary = "Cut the network between two brokers, or a broker and ZooKeeper ('zk')."
    shorthand = "between"

    between: tuple[int | str, ...] = doc("The two nodes: broker ids or zk.", examples=[[1, 2], [1, "zk"]])

    def run(self, session: Session) -> LinkResult:
        a, b = _pair(self.between)
        session.cluster.cut_link(a, b)
        return LinkResult((a, b))


@register
@dataclass(frozen=True)
class HealLink(Action[LinkResult]):
    step = "heal_link"
    summary = "Restore a cut network link."
    shorthand = "between"

    between: tuple[int | str, ...] = doc("The two nodes: broker ids or zk.")

    def run(self, session: Session) -> LinkResult:
        a, b = _pair(self.between)
        session.cluster.heal_link(a, b)
        return LinkResult((a, b))


@register
@dataclass(frozen=True)
class SetLatency(Action[LatencyResult]):
    step = "set_latency"
    summary = "Make messages between two nodes take this long each way."

    between: tuple[int | str, ...] = doc("The two nodes: broker ids or zk.")
    ms: float = doc("One-way latency in milliseconds.", minimum=0, maximum=MAX_STEP_MS)

    def run(self, session: Session) -> LatencyResult:
        a, b = _pair(self.between)
        session.cluster.set_latency(a, b, self.ms)
        return LatencyResult((a, b), self.ms)


@register
@dataclass(frozen=True)
class ElectLeaders(Action[ElectLeadersResult]):
    step = "elect_leaders"
    summary = "Preferred-leader election: move leadership back to each partition's first replica."

    topic: str | None = doc("Only this topic (default: every partition).", None)
    partition: int | None = doc("Only this partition of the topic.", None, minimum=0)

    def run(self, session: Session) -> ActionRun[ElectLeadersResult]:
        partitions: tuple[TopicPartition, ...] | None = None
        if self.topic is not None:
            view = session.cluster.snapshot().topic(self.topic)
            if view is None:
                raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{self.topic}' does not exist.")
            numbers = [p.partition for p in view.partitions] if self.partition is None else [self.partition]
            partitions = tuple(TopicPartition(self.topic, p) for p in numbers)
        results = yield session.cluster.elect_preferred_leaders(partitions)
        return ElectLeadersResult({str(tp): result.error.name for tp, result in sorted(results.items())})
