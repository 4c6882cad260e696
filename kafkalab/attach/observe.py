"""One describe round of a real cluster through confluent-kafka's AdminClient: what the brokers say, as values.

A round asks, each once: Metadata (cluster id, controller, live brokers, topic names), then
DescribeConfigs of each live broker (its own settings), then
per page of topics Metadata (topic id, partitions with leader, replicas and ISR) and
DescribeConfigs, ListOffsets three times per leader (earliest: log start; latest with
read_uncommitted: the high watermark and leader epoch; latest with read_committed: the last
stable offset, KIP-98), ListGroups, and DescribeGroups and OffsetFetch per group. Requests go
in pages of ``PAGE`` topics or partitions, so 10,000 partitions are a few ListOffsets requests
per leader and offset kind, not one enormous one. A part that fails, or is not answered by the
round's deadline, is a ``problem`` of the round, and the rest of the round still counts.

Kafka answers a client with the high watermark, never a replica's log end offset; the
views take the high watermark as LOG-END-OFFSET, as ``kafka-consumer-groups.sh`` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kafkalab.attach.client import confluent
from kafkalab.config import TOPIC_CONFIG_KEYS
from kafkalab.protocol.types import TopicPartition
from kafkalab.views import TOPIC_OVERRIDE, ConfigEntry, GroupMemberView

#: Partitions per ListOffsets call and topics per Metadata or DescribeConfigs call.
PAGE = 1000
#: ConsumerGroupState names (confluent-kafka) to Kafka's own, as ``kafka-consumer-groups.sh --state`` prints them.
_STATES = {"UNKNOWN": "Unknown", "PREPARING_REBALANCING": "PreparingRebalance",
           "COMPLETING_REBALANCING": "CompletingRebalance", "STABLE": "Stable", "DEAD": "Dead", "EMPTY": "Empty"}

T = TypeVar("T")


@dataclass(frozen=True)
class SeenPartition:
    """A partition as Metadata describes it (leader epochs are not in confluent-kafka's answer)."""

    partition: int
    leader: int | None
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


@dataclass(frozen=True)
class SeenTopic:
    name: str
    topic_id: str
    internal: bool
    partitions: tuple[SeenPartition, ...]
    config_overrides: tuple[tuple[str, str], ...]
    #: The effective value and source of each topic config kafkalab implements (``TopicView.configs``).
    configs: tuple[ConfigEntry, ...] = ()


@dataclass(frozen=True)
class SeenOffsets:
    """A partition's offsets as its leader answers ListOffsets (-1 where it did not answer)."""

    log_start_offset: int = -1
    high_watermark: int = -1
    last_stable_offset: int = -1
    #: The leader's epoch, as it answers the latest offset (Kafka 3.9's Partition.fetchOffsetForTimestamp).
    leader_epoch: int = -1


_UNKNOWN = SeenOffsets()


@dataclass(frozen=True)
class SeenGroup:
    """A consumer group as DescribeGroups and OffsetFetch describe it."""

    group_id: str
    state: str
    protocol_type: str
    protocol: str
    coordinator: int
    members: tuple[GroupMemberView, ...]
    committed: Mapping[TopicPartition, int]


@dataclass(frozen=True)
class Observation:
    """Everything one round saw, at wall-clock ``time_ms`` (when the round started)."""

    time_ms: float
    cluster_id: str
    controller_id: int
    brokers: tuple[int, ...]
    topics: tuple[SeenTopic, ...]
    offsets: Mapping[TopicPartition, SeenOffsets]
    groups: tuple[SeenGroup, ...]
    #: What the round could not learn, one sentence each.
    problems: tuple[str, ...] = field(default=())
    #: Each live broker's own settings (``BrokerView.settings``), by broker id.
    broker_configs: Mapping[int, tuple[ConfigEntry, ...]] = field(default_factory=dict)


def kafka_uuid(text: str) -> str:
    """A topic id as Kafka prints it: ``Uuid.toString`` is URL-safe base64 without padding, where librdkafka's
    ``rd_kafka_Uuid_base64str`` gives standard base64 (``+`` and ``/`` for ``-`` and ``_``)."""
    return text.replace("+", "-").replace("/", "_")


def _entry(entry: Any) -> ConfigEntry:
    """A confluent-kafka ``ConfigEntry`` as the views hold it, its source by Kafka's ``ConfigSource`` name (its
    number, for a source newer than the client knows)."""
    from confluent_kafka.admin import ConfigSource

    known = {source.value: source.name for source in ConfigSource}
    return ConfigEntry(entry.name, entry.value, known.get(entry.source, f"source {entry.source}"))


def _pages(items: list[T]) -> Iterable[list[T]]:
    for start in range(0, len(items), PAGE):
        yield items[start:start + PAGE]


def reason(exc: BaseException) -> str:
    """The client's message, or what kind of failure it was when it has none (a timeout)."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


class _Round:
    """One round's deadline and problems: every wait shares the deadline, so a round is bounded."""

    def __init__(self, timeout_s: float) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.problems: list[str] = []

    def wait(self, futures: Mapping[Any, Future[Any]], what: str, label: Callable[[Any], str]) -> dict[Any, Any]:
        """Each future's result by key; those that fail or are not done by the deadline make one problem per
        reason, naming ``what`` was asked and the first few keys (``label``)."""
        results: dict[Any, Any] = {}
        failed: dict[str, list[str]] = {}
        for key, future in futures.items():
            try:
                results[key] = future.result(max(0.0, self.deadline - time.monotonic()))
            except Exception as exc:
                failed.setdefault(reason(exc), []).append(label(key))
        for why, labels in failed.items():
            more = f" and {len(labels) - 3} more" if len(labels) > 3 else ""
            self.problems.append(f"{what} {', '.join(labels[:3])}{more}: {why}")
        return results


class Observer:
    """Runs describe rounds with one AdminClient of ``config`` (``client.client_config``).

    Requests go out together and are awaited against one deadline (``timeout_s``). A broker
    that died but is still in the metadata (its session has not expired yet) leaves only its
    own answers missing: ListOffsets goes out once per leader and DescribeGroups once per
    group, because confluent-kafka completes one call's futures together.
    """

    def __init__(self, config: dict[str, Any], timeout_s: float = 10.0) -> None:
        self._ck = confluent()
        from confluent_kafka.admin import AdminClient

        self._admin = AdminClient(config)
        self._timeout = timeout_s
        #: Groups seen listed before: described again when ListGroups does not answer in time.
        self._known_groups: set[str] = set()
        #: The last answers, for what a round cannot learn: a dead leader's offsets, a moving coordinator's groups.
        self._last_offsets: dict[TopicPartition, SeenOffsets] = {}
        self._last_groups: dict[str, SeenGroup] = {}
        self._last_broker_configs: dict[int, tuple[ConfigEntry, ...]] = {}

    def observe(self, now_ms: float) -> Observation:
        """One round; raises the client's KafkaException (or TimeoutError) when not even Metadata is answered."""
        round_ = _Round(self._timeout)
        listing = self._admin.list_consumer_groups(request_timeout=self._timeout)
        # Metadata rather than DescribeCluster: it names the cluster, the controller and the live brokers too, and
        # it refreshes the client's idea of the controller, which DescribeCluster only waits for (a dead controller's
        # successor is never asked).
        cluster = self._admin.list_topics(timeout=self._timeout)
        brokers = tuple(sorted(cluster.brokers))
        broker_configs = self._broker_configs_requested(brokers)
        topics = self._topics(sorted(cluster.topics), round_)
        offsets = self._offsets_requested(topics)
        groups = self._groups_requested(listing, round_)
        found = self._offsets(offsets, round_)
        described = self._groups(groups, round_)
        return Observation(now_ms, cluster.cluster_id or "", cluster.controller_id, brokers, topics, found, described,
                           tuple(round_.problems), self._broker_configs(broker_configs, round_))

    def _broker_configs_requested(self, brokers: tuple[int, ...]) -> dict[Any, Future[Any]]:
        """DescribeConfigs of each live broker, one call each: the admin client sends a broker's resource to that
        broker (Kafka answers only for itself), and one that does not answer leaves only its own missing."""
        from confluent_kafka.admin import ConfigResource, ResourceType

        requested: dict[Any, Future[Any]] = {}
        for broker in brokers:
            requested |= self._admin.describe_configs([ConfigResource(ResourceType.BROKER, str(broker))],
                                                      request_timeout=self._timeout)
        return requested

    def _broker_configs(self, requested: dict[Any, Future[Any]], round_: _Round
                        ) -> dict[int, tuple[ConfigEntry, ...]]:
        """The brokers' own settings: entries set in server.properties or dynamically (Kafka's
        ``DescribeConfigsResponse.ConfigSource``), not defaults; sensitive ones have no value and are left out. A
        broker not answered keeps what was last seen."""
        from confluent_kafka.admin import ConfigSource

        own = {ConfigSource.STATIC_BROKER_CONFIG.value, ConfigSource.DYNAMIC_BROKER_CONFIG.value,
               ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value}
        answered = round_.wait(requested, "describe configs of broker", lambda resource: resource.name)
        for resource, entries in answered.items():
            self._last_broker_configs[int(resource.name)] = tuple(sorted(
                (_entry(entry) for entry in entries.values() if entry.source in own and entry.value is not None),
                key=lambda entry: entry.name))
        return dict(self._last_broker_configs)

    def _topics(self, names: list[str], round_: _Round) -> tuple[SeenTopic, ...]:
        from confluent_kafka.admin import ConfigResource, ResourceType

        described: dict[str, Any] = {}
        configs: dict[str, tuple[ConfigEntry, ...]] = {}
        for page in _pages(names):
            resources = [ConfigResource(ResourceType.TOPIC, name) for name in page]
            requested = self._admin.describe_configs(resources, request_timeout=self._timeout)
            described |= round_.wait(self._admin.describe_topics(self._ck.TopicCollection(page),
                                                                 request_timeout=self._timeout),
                                     "describe topic", str)
            for resource, entries in round_.wait(requested, "describe configs of", lambda r: r.name).items():
                configs[resource.name] = tuple(sorted((_entry(entry) for entry in entries.values()
                                                       if entry.value is not None), key=lambda entry: entry.name))
        topics = []
        for name in names:
            topic = described.get(name)
            if topic is None:
                continue
            partitions = tuple(
                SeenPartition(info.id, info.leader.id if info.leader is not None else None,
                              tuple(node.id for node in info.replicas), tuple(node.id for node in info.isr))
                for info in sorted(topic.partitions, key=lambda info: info.id))
            entries = configs.get(name, ())
            # A topic's own overrides (DYNAMIC_TOPIC_CONFIG), as ``kafka-configs.sh --describe`` lists them, and the
            # effective values of the keys kafkalab implements, as ``--all`` shows them.
            topics.append(SeenTopic(name, kafka_uuid(str(topic.topic_id)), bool(topic.is_internal), partitions,
                                    tuple((e.name, e.value) for e in entries if e.source == TOPIC_OVERRIDE),
                                    tuple(e for e in entries if e.name in TOPIC_CONFIG_KEYS)))
        return tuple(topics)

    def _offsets_requested(self, topics: tuple[SeenTopic, ...]) -> dict[str, dict[Any, Future[Any]]]:
        """ListOffsets of every led partition, by kind: log start, high watermark, last stable offset."""
        ck = self._ck
        from confluent_kafka.admin import OffsetSpec

        by_leader: dict[int, list[Any]] = {}
        for topic in topics:
            for p in topic.partitions:
                if p.leader is not None:
                    by_leader.setdefault(p.leader, []).append(ck.TopicPartition(topic.name, p.partition))
        kinds = (("start", OffsetSpec.earliest(), ck.IsolationLevel.READ_UNCOMMITTED),
                 ("hw", OffsetSpec.latest(), ck.IsolationLevel.READ_UNCOMMITTED),
                 ("lso", OffsetSpec.latest(), ck.IsolationLevel.READ_COMMITTED))
        requested: dict[str, dict[Any, Future[Any]]] = {kind: {} for kind, _, _ in kinds}
        for partitions in by_leader.values():
            for page in _pages(partitions):
                for kind, spec, isolation in kinds:
                    requested[kind] |= self._admin.list_offsets({tp: spec for tp in page}, isolation_level=isolation,
                                                                request_timeout=self._timeout)
        return requested

    def _offsets(self, requested: dict[str, dict[Any, Future[Any]]], round_: _Round
                 ) -> dict[TopicPartition, SeenOffsets]:
        """The answers; an offset not answered keeps the last value seen (the round's problems say which)."""
        found: dict[str, dict[TopicPartition, int]] = {}
        epochs: dict[TopicPartition, int] = {}
        for kind, futures in requested.items():
            answered = round_.wait(futures, f"list offsets ({kind}) of",
                                   lambda tp: f"{tp.topic}-{tp.partition}")
            found[kind] = {TopicPartition(tp.topic, tp.partition): info.offset for tp, info in answered.items()}
            if kind == "hw":
                epochs = {TopicPartition(tp.topic, tp.partition): info.leader_epoch
                          for tp, info in answered.items() if info.leader_epoch is not None}
        led = {TopicPartition(tp.topic, tp.partition) for tp in requested["hw"]}
        # The last round's dict is updated where a partition's offsets changed, rather than rebuilt: on a quiet
        # cluster a round then leaves no new long-lived objects (10,000 SeenOffsets and their keys a round, else),
        # so the garbage collector's full passes, which hold the interpreter lock against the UI thread for 0.1-0.3 s
        # on 10,000 partitions, have no reason to run (CPython's gc waits for a quarter more long-lived objects).
        last = self._last_offsets
        for tp in [tp for tp in last if tp not in led]:
            del last[tp]
        for tp in led:
            known = last.get(tp, _UNKNOWN)
            seen = SeenOffsets(found["start"].get(tp, known.log_start_offset), found["hw"].get(tp, known.high_watermark),
                               found["lso"].get(tp, known.last_stable_offset), epochs.get(tp, known.leader_epoch))
            if tp not in last or seen != known:
                last[tp] = seen
        return dict(last)  # a copy: the next round changes this one

    def _groups_requested(self, listing: Future[Any], round_: _Round) -> dict[str, tuple[Future[Any], Future[Any]]]:
        """DescribeGroups and OffsetFetch of every listed group (of those seen before, if the listing is late)."""
        ck = self._ck
        try:
            listed = listing.result(max(0.0, round_.deadline - time.monotonic()))
        except Exception as exc:
            round_.problems.append(f"list groups: {reason(exc)}")
            ids = sorted(self._known_groups)
        else:
            round_.problems.extend(f"list groups: {error}" for error in listed.errors)
            ids = sorted(group.group_id for group in listed.valid)
            self._known_groups = set(ids)
        return {group: (self._admin.describe_consumer_groups([group], request_timeout=self._timeout)[group],
                        self._admin.list_consumer_group_offsets([ck.ConsumerGroupTopicPartitions(group)],
                                                                request_timeout=self._timeout)[group])
                for group in ids}

    def _groups(self, requested: dict[str, tuple[Future[Any], Future[Any]]], round_: _Round
                ) -> tuple[SeenGroup, ...]:
        """The answers; a group not described in time is shown as last seen (the round's problems say so)."""
        described = round_.wait({g: futures[0] for g, futures in requested.items()}, "describe group", str)
        committed = round_.wait({g: futures[1] for g, futures in requested.items()},
                                "fetch offsets of", str)
        groups = []
        for group_id in sorted(requested):
            description = described.get(group_id)
            offsets = committed.get(group_id)
            if description is None or offsets is None:
                if group_id in self._last_groups:
                    groups.append(self._last_groups[group_id])
                continue
            members = tuple(
                GroupMemberView(member.member_id, member.client_id, member.host, member.group_instance_id,
                                tuple(f"{tp.topic}-{tp.partition}" for tp in member.assignment.topic_partitions)
                                if member.assignment is not None else ())
                for member in description.members)
            groups.append(SeenGroup(
                group_id, _STATES.get(description.state.name, description.state.name),
                "" if description.is_simple_consumer_group else "consumer", description.partition_assignor or "",
                description.coordinator.id if description.coordinator is not None else -1, members,
                {TopicPartition(tp.topic, tp.partition): tp.offset
                 for tp in offsets.topic_partitions if tp.offset >= 0}))
        self._last_groups = {group.group_id: group for group in groups}
        return tuple(groups)
