"""The action vocabulary on a real cluster: what runs through a Kafka client, what only the lab can do, and why.

Actions keep their types and their results (``CreateTopicResult``, ``ProduceResult`` ...), so
a screen or a report does not know which cluster ran them. Steps that need the lab (a broker
process, a network link, virtual time) are refused with the reason; steps that change the
cluster are refused unless writes were allowed (``--allow-writes``), because a cluster that
is not the lab is someone's data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafkalab.actions.base import Action
from kafkalab.actions.client_actions import DescribeGroup, Produce
from kafkalab.actions.cluster_actions import AlterConfig, CreateTopic, DeleteTopic, DescribeTopic
from kafkalab.actions.control_actions import Note
from kafkalab.actions.describe import describe_group, describe_topic
from kafkalab.actions.execute import ActionOutcome
from kafkalab.actions.results import (
    ActionResult,
    AlterConfigResult,
    CreateTopicResult,
    DeleteTopicResult,
    NoteResult,
    ProducedRecord,
    ProduceResult,
)
from kafkalab.actions.templates import render
from kafkalab.attach.client import confluent
from kafkalab.attach.client_steps import CLIENT_STEPS, ClientSteps, text
from kafkalab.attach.transactions import TransactionalProducers
from kafkalab.errors import Errors, KafkaError
from kafkalab.validation import COLLISION_WARNING, has_collision_chars, min_isr_warning
from kafkalab.views import ClusterView

_PROCESS = "a real broker's process is its operator's to stop and start, not a Kafka client's"
_NETWORK = "the network between real brokers is not kafkalab's to cut or slow"
_CONTROLLER = "a real controller's process is its operator's to stop and start, not a Kafka client's"
#: Steps only the lab can run, and why (shown on disabled keys, and in ``run --bootstrap``'s refusal).
LAB_ONLY: dict[str, str] = {
    "kill_broker": _PROCESS, "restart_broker": _PROCESS, "shutdown_broker": _PROCESS,
    "cut_link": _NETWORK, "heal_link": _NETWORK, "set_latency": _NETWORK,
    "kill_controller": _CONTROLLER, "restart_controller": _CONTROLLER,
    "wait": "it runs on the lab's virtual clock; a real cluster's time cannot be paused or skipped",
    "expect": "its checks read the lab's journal of events, which a real cluster does not keep",
    "describe_quorum": "KRaft's quorum state is not in any request a Kafka client may send",
}
#: Steps that change the cluster: refused on a real cluster unless writes were allowed. A consumer joining a group
#: changes it too: the group's members rebalance (maybe someone's application's), and its commits move their offsets;
#: a stream processor is such a consumer, and writes its sink topic too.
WRITES = frozenset({"produce", "create_topic", "delete_topic", "alter_config", "start_consumer", "consume", "commit",
                    "start_producer", "start_processor"})
#: Steps that run through the real client; every other step is not available attached yet.
SUPPORTED = WRITES | CLIENT_STEPS | {"describe_topic", "describe_group", "note"}


def refusal(step: str, allow_writes: bool) -> KafkaError | None:
    """Why ``step`` cannot run on an attached cluster (None: it can)."""
    if step in LAB_ONLY:
        return KafkaError(Errors.LAB_ONLY, f"{step} needs the lab: {LAB_ONLY[step]}.")
    if step not in SUPPORTED:
        return KafkaError(Errors.LAB_ONLY, f"{step} is not available on an attached cluster yet.")
    if step in WRITES and not allow_writes:
        return KafkaError(Errors.CLUSTER_READ_ONLY, f"{step} changes the cluster, which is read-only unless "
                                                    f"kafkalab attach is given --allow-writes.")
    return None


def _kafka_error(exc: BaseException) -> KafkaError:
    """confluent-kafka's error as kafkalab's: the same Kafka error name, with librdkafka's message."""
    error: Any = exc.args[0] if exc.args else None
    name, message = (error.name(), error.str()) if hasattr(error, "name") else ("", str(exc))
    return KafkaError(_error(name), message)


#: librdkafka's own errors that are Kafka's under another name: a transactional producer fenced by a newer instance of
#: its id (the broker's INVALID_PRODUCER_EPOCH or PRODUCER_FENCED, as Java's producer throws ProducerFencedException).
_LIBRDKAFKA_NAMES = {"_FENCED": Errors.PRODUCER_FENCED}


def _error(name: str | None) -> Errors:
    """Kafka's error of that name (librdkafka names client-side ones ``_TIMED_OUT``, which Kafka has not)."""
    if name in _LIBRDKAFKA_NAMES:
        return _LIBRDKAFKA_NAMES[name]
    return Errors[name] if name is not None and name in Errors.__members__ else Errors.UNKNOWN_SERVER_ERROR


class RealClientActions:
    """Runs actions on the cluster at ``config`` (``client.client_config``); ``view`` gives its newest view."""

    def __init__(self, config: dict[str, Any], view: Callable[[], ClusterView | None], *, allow_writes: bool,
                 timeout_s: float = 30.0) -> None:
        self._ck = confluent()
        from confluent_kafka.admin import AdminClient

        self._config = config
        self._admin = AdminClient(config)
        self._view = view
        self.allow_writes = allow_writes
        self._timeout = timeout_s
        self._clients = ClientSteps(self._ck, config, timeout_s)
        self._transactions = TransactionalProducers(self._ck, timeout_s)

    def close(self) -> None:
        """Stop the consumers and steady producers steps started: consumers leave their groups, and open transactions
        are aborted."""
        self._clients.close()
        self._transactions.close()

    def run(self, action: Action[Any]) -> ActionOutcome[Any]:
        """Run ``action`` on the calling thread; a refusal or a Kafka error is the outcome's error."""
        refused = refusal(action.step, self.allow_writes)
        if refused is not None:
            return ActionOutcome(action, None, refused)
        try:
            return ActionOutcome(action, self._run(action))
        except KafkaError as exc:
            return ActionOutcome(action, None, exc)
        except self._ck.KafkaException as exc:
            return ActionOutcome(action, None, _kafka_error(exc))

    def _current(self) -> ClusterView:
        view = self._view()
        if view is None:
            raise KafkaError(Errors.BROKER_NOT_AVAILABLE, "The cluster has not answered a describe round yet.")
        return view

    def _run(self, action: Action[Any]) -> ActionResult:
        from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic, ResourceType

        if isinstance(action, DescribeTopic):
            return describe_topic(self._current(), action.topic)
        if isinstance(action, DescribeGroup):
            return describe_group(self._current(), action.group)
        if isinstance(action, CreateTopic):
            topic = NewTopic(action.name, action.partitions, action.replication_factor,
                             config={key: text(value) for key, value in action.config.items()})
            self._admin.create_topics([topic], request_timeout=self._timeout)[action.name].result(self._timeout)
            return CreateTopicResult(action.name, action.partitions, action.replication_factor,
                                     self._creation_warning(action))
        if isinstance(action, DeleteTopic):
            self._admin.delete_topics([action.topic], request_timeout=self._timeout)[action.topic].result(self._timeout)
            return DeleteTopicResult(action.topic)
        if isinstance(action, AlterConfig):
            entries = [ConfigEntry(key, text(value), incremental_operation=AlterConfigOpType.SET)
                       for key, value in action.set.items()]
            entries += [ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE) for key in action.delete]
            resource = ConfigResource(ResourceType.TOPIC, action.topic, incremental_configs=entries)
            for future in self._admin.incremental_alter_configs([resource]).values():
                future.result(self._timeout)
            return AlterConfigResult(action.topic, {k: text(v) for k, v in action.set.items()}, action.delete)
        if isinstance(action, Produce):
            return self._produce(action)
        if isinstance(action, Note):
            return NoteResult(action.text)
        return self._clients.run(action)

    def _creation_warning(self, action: CreateTopic) -> str | None:
        """The lab's warnings for a new topic: a name that may collide in metric names (as kafka-topics.sh warns), and
        a min.insync.replicas above the replication factor: the step's own, else the cluster's default as the new
        topic describes it (none when the broker asked has not heard of the topic yet)."""
        warnings = [COLLISION_WARNING] if has_collision_chars(action.name) else []
        given = action.config.get("min.insync.replicas")
        min_isr = int(given) if given is not None else self._described_min_isr(action.name)
        if min_isr is not None and min_isr > action.replication_factor:
            warnings.append(min_isr_warning(min_isr, action.replication_factor))
        return " ".join(warnings) or None

    def _described_min_isr(self, topic: str) -> int | None:
        from confluent_kafka.admin import ConfigResource, ResourceType

        resource = ConfigResource(ResourceType.TOPIC, topic)
        try:
            entries = self._admin.describe_configs([resource], request_timeout=self._timeout)[resource].result(
                self._timeout)
        except self._ck.KafkaException:
            return None
        entry = entries.get("min.insync.replicas")
        return int(entry.value) if entry is not None and entry.value is not None else None

    def _produce(self, action: Produce) -> ProduceResult:
        """The records sent by a confluent-kafka producer with the step's acks and configs; with a transactional id,
        in the transaction of that id's producer (``transactions.py``), flushed before the step's end, as the lab's
        step flushes before it commits or aborts."""
        if action.partitioner is not None:
            raise KafkaError(Errors.LAB_ONLY, "kafkalab's partitioner choices are not available on an attached "
                                              "cluster yet")
        config: dict[str, Any] = {**self._config, **{k: text(v) for k, v in action.config.items()}, "acks": str(action.acks),
                  # librdkafka's murmur2_random is the Java client's keyed partitioner (murmur2 of the key).
                  "partitioner": "murmur2_random"}
        if action.idempotence is not None:
            config["enable.idempotence"] = action.idempotence
        transaction = None
        if action.transactional_id is not None:
            transaction = self._transactions.begin({**config, "transactional.id": action.transactional_id})
        producer = self._ck.Producer(config) if transaction is None else transaction.producer
        reports: list[tuple[Any, Any] | None] = [None] * action.count

        def delivered(index: int) -> Callable[[Any, Any], None]:
            # Only kept here, read after flush(): once a transactional producer is fenced, confluent-kafka calls these
            # with its fatal error already raised, and any call into it from here fails with SystemError.
            def callback(error: Any, message: Any) -> None:
                reports[index] = (error, message)
            return callback

        for i in range(action.count):
            headers = {name: render(template, i) for name, template in action.headers.items()}
            extra = {"partition": action.partition} if action.partition is not None else {}
            producer.produce(action.topic, value=render(action.value, i), key=render(action.key, i),
                             headers=headers or None, on_delivery=delivered(i), **extra)
            producer.poll(0)
        producer.flush(self._timeout)
        if transaction is not None:
            self._transactions.end(transaction, action.end)
        sent = tuple(ProducedRecord(action.topic, action.partition, error="REQUEST_TIMED_OUT") if report is None else
                     ProducedRecord(action.topic, action.partition, error=report[0].name()) if report[0] is not None
                     else ProducedRecord(action.topic, report[1].partition(), report[1].offset())
                     for report in reports)
        failed = [record for record in sent if record.error is not None]
        if sent and len(failed) == len(sent):
            raise KafkaError(_error(failed[0].error), f"None of the {len(sent)} record(s) was acknowledged.")
        return ProduceResult(sent)

