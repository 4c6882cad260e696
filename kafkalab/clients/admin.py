"""The admin client: topic creation and deletion, config changes and leader elections.

Requests for the controller are sent to the controller named in metadata and retried
when it has moved (NOT_CONTROLLER), as Kafka's ``AdminClient`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from kafkalab.clients.network_client import ClientNode
from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.admin import (
    AlterConfigOp,
    ApiResult,
    CreatableTopic,
    CreateTopicsRequest,
    DeleteTopicsRequest,
    ElectionType,
    ElectLeadersRequest,
    IncrementalAlterConfigsRequest,
)
from kafkalab.protocol.metadata import MetadataResponse
from kafkalab.protocol.types import Request, TopicPartition
from kafkalab.sim.process import Process, Sleep

R = TypeVar("R")

RETRY_BACKOFF_MS = 100
MAX_ATTEMPTS = 50


def _raise_for(result: ApiResult) -> None:
    if result.error != Errors.NONE:
        raise KafkaError(result.error, result.message or None)


class AdminClient:
    """Admin operations as processes; each raises KafkaError with Kafka's error name on failure."""

    def __init__(self, client: ClientNode) -> None:
        self.client = client

    def _to_controller(self, request: Request[R], results_of: Callable[[R], Iterable[ApiResult]]) -> Process[R]:
        for _ in range(MAX_ATTEMPTS):
            metadata = yield from self.client.refresh_metadata(())
            if isinstance(metadata, MetadataResponse) and metadata.controller_id >= 0:
                response = yield self.client.send(metadata.controller_id, request)
                if not isinstance(response, Errors):
                    results = results_of(response)
                    if all(r.error != Errors.NOT_CONTROLLER for r in results):
                        return response
            yield Sleep(RETRY_BACKOFF_MS)
        raise KafkaError(Errors.REQUEST_TIMED_OUT, "No controller answered: is any broker running?")

    def create_topic(self, name: str, partitions: int, replication_factor: int,
                     config: Mapping[str, Any] | None = None) -> Process[None]:
        """Create one topic; raises TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, ..."""
        topic = CreatableTopic(name, partitions, replication_factor, {k: str(v) for k, v in (config or {}).items()})
        response = yield from self._to_controller(CreateTopicsRequest((topic,)), lambda r: r.results.values())
        _raise_for(response.results[name])

    def delete_topic(self, name: str) -> Process[None]:
        """Delete one topic and every replica of it; REQUEST_TIMED_OUT while a replica's broker is down."""
        # The controller waits for the deletion at most half our request timeout, so its answer
        # (REQUEST_TIMED_OUT if a replica is not deleted yet) arrives before we give up on it.
        request = DeleteTopicsRequest((name,), timeout_ms=self.client.request_timeout_ms // 2)
        response = yield from self._to_controller(request, lambda r: r.results.values())
        _raise_for(response.results[name])

    def elect_leaders(self, election_type: ElectionType,
                      partitions: tuple[TopicPartition, ...] | None) -> Process[dict[TopicPartition, ApiResult]]:
        """Run a preferred (or unclean) leader election; returns each partition's result."""
        response = yield from self._to_controller(ElectLeadersRequest(election_type, partitions),
                                                  lambda r: r.results.values())
        return response.results

    def alter_topic_config(self, topic: str, set_values: Mapping[str, Any] | None = None,
                           delete_keys: tuple[str, ...] = ()) -> Process[None]:
        """Set and delete topic config overrides (KIP-339 incremental alter)."""
        changes: tuple[tuple[str, AlterConfigOp, str | None], ...] = tuple(
            (key, AlterConfigOp.SET, str(value)) for key, value in (set_values or {}).items())
        changes += tuple((key, AlterConfigOp.DELETE, None) for key in delete_keys)
        response = yield from self.client.send_to_any(IncrementalAlterConfigsRequest(topic, changes))
        if isinstance(response, Errors):
            raise KafkaError(response, "No broker answered the config change.")
        _raise_for(response.result)
