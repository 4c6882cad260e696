"""Admin APIs: create and delete topics, add partitions, elect leaders, alter and describe configs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from kafkalab.errors import Errors
from kafkalab.protocol.types import Request, TopicPartition


@dataclass(frozen=True)
class CreatableTopic:
    name: str
    num_partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateTopicsRequest(Request["CreateTopicsResponse"]):
    topics: tuple[CreatableTopic, ...]
    timeout_ms: int = 30_000
    validate_only: bool = False
    #: Set only by a broker creating its own internal topic (Kafka's ``AutoTopicCreationManager``, which in
    #: ZooKeeper mode writes ZooKeeper itself instead of calling this API); clients may not create them.
    internal_topics_allowed: bool = False


@dataclass(frozen=True)
class ApiResult:
    """Kafka's per-resource result: an error name and a sentence."""

    error: Errors
    message: str = ""


@dataclass(frozen=True)
class CreateTopicsResponse:
    results: dict[str, ApiResult]


@dataclass(frozen=True)
class CreatePartitionsRequest(Request["CreatePartitionsResponse"]):
    """Grow topics to a new partition count each (Kafka's ``CreatePartitions``, KIP-195)."""

    topics: tuple[tuple[str, int], ...]
    timeout_ms: int = 30_000
    validate_only: bool = False


@dataclass(frozen=True)
class CreatePartitionsResponse:
    results: dict[str, ApiResult]


@dataclass(frozen=True)
class DeleteTopicsRequest(Request["DeleteTopicsResponse"]):
    names: tuple[str, ...]
    timeout_ms: int = 30_000


@dataclass(frozen=True)
class DeleteTopicsResponse:
    results: dict[str, ApiResult]


class ElectionType(Enum):
    """KIP-460's election types."""

    PREFERRED = 0
    UNCLEAN = 1


@dataclass(frozen=True)
class ElectLeadersRequest(Request["ElectLeadersResponse"]):
    """``partitions=None`` means every partition."""

    election_type: ElectionType
    partitions: tuple[TopicPartition, ...] | None
    timeout_ms: int = 30_000


@dataclass(frozen=True)
class ElectLeadersResponse:
    results: dict[TopicPartition, ApiResult]


class AlterConfigOp(Enum):
    """KIP-339's incremental operations."""

    SET = 0
    DELETE = 1


@dataclass(frozen=True)
class IncrementalAlterConfigsRequest(Request["IncrementalAlterConfigsResponse"]):
    topic: str
    changes: tuple[tuple[str, AlterConfigOp, str | None], ...]
    validate_only: bool = False


@dataclass(frozen=True)
class IncrementalAlterConfigsResponse:
    result: ApiResult


class ConfigResourceType(Enum):
    """Kafka's ``ConfigResource.Type`` codes."""

    TOPIC = 2
    BROKER = 4


class ConfigSource(Enum):
    """Where a config value comes from (Kafka's ``DescribeConfigsResponse.ConfigSource``)."""

    DYNAMIC_TOPIC_CONFIG = 1
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5


@dataclass(frozen=True)
class DescribedConfig:
    """One config entry: its value, where it comes from, and the values it would fall back to."""

    name: str
    value: str | None
    source: ConfigSource
    read_only: bool
    config_type: str
    documentation: str
    synonyms: tuple[tuple[str, str | None, ConfigSource], ...] = ()


@dataclass(frozen=True)
class DescribeConfigsRequest(Request["DescribeConfigsResponse"]):
    """``keys=None`` asks for every config of the resource."""

    resource_type: ConfigResourceType
    resource_name: str
    keys: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DescribeConfigsResponse:
    result: ApiResult
    configs: tuple[DescribedConfig, ...] = ()
