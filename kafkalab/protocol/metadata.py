"""Metadata (API key 3) and DescribeCluster (API key 60): which brokers exist, who leads each partition, who is
the controller."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.errors import Errors
from kafkalab.protocol.controller_api import BrokerEndpoint
from kafkalab.protocol.types import Request


@dataclass(frozen=True)
class MetadataRequest(Request["MetadataResponse"]):
    """``topics=None`` asks for every topic.

    ``allow_auto_topic_creation`` defaults to true, as in Kafka's request schema: a broker with
    ``auto.create.topics.enable`` creates the named topics it does not know.
    """

    topics: tuple[str, ...] | None = None
    allow_auto_topic_creation: bool = True
    client_id: str = ""


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
    #: The topic's id as Kafka prints a Uuid (22 url-safe base64 characters); empty when unknown.
    topic_id: str = ""


@dataclass(frozen=True)
class MetadataResponse:
    brokers: tuple[BrokerEndpoint, ...]
    cluster_id: str
    controller_id: int
    topics: tuple[TopicMetadata, ...]


@dataclass(frozen=True)
class DescribeClusterRequest(Request["DescribeClusterResponse"]):
    """KIP-700: the brokers, the controller and the cluster id, without any topic."""


@dataclass(frozen=True)
class DescribeClusterResponse:
    error: Errors
    cluster_id: str
    controller_id: int
    brokers: tuple[BrokerEndpoint, ...]
