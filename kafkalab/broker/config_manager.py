"""Topic configs on a broker: read from ZooKeeper, changed through it (Kafka's ZK-mode dynamic config).

An alter request writes ``/config/topics/T`` and a sequential ``/config/changes``
notification; every broker watches ``/config/changes`` and reloads the named topic's
config, so a change made through any broker reaches all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kafkalab.broker.context import BrokerContext
from kafkalab.config import TopicConfig, format_config_value, parse_topic_configs
from kafkalab.coordination import paths
from kafkalab.coordination.client import CoordinationClient, session_bound
from kafkalab.coordination.protocol import WatchEvent, ZkCode, ZkException
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import TopicConfigChanged
from kafkalab.protocol.admin import AlterConfigOp, ApiResult, IncrementalAlterConfigsRequest
from kafkalab.sim.process import Process, spawn


class TopicConfigManager:
    """This broker's cache of topic config overrides, kept in step with ZooKeeper."""

    def __init__(self, ctx: BrokerContext, zk: CoordinationClient, on_change: Callable[[str], None]) -> None:
        self.ctx = ctx
        self.zk = zk
        self.on_change = on_change
        self._overrides: dict[str, dict[str, str]] = {}
        self._configs: dict[str, TopicConfig] = {}
        #: Sequence number of the newest ``/config/changes`` notification applied; None before the first read.
        self._last_change: int | None = None

    def overrides(self, topic: str) -> dict[str, str]:
        """The topic's explicit overrides (empty if none or unknown)."""
        return dict(self._overrides.get(topic, {}))

    def config_for(self, topic: str) -> TopicConfig:
        """The topic's effective config: overrides over the broker's defaults."""
        config = self._configs.get(topic)
        if config is None:
            config = TopicConfig.build(self._overrides.get(topic, {}), self.ctx.config)
            self._configs[topic] = config
        return config

    def _set(self, topic: str, overrides: dict[str, str]) -> None:
        self._overrides[topic] = overrides
        self._configs.pop(topic, None)

    def _read(self, topic: str) -> Process[dict[str, str] | None]:
        try:
            response = yield self.zk.get_data(paths.topic_config_path(topic))
        except ZkException as exc:
            if exc.code == ZkCode.NO_NODE:
                return None
            raise
        return paths.parse_topic_config(response.data)

    def load_all(self) -> Process[None]:
        """Read every topic's overrides (at startup, before the logs are opened) and watch for changes."""
        topics = yield self.zk.get_children(paths.CONFIG_TOPICS)
        for topic in topics.children:
            overrides = yield from self._read(topic)
            if overrides is not None:
                self._set(topic, overrides)
        yield from self.watch_changes()

    def ensure_loaded(self, topics: Iterable[str]) -> Process[None]:
        """Make sure the overrides of ``topics`` are cached (a topic created after we started)."""
        for topic in sorted(set(topics)):
            if topic not in self._overrides:
                overrides = yield from self._read(topic)
                self._set(topic, overrides or {})

    def watch_changes(self) -> Process[None]:
        """Watch ``/config/changes`` and apply notifications newer than the last one seen."""
        children = yield self.zk.get_children(paths.CONFIG_CHANGES, self._on_changes_watch)
        sequence_numbers = sorted(int(name.rsplit("_", 1)[1]) for name in children.children)
        if self._last_change is None:
            # load_all has just read every config; ZooKeeper numbers the first notification 0.
            self._last_change = sequence_numbers[-1] if sequence_numbers else -1
            return
        for number in sequence_numbers:
            if number <= self._last_change:
                continue
            self._last_change = number
            try:
                note = yield self.zk.get_data(f"{paths.CONFIG_CHANGE_PREFIX}{number:010d}")
            except ZkException:
                continue
            entity = str(paths.json_value(note.data, "entity_path"))
            if entity.startswith("topics/"):
                topic = entity[len("topics/"):]
                self._set(topic, (yield from self._read(topic)) or {})
                self.on_change(topic)

    def _on_changes_watch(self, event: WatchEvent) -> None:
        spawn(self.ctx.group, session_bound(self.watch_changes()), name="config change notification listener")

    def alter(self, request: IncrementalAlterConfigsRequest) -> Process[ApiResult]:
        """Apply KIP-339 set/delete operations to a topic's overrides, validated as a whole."""
        # Like Kafka (AdminZkClient.validateTopicConfig), ask ZooKeeper rather than this broker's
        # metadata cache, which may not have heard of a topic the controller has just created.
        found = yield self.zk.exists(paths.topic_path(request.topic))
        if found.code == ZkCode.NO_NODE:
            return ApiResult(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{request.topic}' does not exist.")
        current = (yield from self._read(request.topic)) or {}
        updated = dict(current)
        for key, op, value in request.changes:
            if op == AlterConfigOp.DELETE:
                updated.pop(key, None)
            else:
                updated[key] = "" if value is None else str(value)
        try:
            parsed = parse_topic_configs(updated)
        except KafkaError as exc:
            return ApiResult(exc.error, exc.message)
        normalized = {key: format_config_value(value) for key, value in parsed.items()}
        if request.validate_only:
            return ApiResult(Errors.NONE)
        yield self.zk.set_data(paths.topic_config_path(request.topic), paths.topic_config_data(normalized))
        yield self.zk.create(paths.CONFIG_CHANGE_PREFIX, paths.config_change_data(request.topic), sequential=True)
        changes = tuple((key, normalized.get(key)) for key, _, _ in request.changes)
        self.ctx.journal.emit(TopicConfigChanged, topic=request.topic, changes=changes)
        return ApiResult(Errors.NONE)
