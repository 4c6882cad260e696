"""Actions on the cluster itself: topics, configs, brokers, network links, elections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kafkalab.actions.base import MAX_STEP_MS, Action, ActionRun, doc, register
from kafkalab.actions.describe import describe_topic
from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.types import TopicPartition
from kafkalab.session.session import Session
from kafkalab.validation import COLLISION_WARNING, MAX_RECORDS_PER_USER_OP, has_collision_chars

Node = int | str


@register
@dataclass(frozen=True)
class CreateTopic(Action):
    step = "create_topic"
    summary = "Create a topic with partitions, a replication factor and config overrides."

    name: str = doc("Topic name (letters, digits, '.', '_' and '-').", examples=["orders"])
    partitions: int = doc("Number of partitions (a request creates at most 10,000 metadata records: one for the "
                          "topic, one per partition and one per config override).", 1, minimum=1,
                          maximum=MAX_RECORDS_PER_USER_OP - 1)
    replication_factor: int = doc("Copies of each partition, at most the number of live brokers.", 1, minimum=1)
    config: dict[str, bool | int | float | str] = doc("Topic config overrides with Kafka's names.", {},
                                                      examples=[{"min.insync.replicas": 2}])

    def run(self, session: Session) -> ActionRun:
        yield session.cluster.create_topic(self.name, self.partitions, self.replication_factor, self.config)
        result: dict[str, Any] = {"topic": self.name, "partitions": self.partitions,
                                  "replication_factor": self.replication_factor}
        if has_collision_chars(self.name):
            result["warning"] = COLLISION_WARNING  # as Kafka's kafka-topics.sh prints it
        return result


@register
@dataclass(frozen=True)
class DeleteTopic(Action):
    step = "delete_topic"
    summary = "Delete a topic and every replica of it."
    shorthand = "topic"

    topic: str = doc("Topic to delete.")

    def run(self, session: Session) -> ActionRun:
        yield session.cluster.delete_topic(self.topic)
        return {"topic": self.topic}


@register
@dataclass(frozen=True)
class AlterConfig(Action):
    step = "alter_config"
    summary = "Set or reset a topic's config overrides (retention.ms, min.insync.replicas ...)."

    topic: str = doc("Topic whose config changes.")
    set: dict[str, bool | int | float | str] = doc("Overrides to set.", {})
    delete: tuple[str, ...] = doc("Overrides to remove (back to the broker default).", ())

    def run(self, session: Session) -> ActionRun:
        yield session.cluster.alter_topic_config(self.topic, self.set, self.delete)
        return {"topic": self.topic, "set": {k: str(v) for k, v in self.set.items()}, "delete": list(self.delete)}


@register
@dataclass(frozen=True)
class DescribeTopic(Action):
    step = "describe_topic"
    summary = "Show each partition's leader, replicas, ISR, epoch and offsets."
    shorthand = "topic"

    topic: str = doc("Topic to describe.")

    def run(self, session: Session) -> dict[str, Any]:
        return describe_topic(session.cluster.snapshot(), self.topic)


@register
@dataclass(frozen=True)
class KillBroker(Action):
    step = "kill_broker"
    summary = "Crash a broker: no flush, no goodbye; the cluster notices when its ZooKeeper session expires."
    shorthand = "broker"

    broker: int = doc("Broker id.", minimum=1)

    def run(self, session: Session) -> dict[str, Any]:
        session.cluster.kill_broker(self.broker)
        return {"broker": self.broker}


@register
@dataclass(frozen=True)
class RestartBroker(Action):
    step = "restart_broker"
    summary = "Start a stopped broker: it recovers its logs, registers and catches up."
    shorthand = "broker"

    broker: int = doc("Broker id.", minimum=1)

    def run(self, session: Session) -> ActionRun:
        yield session.cluster.restart_broker(self.broker)
        return {"broker": self.broker}


@register
@dataclass(frozen=True)
class ShutdownBroker(Action):
    step = "shutdown_broker"
    summary = "Stop a broker cleanly: leadership moves away first, logs are flushed."
    shorthand = "broker"

    broker: int = doc("Broker id.", minimum=1)

    def run(self, session: Session) -> ActionRun:
        yield session.cluster.shutdown_broker(self.broker)
        return {"broker": self.broker}


def _pair(between: tuple[Node, ...]) -> tuple[Node, Node]:
    if len(between) != 2:
        raise KafkaError(Errors.INVALID_ARGUMENT, f"A link joins exactly two nodes, got {list(between)}.")
    return between[0], between[1]


@register
@dataclass(frozen=True)
class CutLink(Action):
    step = "cut_link"
    summary = "Cut the network between two brokers, or a broker and ZooKeeper ('zk')."
    shorthand = "between"

    between: tuple[int | str, ...] = doc("The two nodes: broker ids or zk.", examples=[[1, 2], [1, "zk"]])

    def run(self, session: Session) -> dict[str, Any]:
        a, b = _pair(self.between)
        session.cluster.cut_link(a, b)
        return {"between": [a, b]}


@register
@dataclass(frozen=True)
class HealLink(Action):
    step = "heal_link"
    summary = "Restore a cut network link."
    shorthand = "between"

    between: tuple[int | str, ...] = doc("The two nodes: broker ids or zk.")

    def run(self, session: Session) -> dict[str, Any]:
        a, b = _pair(self.between)
        session.cluster.heal_link(a, b)
        return {"between": [a, b]}


@register
@dataclass(frozen=True)
class SetLatency(Action):
    step = "set_latency"
    summary = "Make messages between two nodes take this long each way."

    between: tuple[int | str, ...] = doc("The two nodes: broker ids or zk.")
    ms: float = doc("One-way latency in milliseconds.", minimum=0, maximum=MAX_STEP_MS)

    def run(self, session: Session) -> dict[str, Any]:
        a, b = _pair(self.between)
        session.cluster.set_latency(a, b, self.ms)
        return {"between": [a, b], "ms": self.ms}


@register
@dataclass(frozen=True)
class ElectLeaders(Action):
    step = "elect_leaders"
    summary = "Preferred-leader election: move leadership back to each partition's first replica."

    topic: str | None = doc("Only this topic (default: every partition).", None)
    partition: int | None = doc("Only this partition of the topic.", None, minimum=0)

    def run(self, session: Session) -> ActionRun:
        partitions: tuple[TopicPartition, ...] | None = None
        if self.topic is not None:
            view = session.cluster.snapshot().topic(self.topic)
            if view is None:
                raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{self.topic}' does not exist.")
            numbers = [p.partition for p in view.partitions] if self.partition is None else [self.partition]
            partitions = tuple(TopicPartition(self.topic, p) for p in numbers)
        results = yield session.cluster.elect_preferred_leaders(partitions)
        outcome: dict[str, Any] = {str(tp): result.error.name for tp, result in sorted(results.items())}
        return {"results": outcome}
