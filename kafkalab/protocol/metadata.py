"""Metadata (API key 3): which brokers exist, who leads each partition, who is the controller."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.errors import Errors
from kafkalab.protocol.controller_api import BrokerEndpoint
from kafkalab.protocol.types import Request


@dataclass(frozen=True)
class MetadataRequest(Request["MetadataResponse"]):
    """``topics=None`` asks for every topic."""

    topics: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PartitionMetadata:
    error: Errors
    partition: int
    leader: int
    leader_epoch: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    offline_replicas: tuple[int, ...]


@dataclass(frozen=True)
class TopicMetadata:
    error: Errors
    name: str
    is_internal: bool
    partitions: tuple[PartitionMetadata, ...]


@dataclass(frozen=True)
class MetadataResponse:
    brokers: tuple[BrokerEndpoint, ...]
    cluster_id: str
    controller_id: int
    topics: tuple[TopicMetadata, ...]
