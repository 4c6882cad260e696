"""What a KRaft broker asks the active controller: register, heartbeat, producer id blocks (Kafka 4.1).

``BrokerRegistration`` (KIP-631) gives a starting broker its epoch; ``BrokerHeartbeat`` keeps
its session, reports how far it has applied the metadata log and asks to be unfenced or to
shut down (controlled shutdown); ``AllocateProducerIds`` (KIP-730) hands out producer id
blocks. Everything else a broker sends the controller (AlterPartition, and the admin requests
it forwards) has the same shape as in ZooKeeper mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.errors import Errors
from kafkalab.protocol import admin as admin_api
from kafkalab.protocol import controller_api as ctl
from kafkalab.protocol.types import Request


@dataclass(frozen=True)
class Listener:
    """``BrokerRegistrationRequest.Listeners``: where clients reach the broker."""

    name: str
    host: str
    port: int


@dataclass(frozen=True)
class BrokerRegistrationRequest(Request["BrokerRegistrationResponse"]):
    broker_id: int
    cluster_id: str
    incarnation_id: str
    listeners: tuple[Listener, ...]
    rack: str | None = None
    #: The broker's previous epoch if it shut down cleanly, else -1 (KIP-966: an unclean shutdown leaves ELRs).
    previous_broker_epoch: int = -1


@dataclass(frozen=True)
class BrokerRegistrationResponse:
    error: Errors
    broker_epoch: int = -1


@dataclass(frozen=True)
class BrokerHeartbeatRequest(Request["BrokerHeartbeatResponse"]):
    broker_id: int
    broker_epoch: int
    current_metadata_offset: int
    want_fence: bool
    want_shut_down: bool


@dataclass(frozen=True)
class BrokerHeartbeatResponse:
    error: Errors
    is_caught_up: bool = False
    is_fenced: bool = True
    should_shut_down: bool = False


@dataclass(frozen=True)
class AllocateProducerIdsRequest(Request["AllocateProducerIdsResponse"]):
    broker_id: int
    broker_epoch: int


@dataclass(frozen=True)
class AllocateProducerIdsResponse:
    error: Errors
    producer_id_start: int = -1
    producer_id_len: int = 0


def not_controller_response(request: object) -> object:
    """The NOT_CONTROLLER answer to a request only the (active) controller serves, in the request's own shape."""
    result = admin_api.ApiResult(Errors.NOT_CONTROLLER, "This is not the active controller.")
    if isinstance(request, admin_api.CreateTopicsRequest):
        return admin_api.CreateTopicsResponse({t.name: result for t in request.topics})
    if isinstance(request, admin_api.DeleteTopicsRequest):
        return admin_api.DeleteTopicsResponse({name: result for name in request.names})
    if isinstance(request, admin_api.CreatePartitionsRequest):
        return admin_api.CreatePartitionsResponse({name: result for name, _ in request.topics})
    if isinstance(request, admin_api.ElectLeadersRequest):
        return admin_api.ElectLeadersResponse({tp: result for tp in request.partitions or ()})
    if isinstance(request, admin_api.IncrementalAlterConfigsRequest):
        return admin_api.IncrementalAlterConfigsResponse(result)
    if isinstance(request, ctl.AlterPartitionRequest):
        return ctl.AlterPartitionResponse(Errors.NOT_CONTROLLER)
    if isinstance(request, BrokerRegistrationRequest):
        return BrokerRegistrationResponse(Errors.NOT_CONTROLLER)
    if isinstance(request, BrokerHeartbeatRequest):
        return BrokerHeartbeatResponse(Errors.NOT_CONTROLLER)
    if isinstance(request, AllocateProducerIdsRequest):
        return AllocateProducerIdsResponse(Errors.NOT_CONTROLLER)
    return ctl.ControlledShutdownResponse(Errors.NOT_CONTROLLER)
