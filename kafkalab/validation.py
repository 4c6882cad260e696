"""Kafka's rules for topic names and partition counts, shared by clients and the controller."""

from __future__ import annotations

import re

from kafkalab.errors import Errors, KafkaError

#: Kafka's ``Topic.MAX_NAME_LENGTH``: 249, so that ``<topic>-<partition>`` fits a file name.
MAX_TOPIC_NAME_LENGTH = 249
_LEGAL = re.compile(r"^[a-zA-Z0-9._-]+$")
INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})


def validate_topic_name(name: str) -> None:
    """Raise INVALID_TOPIC_EXCEPTION unless ``name`` follows Kafka's ``Topic.validate`` rules."""
    if not isinstance(name, str) or not name:
        raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION, "Topic name is illegal, it can't be empty.")
    if name in (".", ".."):
        raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION, "Topic name cannot be \".\" or \"..\".")
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION,
                         f"Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters, "
                         f"topic name: {name[:40]}...")
    if not _LEGAL.match(name):
        raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION,
                         f"Topic name \"{name}\" is illegal, it contains a character other than ASCII "
                         f"alphanumerics, '.', '_' and '-'.")


def collides(name: str, existing: str) -> bool:
    """Kafka rejects names equal after '.' -> '_' (they share metric names)."""
    return name != existing and name.replace(".", "_") == existing.replace(".", "_")


def validate_partition(topic: str, partition: int, partition_count: int) -> None:
    """Raise UNKNOWN_TOPIC_OR_PARTITION unless ``partition`` exists in a topic of ``partition_count``."""
    if not isinstance(partition, int) or isinstance(partition, bool) or not 0 <= partition < partition_count:
        raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                         f"Partition {partition} does not exist: topic {topic} has partitions 0-{partition_count - 1}.")
