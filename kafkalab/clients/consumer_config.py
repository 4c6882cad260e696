"""The consumer's settings: Kafka's ``ConsumerConfig`` names and 3.x defaults, and its assignors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kafkalab.clients.assignors import Assignor, RebalanceProtocol, get_assignor
from kafkalab.clients.client_config import ClientConfig
from kafkalab.config import ConfigKey
from kafkalab.errors import Errors, KafkaError

CONSUMER_CONFIG_KEYS: dict[str, ConfigKey] = {key.name: key for key in (
    ConfigKey("allow.auto.create.topics", "boolean", True, "Let this consumer's Metadata requests create the topics "
              "it subscribes to, where the brokers have auto.create.topics.enable=true."),
    ConfigKey("auto.commit.interval.ms", "int", 5000, "How often positions are committed with enable.auto.commit.",
              minimum=0),
    ConfigKey("auto.offset.reset", "string", "latest", "Where to start without a valid committed offset.",
              choices=("earliest", "latest", "none")),
    ConfigKey("check.crcs", "boolean", True, "Check the CRC32C of every fetched record batch; a batch that fails "
              "makes poll() raise CORRUPT_MESSAGE instead of returning damaged records."),
    ConfigKey("client.id", "string", "", "The name this consumer shows in events and in its member id."),
    ConfigKey("default.api.timeout.ms", "int", 60_000, "How long commit_sync, committed and position may take.",
              minimum=0),
    ConfigKey("enable.auto.commit", "boolean", True, "Commit the positions of returned records periodically."),
    ConfigKey("fetch.max.bytes", "int", 52_428_800, "Largest fetch response the consumer asks for.", minimum=0),
    ConfigKey("fetch.max.wait.ms", "int", 500, "How long a fetch waits at the broker for fetch.min.bytes.",
              minimum=0),
    ConfigKey("fetch.min.bytes", "int", 1, "Bytes a fetch waits for before the broker answers.", minimum=0),
    ConfigKey("group.id", "string", "", "The consumer group; needed for subscribe() and commits."),
    ConfigKey("group.instance.id", "string", "", "A stable identity: a static member keeps its partitions across "
              "restarts within session.timeout.ms (KIP-345)."),
    ConfigKey("heartbeat.interval.ms", "int", 3000, "How often the heartbeat thread tells the coordinator it lives.",
              minimum=1),
    ConfigKey("isolation.level", "string", "read_uncommitted", "read_committed reads only up to the last stable "
              "offset and skips records of aborted transactions; read_uncommitted reads every record to the high "
              "watermark.", choices=("read_uncommitted", "read_committed")),
    ConfigKey("max.partition.fetch.bytes", "int", 1_048_576, "Bytes per partition per fetch.", minimum=0),
    ConfigKey("max.poll.interval.ms", "int", 300_000, "Longest pause between poll() calls before the consumer "
              "leaves the group; also the rebalance timeout.", minimum=1),
    ConfigKey("max.poll.records", "int", 500, "Most records one poll() returns.", minimum=1),
    ConfigKey("partition.assignment.strategy", "list", ("range", "cooperative-sticky"),
              "Assignors in order of preference: range, roundrobin, sticky, cooperative-sticky."),
    ConfigKey("request.timeout.ms", "int", 30_000, "How long to wait for a response.", minimum=0),
    ConfigKey("retry.backoff.ms", "int", 100, "Pause before retrying a failed request.", minimum=0),
    ConfigKey("session.timeout.ms", "int", 45_000, "Without a heartbeat for this long the coordinator removes "
              "the member.", minimum=1),
)}

#: Kafka's assignor class names, accepted as well as the short names.
_CLASS_NAMES = {
    "org.apache.kafka.clients.consumer.RangeAssignor": "range",
    "org.apache.kafka.clients.consumer.RoundRobinAssignor": "roundrobin",
    "org.apache.kafka.clients.consumer.StickyAssignor": "sticky",
    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor": "cooperative-sticky",
}


def parse_consumer_config(values: Mapping[str, Any]) -> tuple[ClientConfig, tuple[Assignor, ...], RebalanceProtocol]:
    """Settings, assignors in preference order, and the rebalance protocol they all support.

    Like ``ConsumerCoordinator``: COOPERATIVE only when every configured assignor supports
    it (the default range + cooperative-sticky is therefore EAGER).
    """
    config = ClientConfig.parse(CONSUMER_CONFIG_KEYS, values, "consumer")
    names = config["partition.assignment.strategy"]
    if not names:
        raise KafkaError(Errors.INVALID_CONFIG, "partition.assignment.strategy must name at least one assignor.")
    assignors = tuple(get_assignor(_CLASS_NAMES.get(name, name)) for name in names)
    common = set.intersection(*(set(a.supported_protocols) for a in assignors))
    if not common:
        raise KafkaError(Errors.INVALID_CONFIG, f"The assignors {', '.join(names)} share no rebalance protocol.")
    protocol = RebalanceProtocol.COOPERATIVE if RebalanceProtocol.COOPERATIVE in common else RebalanceProtocol.EAGER
    if config["heartbeat.interval.ms"] >= config["session.timeout.ms"]:
        raise KafkaError(Errors.INVALID_CONFIG, "heartbeat.interval.ms must be lower than session.timeout.ms.")
    return config, assignors, protocol
