"""Topic and broker configuration with Kafka's names, defaults and validation.

Every key is spelled as in Apache Kafka (``TopicConfig`` / ``KafkaConfig``) and takes
Kafka's default, so a learner can copy a setting from here to a real cluster. Values
may arrive as text (the TUI, YAML) or typed (Python); both are parsed the same way.
A bad key or value raises ``KafkaError(INVALID_CONFIG)`` naming the key and the rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from difflib import get_close_matches
from typing import Any

from kafkalab.errors import QUOTE_LIMIT, Errors, KafkaError, quoted

LONG_MAX = 2**63 - 1


@dataclass(frozen=True)
class ConfigKey:
    """One configuration key: its type, Kafka default, allowed values and meaning."""

    name: str
    type: str  # "int", "long", "double", "boolean", "string", "list"
    default: Any
    doc: str
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    broker_synonym: str | None = None  # the broker-wide key a topic inherits its default from
    #: Values Kafka accepts that kafkalab does not implement, refused rather than silently ignored.
    not_implemented: tuple[str, ...] = ()
    #: Why those values are refused, said in the error.
    not_implemented_why: str = ""
    maximum: float | None = None


def _parse_value(key: ConfigKey, raw: Any) -> Any:
    """Parse ``raw`` for ``key`` or raise INVALID_CONFIG with a sentence saying why."""
    value = _parse_kafka_value(key, raw)
    if key.not_implemented and str(value).lower() in key.not_implemented:
        raise KafkaError(Errors.INVALID_CONFIG, f"kafkalab does not implement {key.name}={str(value).lower()}: "
                                                f"{key.not_implemented_why}")
    return value


def _parse_kafka_value(key: ConfigKey, raw: Any) -> Any:
    """Parse ``raw`` as Kafka would accept it for ``key``; INVALID_CONFIG with a sentence saying why."""

    def bad(expected: str) -> KafkaError:
        return KafkaError(Errors.INVALID_CONFIG, f"Invalid value {quoted(raw)} for configuration {key.name}: {expected}.")

    if key.type in ("int", "long"):
        if isinstance(raw, bool):
            raise bad("expected an integer")
        try:
            value: Any = int(str(raw).strip()) if not isinstance(raw, int) else raw
        except ValueError:
            raise bad("expected an integer") from None
        if key.minimum is not None and value < key.minimum:
            raise bad(f"value must be at least {int(key.minimum)}")
        if key.maximum is not None and value > key.maximum:
            raise bad(f"value must be at most {int(key.maximum)}")
        if value > LONG_MAX or (key.type == "int" and value > 2**31 - 1):
            raise bad("value is too large")
        return value
    if key.type == "double":
        try:
            value = float(raw)
        except (TypeError, ValueError, OverflowError):
            raise bad("expected a number") from None
        if not math.isfinite(value):  # Java's parseDouble takes NaN, but no range check can hold then
            raise bad("expected a finite number")
        if key.minimum is not None and value < key.minimum:
            raise bad(f"value must be at least {key.minimum}")
        if key.name == "min.cleanable.dirty.ratio" and value > 1:
            raise bad("value must be between 0 and 1")
        return value
    if key.type == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise bad("expected true or false")
    if key.type == "list":
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
        values = tuple(str(item).strip() for item in items if str(item).strip())
        for item in values:
            if key.choices and item not in key.choices:
                raise bad(f"expected a list of {', '.join(key.choices)}")
        return values
    text = str(raw)
    if key.choices and text not in key.choices:
        raise bad(f"expected one of {', '.join(key.choices)}")
    return text


def _keys(*keys: ConfigKey) -> dict[str, ConfigKey]:
    return {key.name: key for key in keys}


#: Per-topic configs (Kafka's ``TopicConfig``), each defaulting to its broker synonym.
TOPIC_CONFIG_KEYS: dict[str, ConfigKey] = _keys(
    ConfigKey("cleanup.policy", "list", ("delete",), "delete old segments, compact to the latest value per key, or both.",
              choices=("delete", "compact"), broker_synonym="log.cleanup.policy"),
    ConfigKey("compression.type", "string", "producer", "Final compression of the topic's batches; 'producer' keeps the producer's.",
              choices=("uncompressed", "producer", "gzip", "snappy", "lz4", "zstd"), broker_synonym="compression.type",
              not_implemented=("snappy", "lz4", "zstd"),
              not_implemented_why="its record batches are uncompressed or gzip (the codecs Python ships with)."),
    ConfigKey("delete.retention.ms", "long", 86_400_000, "How long tombstones are kept after compaction reaches them.",
              minimum=0, broker_synonym="log.cleaner.delete.retention.ms"),
    ConfigKey("flush.messages", "long", LONG_MAX, "Force an fsync after this many messages (Kafka leaves it to the OS).",
              minimum=1, broker_synonym="log.flush.interval.messages"),
    ConfigKey("flush.ms", "long", LONG_MAX, "Force an fsync after this long (Kafka leaves it to the OS).",
              minimum=0, broker_synonym="log.flush.interval.ms"),
    ConfigKey("index.interval.bytes", "int", 4096, "Bytes of log between two entries of the sparse offset index.",
              minimum=0, broker_synonym="log.index.interval.bytes"),
    ConfigKey("max.compaction.lag.ms", "long", LONG_MAX, "A record older than this is compacted even if the log is not dirty enough.",
              minimum=1, broker_synonym="log.cleaner.max.compaction.lag.ms"),
    ConfigKey("max.message.bytes", "int", 1_048_588, "Largest record batch the topic accepts.",
              minimum=0, broker_synonym="message.max.bytes"),
    ConfigKey("message.timestamp.type", "string", "CreateTime", "Whether a record keeps the producer's timestamp or gets the broker's append time.",
              choices=("CreateTime", "LogAppendTime"), broker_synonym="log.message.timestamp.type"),
    ConfigKey("min.cleanable.dirty.ratio", "double", 0.5, "Share of the log that must be uncompacted before the cleaner runs.",
              minimum=0, broker_synonym="log.cleaner.min.cleanable.ratio"),
    ConfigKey("min.compaction.lag.ms", "long", 0, "A record stays uncompacted at least this long.",
              minimum=0, broker_synonym="log.cleaner.min.compaction.lag.ms"),
    ConfigKey("min.insync.replicas", "int", 1, "With acks=all, the fewest in-sync replicas that must have a write.",
              minimum=1, broker_synonym="min.insync.replicas"),
    ConfigKey("retention.bytes", "long", -1, "Largest size a partition may grow to before old segments are deleted (-1: no limit).",
              minimum=-1, broker_synonym="log.retention.bytes"),
    ConfigKey("retention.ms", "long", 604_800_000, "How long records are kept before their segment may be deleted (-1: forever).",
              minimum=-1, broker_synonym="log.retention.ms"),
    ConfigKey("segment.bytes", "int", 1_073_741_824, "Size at which the active segment rolls to a new one.",
              minimum=14, broker_synonym="log.segment.bytes"),
    ConfigKey("segment.index.bytes", "int", 10_485_760, "Largest size of a segment's offset index.",
              minimum=4, broker_synonym="log.index.size.max.bytes"),
    ConfigKey("segment.ms", "long", 604_800_000, "Age at which the active segment rolls even if it is not full.",
              minimum=1, broker_synonym="log.roll.ms"),
    ConfigKey("unclean.leader.election.enable", "boolean", False, "Let an out-of-sync replica become leader when no in-sync one is alive (loses data).",
              broker_synonym="unclean.leader.election.enable"),
)

#: Broker-wide configs (Kafka's ``KafkaConfig``) that kafkalab honours.
BROKER_CONFIG_KEYS: dict[str, ConfigKey] = _keys(
    ConfigKey("auto.create.topics.enable", "boolean", False,
              "Create a topic when a client's Metadata request names it, with num.partitions and default.replication.factor. "
              "Kafka defaults to true; kafkalab defaults to false so a typo shows UNKNOWN_TOPIC_OR_PARTITION."),
    ConfigKey("auto.leader.rebalance.enable", "boolean", True, "Move leadership back to preferred replicas when brokers are imbalanced."),
    ConfigKey("controlled.shutdown.enable", "boolean", True, "On clean shutdown, ask the controller to move leadership away first."),
    # KRaft mode (Kafka 4.1's KRaftConfigs): a broker's heartbeats to the active controller.
    ConfigKey("broker.heartbeat.interval.ms", "int", 2000, "KRaft mode: how often a broker heartbeats to the active controller.",
              minimum=1),
    ConfigKey("broker.session.timeout.ms", "int", 9000, "KRaft mode: a broker that sent no heartbeat for this long is fenced.",
              minimum=1),
    ConfigKey("default.replication.factor", "int", 1, "Replication factor of topics created without one.", minimum=1),
    ConfigKey("group.initial.rebalance.delay.ms", "int", 3000, "How long the first rebalance of an empty group waits for more members.", minimum=0),
    ConfigKey("group.max.session.timeout.ms", "int", 1_800_000, "Largest session.timeout.ms a consumer may ask for.", minimum=1),
    ConfigKey("group.min.session.timeout.ms", "int", 6000, "Smallest session.timeout.ms a consumer may ask for.", minimum=0),
    ConfigKey("leader.imbalance.check.interval.seconds", "long", 300, "How often the controller checks leader imbalance.", minimum=1),
    ConfigKey("leader.imbalance.per.broker.percentage", "int", 10, "Imbalance per broker above which a preferred-leader election runs.", minimum=0),
    ConfigKey("log.cleaner.backoff.ms", "long", 15_000, "How long the cleaner sleeps when no log needs cleaning.", minimum=0),
    ConfigKey("log.cleaner.enable", "boolean", True, "Run the log cleaner for compacted topics."),
    ConfigKey("log.flush.offset.checkpoint.interval.ms", "int", 60_000, "How often recovery points are written to disk.", minimum=0),
    ConfigKey("log.flush.start.offset.checkpoint.interval.ms", "int", 60_000, "How often log start offsets are written to disk.", minimum=0),
    ConfigKey("log.retention.check.interval.ms", "long", 300_000, "How often retention is checked.", minimum=1),
    # The controller writes at most validation.MAX_RECORDS_PER_USER_OP records per request: the topic,
    # its partitions and its overrides (__consumer_offsets has three, groups.store.OFFSETS_TOPIC_CONFIGS).
    ConfigKey("num.partitions", "int", 1, "Partition count of topics created without one.", minimum=1,
              maximum=9_999),
    ConfigKey("offsets.commit.timeout.ms", "int", 5000, "How long an offset commit waits for __consumer_offsets replicas.", minimum=1),
    ConfigKey("offsets.retention.check.interval.ms", "long", 600_000, "How often the group coordinator expires committed offsets.", minimum=1),
    ConfigKey("offsets.retention.minutes", "int", 10_080, "How long committed offsets of an empty group are kept.", minimum=1),
    ConfigKey("offsets.topic.num.partitions", "int", 50, "Partitions of __consumer_offsets.", minimum=1,
              maximum=9_996),
    ConfigKey("offsets.topic.replication.factor", "int", 3, "Replication factor of __consumer_offsets.", minimum=1),
    ConfigKey("replica.fetch.backoff.ms", "int", 1000, "How long a follower waits after a failed fetch.", minimum=0),
    ConfigKey("replica.fetch.max.bytes", "int", 1_048_576, "Bytes a follower asks for per partition per fetch.", minimum=0),
    ConfigKey("replica.fetch.wait.max.ms", "int", 500, "How long a follower's fetch waits at the leader for new data.", minimum=0),
    ConfigKey("replica.high.watermark.checkpoint.interval.ms", "long", 5000, "How often high watermarks are written to disk.", minimum=1),
    ConfigKey("replica.lag.time.max.ms", "long", 30_000, "A follower that has not caught up for this long leaves the ISR.", minimum=1),
    ConfigKey("socket.request.max.bytes", "int", 104_857_600, "Largest request a network client may send; a larger one closes its connection.", minimum=1),
    ConfigKey("request.timeout.ms", "int", 30_000, "How long a broker waits for a response to a request it sent.", minimum=1),
    # __transaction_state has five overrides (transactions.store.transaction_state_configs), hence its maximum.
    ConfigKey("transaction.abort.timed.out.transaction.cleanup.interval.ms", "int", 10_000,
              "How often the transaction coordinator aborts transactions open longer than their timeout.", minimum=1),
    ConfigKey("transaction.remove.expired.transaction.cleanup.interval.ms", "int", 3_600_000,
              "How often the transaction coordinator removes transactional ids unused for transactional.id.expiration.ms.",
              minimum=1),
    ConfigKey("transactional.id.expiration.ms", "int", 604_800_000,
              "A transactional id whose last transaction ended this long ago is removed (state Dead, a tombstone in "
              "__transaction_state); its next producer starts afresh.", minimum=1),
    ConfigKey("transaction.partition.verification.enable", "boolean", True,
              "Before appending a producer's first transactional batch to a partition, its leader asks the transaction "
              "coordinator whether the partition is in that producer's transaction (KIP-890); INVALID_TXN_STATE if not."),
    ConfigKey("transaction.max.timeout.ms", "int", 900_000, "Largest transaction.timeout.ms a producer may ask for.",
              minimum=1),
    ConfigKey("transaction.state.log.min.isr", "int", 2, "min.insync.replicas of __transaction_state.", minimum=1),
    ConfigKey("transaction.state.log.num.partitions", "int", 50, "Partitions of __transaction_state.", minimum=1,
              maximum=9_994),
    ConfigKey("transaction.state.log.replication.factor", "int", 3, "Replication factor of __transaction_state.",
              minimum=1),
    ConfigKey("transaction.state.log.segment.bytes", "int", 104_857_600, "segment.bytes of __transaction_state.",
              minimum=1),
    ConfigKey("zookeeper.session.timeout.ms", "int", 18_000, "A broker whose heartbeats stop for this long loses its session and ephemeral znodes.", minimum=1),
    *(ConfigKey(key.broker_synonym, key.type, key.default, key.doc, key.minimum, key.choices,
                not_implemented=key.not_implemented, not_implemented_why=key.not_implemented_why)
      for key in TOPIC_CONFIG_KEYS.values() if key.broker_synonym and key.broker_synonym not in ("min.insync.replicas",
                                                                                                "unclean.leader.election.enable")),
    ConfigKey("min.insync.replicas", "int", 1, TOPIC_CONFIG_KEYS["min.insync.replicas"].doc, minimum=1),
    ConfigKey("unclean.leader.election.enable", "boolean", False, TOPIC_CONFIG_KEYS["unclean.leader.election.enable"].doc),
)


def _unknown_key(name: str, known: Mapping[str, ConfigKey], what: str) -> KafkaError:
    close = get_close_matches(name, list(known), n=1) if len(name) <= QUOTE_LIMIT else []
    hint = f" Did you mean {close[0]}?" if close else ""
    return KafkaError(Errors.INVALID_CONFIG, f"Unknown {what} config {quoted(name)}.{hint}")


def parse_configs(overrides: Mapping[str, Any], known: Mapping[str, ConfigKey], what: str) -> dict[str, Any]:
    """Validate and parse a mapping of config overrides; raise INVALID_CONFIG on the first bad one."""
    parsed: dict[str, Any] = {}
    for name, raw in overrides.items():
        key = known.get(str(name))
        if key is None:
            raise _unknown_key(str(name), known, what)
        parsed[key.name] = _parse_value(key, raw)
    return parsed


def parse_topic_configs(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Validate per-topic overrides (``retention.ms`` ...) and return them parsed."""
    return parse_configs(overrides, TOPIC_CONFIG_KEYS, "topic")


def parse_broker_configs(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Validate broker-wide overrides (``replica.lag.time.max.ms`` ...) and return them parsed."""
    return parse_configs(overrides, BROKER_CONFIG_KEYS, "broker")


def format_config_value(value: Any) -> str:
    """Render a parsed value the way Kafka's tools print it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


@dataclass(frozen=True)
class BrokerConfig:
    """Effective broker-wide settings: Kafka's defaults with the cluster's overrides."""

    overrides: Mapping[str, Any]

    def __getitem__(self, name: str) -> Any:
        if name in self.overrides:
            return self.overrides[name]
        return BROKER_CONFIG_KEYS[name].default

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None = None) -> BrokerConfig:
        """Validate ``overrides`` and build the effective broker config."""
        return cls(parse_broker_configs(overrides or {}))


@dataclass(frozen=True)
class TopicConfig:
    """Effective settings of one topic, as attributes the log and replicas read."""

    cleanup_policy: tuple[str, ...]
    compression_type: str
    delete_retention_ms: int
    flush_messages: int
    flush_ms: int
    index_interval_bytes: int
    max_compaction_lag_ms: int
    max_message_bytes: int
    message_timestamp_type: str
    min_cleanable_dirty_ratio: float
    min_compaction_lag_ms: int
    min_insync_replicas: int
    retention_bytes: int
    retention_ms: int
    segment_bytes: int
    segment_index_bytes: int
    segment_ms: int
    unclean_leader_election_enable: bool

    @classmethod
    def build(cls, overrides: Mapping[str, Any] | None = None, broker: BrokerConfig | None = None) -> TopicConfig:
        """Effective config: topic overrides, else the broker synonym, else Kafka's default."""
        parsed = parse_topic_configs(overrides or {})
        values: dict[str, Any] = {}
        for key in TOPIC_CONFIG_KEYS.values():
            if key.name in parsed:
                value = parsed[key.name]
            elif broker is not None and key.broker_synonym:
                value = broker[key.broker_synonym]
            else:
                value = key.default
            values[key.name.replace(".", "_")] = value
        return cls(**values)

    def as_kafka_dict(self) -> dict[str, Any]:
        """The config keyed by Kafka's names (``retention.ms`` ...)."""
        return {f.name.replace("_", "."): getattr(self, f.name) for f in fields(self)}

    @property
    def compact(self) -> bool:
        """True when ``cleanup.policy`` includes compact."""
        return "compact" in self.cleanup_policy

    @property
    def delete(self) -> bool:
        """True when ``cleanup.policy`` includes delete (time and size retention apply)."""
        return "delete" in self.cleanup_policy


DEFAULT_TOPIC_CONFIG = TopicConfig.build()
