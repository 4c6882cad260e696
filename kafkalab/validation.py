"""Kafka's rules for topic names and partition counts, shared by clients and the controller."""

from __future__ import annotations

from collections.abc import Collection

from kafkalab.errors import Errors, KafkaError, quoted

#: Kafka's ``Topic.MAX_NAME_LENGTH``: 249, so that ``<topic>-<partition>`` fits a file name.
MAX_TOPIC_NAME_LENGTH = 249
#: Kafka's ``Topic.LEGAL_CHARS``, checked character by character (``Topic.containsValidPattern``).
_LEGAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
#: Kafka's ``Topic.INTERNAL_TOPICS`` that a ZooKeeper-mode broker has (``__share_group_state`` came with KRaft).
INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})
#: The most metadata records one admin request may write (Kafka's ``QuorumController.MAX_RECORDS_PER_USER_OP``).
MAX_RECORDS_PER_USER_OP = 10_000
#: What Kafka's ``TopicCommand`` prints when a new topic's name holds '.' or '_'.
COLLISION_WARNING = ("Due to limitations in metric names, topics with a period ('.') or underscore ('_') could "
                     "collide. To avoid issues it is best to use either, but not both.")


def topic_name_problem(name: object) -> str | None:
    """Why Kafka refuses ``name`` as a topic name (``Topic.detectInvalidTopic``), or None if it is valid."""
    if not isinstance(name, str):
        return f"a topic name is text, not {quoted(name)}"
    if not name:
        return "the empty string is not allowed"
    if name in (".", ".."):
        return f"'{name}' is not allowed"
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        return f"the length of {quoted(name)} is longer than the max allowed length {MAX_TOPIC_NAME_LENGTH}"
    # Not a regex: `^...+$` also matches a name that ends in a newline.
    if not _LEGAL_CHARS.issuperset(name):
        return f"{quoted(name)} contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"
    return None


def validate_topic_name(name: object) -> None:
    """Raise INVALID_TOPIC_EXCEPTION unless ``name`` follows Kafka 3.9's ``Topic.validate`` rules."""
    problem = topic_name_problem(name)
    if problem is not None:
        raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION, f"Topic name is invalid: {problem}.")


def has_collision_chars(name: str) -> bool:
    """Kafka's ``Topic.hasCollisionChars``: the name holds '.' or '_', which share metric names."""
    return "." in name or "_" in name


def min_isr_warning(min_isr: int, replication_factor: int) -> str:
    """Why a new topic whose min.insync.replicas exceeds its replication factor is a trap: Kafka accepts the topic,
    and then refuses every acks=all produce to it."""
    return (f"min.insync.replicas={min_isr} is more than the replication factor {replication_factor}: every "
            f"produce with acks=all will fail with NOT_ENOUGH_REPLICAS.")


def collides(name: str, existing: str) -> bool:
    """Kafka rejects names equal after '.' -> '_' (they share metric names)."""
    return name != existing and name.replace(".", "_") == existing.replace(".", "_")


def is_internal(topic: str) -> bool:
    """Kafka's ``Topic.isInternal``: the brokers' own topics, which clients may not write."""
    return topic in INTERNAL_TOPICS


def validate_partition(topic: str, partition: int, partition_count: int) -> None:
    """Raise UNKNOWN_TOPIC_OR_PARTITION unless ``partition`` exists in a topic of ``partition_count``."""
    if not isinstance(partition, int) or isinstance(partition, bool) or not 0 <= partition < partition_count:
        raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                         f"Partition {quoted(partition)} does not exist: topic {quoted(topic)} has partitions "
                         f"0-{partition_count - 1}.")


def validate_partition_increase(current: int, count: int) -> None:
    """CreatePartitions' rule in both modes: a topic only grows (Kafka's ``INVALID_PARTITIONS`` messages)."""
    if count == current:
        raise KafkaError(Errors.INVALID_PARTITIONS, f"Topic already has {current} partitions.")
    if count < current:
        raise KafkaError(Errors.INVALID_PARTITIONS,
                         f"Topic currently has {current} partitions, which is higher than the requested {count}.")


def validate_topic_is_new(name: str, existing: Collection[str]) -> None:
    """CreateTopics' rule in both modes: not an existing topic, nor one its name collides with ('.' vs '_')."""
    if name in existing:
        raise KafkaError(Errors.TOPIC_ALREADY_EXISTS, f"Topic '{name}' already exists.")
    colliding = sorted(other for other in existing if collides(name, other))
    if colliding:
        raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION,
                         f"Topic '{name}' collides with existing topics: {', '.join(colliding)}.")
