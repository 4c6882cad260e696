"""The controller's requests to brokers and the brokers' requests to the controller.

LeaderAndIsr tells replicas who leads at which epoch; UpdateMetadata tells every broker
the cluster layout; StopReplica stops (and optionally deletes) replicas;
ControlledShutdown asks the controller to move leadership away; AlterPartition
is how a leader changes its ISR through the controller (KIP-497).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from kafkalab.errors import Errors
from kafkalab.protocol.types import Request, TopicPartition


@dataclass(frozen=True)
class PartitionState:
    """Leader, ISR and epochs of one partition, as stored in ZooKeeper and sent to brokers."""

    topic: str
    partition: int
    controller_epoch: int
    leader: int
    leader_epoch: int
    isr: tuple[int, ...]
    partition_epoch: int
    replicas: tuple[int, ...]
    is_new: bool = False

    @property
    def tp(self) -> TopicPartition:
        """The partition this state describes."""
        return TopicPartition(self.topic, self.partition)


@dataclass(frozen=True)
class BrokerEndpoint:
    broker_id: int
    host: str
    port: int
    rack: str | None = None


@dataclass(frozen=True)
class LeaderAndIsrRequest(Request["LeaderAndIsrResponse"]):
    controller_id: int
    controller_epoch: int
    broker_epoch: int
    partition_states: tuple[PartitionState, ...]
    live_leaders: tuple[BrokerEndpoint, ...]


@dataclass(frozen=True)
class LeaderAndIsrResponse:
    error: Errors
    partition_errors: dict[TopicPartition, Errors]


class ControlRequestType(Enum):
    """Kafka's ``AbstractControlRequest.Type``: whether a request carries every partition or only changes."""

    INCREMENTAL = 1
    FULL = 2


@dataclass(frozen=True)
class UpdateMetadataRequest(Request["UpdateMetadataResponse"]):
    controller_id: int
    controller_epoch: int
    broker_epoch: int
    partition_states: tuple[PartitionState, ...]
    live_brokers: tuple[BrokerEndpoint, ...]
    deleted_topics: tuple[str, ...] = ()
    update_type: ControlRequestType = ControlRequestType.INCREMENTAL
    #: (topic, topic id) of every topic in ``partition_states`` (UpdateMetadata v7+ carries topic ids).
    topic_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UpdateMetadataResponse:
    error: Errors


@dataclass(frozen=True)
class StopReplicaPartition:
    tp: TopicPartition
    delete: bool
    leader_epoch: int = -1


@dataclass(frozen=True)
class StopReplicaRequest(Request["StopReplicaResponse"]):
    controller_id: int
    controller_epoch: int
    broker_epoch: int
    partitions: tuple[StopReplicaPartition, ...]


@dataclass(frozen=True)
class StopReplicaResponse:
    error: Errors


@dataclass(frozen=True)
class ControlledShutdownRequest(Request["ControlledShutdownResponse"]):
    broker_id: int
    broker_epoch: int


@dataclass(frozen=True)
class ControlledShutdownResponse:
    error: Errors
    remaining_partitions: tuple[TopicPartition, ...] = ()


@dataclass(frozen=True)
class AlterPartitionRequest(Request["AlterPartitionResponse"]):
    """A leader proposes a new ISR for a partition at its current leader and partition epochs."""

    broker_id: int
    broker_epoch: int
    tp: TopicPartition
    leader_epoch: int
    new_isr: tuple[int, ...]
    partition_epoch: int


@dataclass(frozen=True)
class AlterPartitionResponse:
    error: Errors
    state: PartitionState | None = None
