"""The producer's settings (Kafka's ``ProducerConfig`` names and 3.x defaults) and its partitioner choice."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from kafkalab.clients.client_config import ClientConfig
from kafkalab.clients.partitioners import (
    BuiltInPartitioner,
    Partitioner,
    RoundRobinPartitioner,
    function_partitioner,
    load_custom_partitioner,
)
from kafkalab.config import ConfigKey
from kafkalab.errors import Errors, KafkaError

_INT_MAX = 2**31 - 1

PRODUCER_CONFIG_KEYS: dict[str, ConfigKey] = {key.name: key for key in (
    ConfigKey("acks", "string", "all", "How many replicas must have a write before it is acknowledged: 0, 1 or all.",
              choices=("all", "-1", "0", "1")),
    ConfigKey("buffer.memory", "long", 33_554_432, "Bytes of records the producer may hold before they are "
              "acknowledged; sending more waits until some are.", minimum=0),
    ConfigKey("batch.size", "int", 16_384, "Bytes of records gathered per partition before a batch is full.", minimum=0),
    ConfigKey("client.id", "string", "", "The name this producer shows in events and broker logs."),
    ConfigKey("compression.type", "string", "none", "Codec of produced batches (kafkalab has none and gzip).",
              choices=("none", "gzip")),
    ConfigKey("delivery.timeout.ms", "int", 120_000, "Upper bound on the time from send() to success or failure.",
              minimum=0),
    ConfigKey("enable.idempotence", "boolean", True,
              "Producer id and sequence numbers per batch, so retries never duplicate records."),
    ConfigKey("linger.ms", "int", 0, "How long to wait for more records before sending a batch that is not full.",
              minimum=0),
    ConfigKey("max.block.ms", "int", 60_000, "How long send() waits for metadata of its topic.", minimum=0),
    ConfigKey("max.in.flight.requests.per.connection", "int", 5,
              "Unacknowledged requests per broker; above 1 without idempotence, retries may reorder.", minimum=1),
    ConfigKey("max.request.size", "int", 1_048_576, "Largest produce request (and hence record) the producer sends.",
              minimum=0),
    ConfigKey("partitioner.class", "string", "", "Where keyless records go: built-in sticky (default), "
              "round-robin, or a Python function named by dotted path."),
    ConfigKey("partitioner.ignore.keys", "boolean", False, "Place keyed records like keyless ones (KIP-794)."),
    ConfigKey("request.timeout.ms", "int", 30_000, "How long to wait for a produce response before retrying.",
              minimum=0),
    ConfigKey("retries", "int", _INT_MAX, "How often a failed batch is retried (within delivery.timeout.ms).",
              minimum=0),
    ConfigKey("retry.backoff.ms", "int", 100, "Pause before retrying a failed request.", minimum=0),
    ConfigKey("transaction.timeout.ms", "int", 60_000, "How long a transaction may stay open before its coordinator "
              "aborts it (at most the broker's transaction.max.timeout.ms).", minimum=1),
    ConfigKey("transactional.id", "string", "", "Makes the producer transactional (KIP-98): its records are written "
              "in transactions that commit or abort as a whole, and a newer producer with the same id fences it."),
)}

#: Partitioner names a scenario file may choose (it may not name code to import).
BUILTIN_PARTITIONERS: dict[str, str] = {
    "": "sticky", "default": "sticky", "sticky": "sticky", "builtin": "sticky",
    "org.apache.kafka.clients.producer.internals.DefaultPartitioner": "sticky",
    "round-robin": "round-robin", "roundrobin": "round-robin",
    "org.apache.kafka.clients.producer.RoundRobinPartitioner": "round-robin",
}

#: Settings the idempotent producer requires, checked as Kafka's ``ProducerConfig`` does.
_IDEMPOTENCE_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("acks", lambda v: v in ("all", "-1"), "Must set acks to all in order to use the idempotent producer. "
                                          "Otherwise we cannot guarantee idempotence."),
    ("max.in.flight.requests.per.connection", lambda v: v <= 5,
     "Must set max.in.flight.requests.per.connection to at most 5 when using the idempotent producer."),
    ("retries", lambda v: v > 0, "Must set retries to non-zero when using the idempotent producer."),
)


def parse_producer_config(values: Mapping[str, Any]) -> tuple[ClientConfig, Any, bool]:
    """The parsed settings, the raw ``partitioner.class`` value and whether idempotence is on.

    Like Kafka 3.x: idempotence defaults to on but is quietly dropped when another setting
    conflicts with it, unless ``enable.idempotence=true`` was set explicitly or a ``transactional.id``
    needs it (then INVALID_CONFIG).
    """
    partitioner = values.get("partitioner.class", "")
    plain = {k: v for k, v in values.items() if k != "partitioner.class"}
    config = ClientConfig.parse(PRODUCER_CONFIG_KEYS, plain, "producer")
    idempotent = config["enable.idempotence"]
    transactional = bool(config["transactional.id"])
    if transactional and not idempotent:
        raise KafkaError(Errors.INVALID_CONFIG, "Cannot set a transactional.id without also enabling idempotence.")
    for key, allowed, message in _IDEMPOTENCE_RULES:
        if idempotent and not allowed(config[key]):
            if config.is_set("enable.idempotence") or transactional:
                raise KafkaError(Errors.INVALID_CONFIG, message)
            idempotent = False
    if config["delivery.timeout.ms"] < config["linger.ms"] + config["request.timeout.ms"]:
        raise KafkaError(Errors.INVALID_CONFIG, "delivery.timeout.ms should be equal to or larger than linger.ms + "
                                                "request.timeout.ms.")
    return config, partitioner, idempotent


def acks_value(acks: str) -> int:
    """The Produce request's acks for a config value: all -> -1."""
    return -1 if acks == "all" else int(acks)


def build_partitioner(choice: Any, batch_size: int, rng: random.Random) -> Partitioner:
    """The partitioner for a ``partitioner.class`` value: a built-in name, a callable, or a dotted path."""
    if callable(choice):
        return function_partitioner(choice, getattr(choice, "__qualname__", repr(choice)))
    if not isinstance(choice, str):
        raise KafkaError(Errors.INVALID_CONFIG, f"partitioner.class must be a name or a function, not {choice!r}.")
    builtin = BUILTIN_PARTITIONERS.get(choice)
    if builtin == "sticky":
        return BuiltInPartitioner(max(1, batch_size), rng)
    if builtin == "round-robin":
        return RoundRobinPartitioner()
    return load_custom_partitioner(choice)
