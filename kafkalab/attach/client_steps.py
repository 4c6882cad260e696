"""The lab's consumer and steady-producer steps on a real cluster, through confluent-kafka, with the lab's results.

Each step means what it means in the lab (``kafkalab/actions/client_actions.py``): a started
consumer polls until stopped, ``consume`` collects what it returned (or starts one for the
step, polls and closes it), ``commit`` commits the positions of what was returned and reads
the commits back (OffsetFetch), ``seek`` moves the next read. Where librdkafka differs from
Kafka's Java client the difference is named here: it has no eager ``sticky`` assignor, and
``auto.offset.reset=none`` is called ``error``. ``kill_consumer`` crashes a consumer (no commit,
no LeaveGroup); ``start_processor`` runs a stream processor's consume-transform-produce loop at
least once or exactly once (``processor.py``).
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from kafkalab.actions.base import Action
from kafkalab.actions.client_actions import (
    Commit,
    Consume,
    KillConsumer,
    PauseConsumer,
    ResumeConsumer,
    Seek,
    StartConsumer,
    StartProcessor,
    StartProducer,
    StopConsumer,
    StopProducer,
)
from kafkalab.actions.results import (
    ActionResult,
    CommitResult,
    ConsumeResult,
    SeekResult,
    StartConsumerResult,
    StartProcessorResult,
    StartProducerResult,
    StopProducerResult,
)
from kafkalab.actions.templates import render
from kafkalab.attach.clients import RealClients, RealConsumer, RealSteadyProducer
from kafkalab.attach.processor import RealProcessor
from kafkalab.clients.transforms import commit_interval_ms
from kafkalab.errors import Errors, KafkaError, quoted

#: The steps this module runs (``actions.SUPPORTED`` includes them).
CLIENT_STEPS = frozenset({"start_consumer", "stop_consumer", "kill_consumer", "pause_consumer", "resume_consumer",
                          "consume", "commit", "seek", "start_producer", "stop_producer", "start_processor"})


def text(value: object) -> str:
    """A config value as Kafka stores it: text (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ClientSteps:
    """Runs consumer and steady-producer steps with clients of ``config`` (``client.client_config``)."""

    def __init__(self, ck: ModuleType, config: dict[str, Any], timeout_s: float) -> None:
        self._ck = ck
        self._config = config
        self._timeout = timeout_s
        self.clients = RealClients()

    def run(self, action: Action[Any]) -> ActionResult:
        if isinstance(action, StartConsumer):
            config = self._consumer_config(action.group, action.client_id, action.strategy, action.auto_offset_reset,
                                           action.enable_auto_commit, action.isolation_level, action.config)
            if action.group_instance_id is not None:
                config["group.instance.id"] = action.group_instance_id
            self._start(config, action.group, action.client_id, action.topics)
            return StartConsumerResult(action.group, action.client_id, action.topics)
        if isinstance(action, StopConsumer | KillConsumer):
            self.clients.stop_consumer(action.group, action.client_id, self._timeout,
                                       crash=isinstance(action, KillConsumer))
            return action.ref()
        if isinstance(action, StartProcessor):
            return self._start_processor(action)
        if isinstance(action, PauseConsumer | ResumeConsumer):
            self.clients.running(action.group, action.client_id).set_paused(isinstance(action, PauseConsumer),
                                                                              self._timeout)
            return action.ref()
        if isinstance(action, Consume):
            return self._consume(action)
        if isinstance(action, Commit):
            return CommitResult(action.group, action.client_id,
                                self.clients.running(action.group, action.client_id).call(self._commit, self._timeout))
        if isinstance(action, Seek):
            return self._seek(action)
        if isinstance(action, StartProducer):
            return self._start_steady(action)
        if isinstance(action, StopProducer):
            counts = self.clients.stop_steady(action.id, self._timeout)
            return StopProducerResult(action.id, counts.sent, counts.acknowledged, counts.failed)
        raise KafkaError(Errors.LAB_ONLY, f"{action.step} is not available on an attached cluster yet.")

    def close(self) -> None:
        self.clients.close(self._timeout)

    # -- consumers -----------------------------------------------------------------------

    def _consumer_config(self, group: str, client_id: str, strategy: str, auto_offset_reset: str, auto_commit: bool,
                         isolation_level: str, extra: dict[str, Any]) -> dict[str, Any]:
        if strategy == "sticky":
            raise KafkaError(Errors.INVALID_CONFIG, "librdkafka has no eager sticky assignor: on a real cluster use "
                                                    "cooperative-sticky, range or roundrobin.")
        return {**self._config, **{key: text(value) for key, value in extra.items()}, "group.id": group,
                "client.id": client_id, "partition.assignment.strategy": strategy,
                # librdkafka's name for the Java client's "none": fail rather than reset.
                "auto.offset.reset": "error" if auto_offset_reset == "none" else auto_offset_reset,
                "enable.auto.commit": auto_commit, "isolation.level": isolation_level}

    def _start(self, config: dict[str, Any], group: str, client_id: str, topics: tuple[str, ...],
               processor: RealProcessor | None = None) -> RealConsumer:
        return self.clients.add_consumer(lambda: RealConsumer(self._ck, config, group, client_id, topics, processor),
                                         group, client_id)

    def _start_processor(self, action: StartProcessor) -> StartProcessorResult:
        """As the lab's step: both topics must exist and differ; its consumer never auto-commits (it commits every
        ``commit.interval.ms``, after its output is acknowledged, or under exactly_once_v2 in its transaction)."""
        if action.source == action.sink:
            raise KafkaError(Errors.INVALID_ARGUMENT, "A processor that writes the topic it reads would read its own "
                                                      "output forever; give it another sink topic.")
        missing = self._missing_topics((("source", action.source), ("sink", action.sink)))
        if missing:
            role, topic = missing[0]
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"The processor's {role} topic {quoted(topic)} does "
                                                                f"not exist; create it first.")
        # Before its producer exists: an exactly_once_v2 producer's initialization would fence the running one's.
        self.clients.refuse_running(action.client_id)
        exactly_once = action.processing_guarantee == "exactly_once_v2"
        config = self._consumer_config(action.group, action.client_id, action.strategy, action.auto_offset_reset,
                                       False, "read_committed" if exactly_once else "read_uncommitted", {})
        # Kafka Streams names each producer's transactional.id after the application and the thread, as the lab does.
        processor = RealProcessor(self._ck, self._config, action.sink, action.transform, action.contains,
                                  commit_interval_ms(action.commit_interval_ms, action.processing_guarantee),
                                  self._timeout, f"{action.group}-{action.client_id}" if exactly_once else None)
        self._start(config, action.group, action.client_id, (action.source,), processor)
        return StartProcessorResult(action.group, action.client_id, action.source, action.sink, action.transform)

    def _missing_topics(self, topics: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
        """Which of ``(role, topic)`` the cluster's metadata does not list (a Metadata request for all topics, which
        creates none even where ``auto.create.topics.enable`` is on)."""
        from confluent_kafka.admin import AdminClient

        known = AdminClient(self._config).list_topics(timeout=self._timeout).topics
        return [(role, topic) for role, topic in topics if topic not in known]

    def _consume(self, action: Consume) -> ConsumeResult:
        """As the lab's step: collect from a running consumer; else start one with auto-commit for the step and close
        it after (a clean close commits what it returned)."""
        deadline = time.monotonic() + action.timeout_ms / 1000
        temporary = (action.group, action.client_id) not in self.clients.consumers
        if temporary:
            if not action.topics:
                raise KafkaError(Errors.INVALID_ARGUMENT, f"Consumer {quoted(action.client_id)} is not running; give "
                                                          f"`topics` so this step can start it.")
            self._start(self._consumer_config(action.group, action.client_id, action.strategy,
                                              action.auto_offset_reset, True, action.isolation_level, {}),
                        action.group, action.client_id, action.topics)
        records = self.clients.running(action.group, action.client_id).take(action.max_records, deadline)
        if temporary:
            self.clients.stop_consumer(action.group, action.client_id, self._timeout)
        return ConsumeResult(tuple(records))

    def _commit(self, consumer: Any) -> dict[str, int | None]:
        """On the consumer's thread: commit synchronously, then the group's commits of its assignment.

        librdkafka commits the offsets it stored for records it returned; a partition nothing was returned from yet
        has none, where Java's commitSync() commits its position too."""
        try:
            consumer.commit(asynchronous=False)
        except self._ck.KafkaException as exc:
            if exc.args[0].code() != self._ck.KafkaError._NO_OFFSET:
                raise
        committed = consumer.committed(consumer.assignment(), timeout=self._timeout)
        return {f"{tp.topic}-{tp.partition}": (tp.offset if tp.offset >= 0 else None)
                for tp in sorted(committed, key=lambda tp: (tp.topic, tp.partition))}

    def _seek(self, action: Seek) -> SeekResult:
        if (action.offset is None) == (action.to is None):
            raise KafkaError(Errors.INVALID_ARGUMENT, "Give exactly one of `offset` or `to` (beginning or end).")
        ck = self._ck

        def seek(consumer: Any) -> int:
            """On the consumer's thread. The beginning and the end are looked up now (ListOffsets), as Kafka's
            position() after seekToBeginning/seekToEnd looks them up, so the result is the offset read next."""
            if (action.topic, action.partition) not in {(tp.topic, tp.partition) for tp in consumer.assignment()}:
                raise KafkaError(Errors.ILLEGAL_STATE, f"No current assignment for partition {action.topic}-"
                                                       f"{action.partition}: cannot seek it.")
            offset = action.offset
            if offset is None:
                low, high = consumer.get_watermark_offsets(ck.TopicPartition(action.topic, action.partition),
                                                           timeout=self._timeout)
                offset = low if action.to == "beginning" else high
            consumer.seek(ck.TopicPartition(action.topic, action.partition, offset))
            return int(offset)

        position = self.clients.running(action.group, action.client_id).call(seek, self._timeout)
        return SeekResult(action.topic, action.partition, position)

    # -- steady producers ----------------------------------------------------------------

    def _start_steady(self, action: StartProducer) -> StartProducerResult:
        self.clients.refuse_running_steady(action.id)
        key, value = action.key, action.value

        def record(i: int) -> tuple[str | None, str | None]:
            return render(key, i), render(value, i)

        record(0)  # a bad template fails here, not on the first tick
        config = {**self._config, **{k: text(v) for k, v in action.config.items()}, "acks": text(action.acks),
                  "partitioner": "murmur2_random"}
        producer = RealSteadyProducer(self._ck, config, action.topic, action.rate, record)
        if not producer.topic_known(self._timeout):
            producer.stop(0)
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                             f"Topic {quoted(action.topic)} does not exist, and the brokers do not create topics on "
                             f"first use: create it first.")
        self.clients.add_steady(action.id, producer)
        return StartProducerResult(action.id, action.topic, action.rate)
