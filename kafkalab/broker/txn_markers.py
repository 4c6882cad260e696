"""A partition leader's side of WriteTxnMarkers (Kafka's ``KafkaApis.handleWriteTxnMarkersRequest``).

Each marker becomes one control batch per partition, appended as the coordinator's
(``AppendOrigin.COORDINATOR``) with acks=all, so a marker is acknowledged only once the
in-sync replicas have it. Markers in ``__consumer_offsets`` partitions also tell the group
coordinator to apply or drop the offsets the transaction committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.replica_manager import ReplicaManager
from kafkalab.errors import Errors
from kafkalab.protocol.produce import ProduceRequest, ProduceResponse
from kafkalab.protocol.transactions import WritableTxnMarker, WriteTxnMarkersRequest, WriteTxnMarkersResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.network import Responder
from kafkalab.storage.control_records import encode_end_txn_marker

#: Kafka's ``Topic.GROUP_METADATA_TOPIC_NAME``, whose markers end transactional offset commits.
_OFFSETS_TOPIC = "__consumer_offsets"
#: Called with (producer id, committed, the __consumer_offsets partitions that took the marker).
OffsetsCompletion = Callable[[int, bool, tuple[TopicPartition, ...]], None]


class TxnMarkerWriter:
    """Appends a coordinator's markers to the partitions this broker leads."""

    def __init__(self, ctx: BrokerContext, replicas: ReplicaManager) -> None:
        self.ctx = ctx
        self.replicas = replicas
        #: The group coordinator's ``onTransactionCompleted``.
        self.offsets_listeners: list[OffsetsCompletion] = []

    def handle(self, request: WriteTxnMarkersRequest, respond: Responder) -> None:
        results: dict[int, dict[TopicPartition, Errors]] = {marker.producer_id: {} for marker in request.markers}
        remaining = len(request.markers)

        def one_done() -> None:
            nonlocal remaining
            remaining -= 1
            if remaining == 0:
                respond(WriteTxnMarkersResponse(results))

        for marker in request.markers:
            self._append(marker, results[marker.producer_id], one_done)

    def _append(self, marker: WritableTxnMarker, errors: dict[TopicPartition, Errors], done: Callable[[], None]) -> None:
        now = int(self.ctx.now_ms)
        batch = encode_end_txn_marker(producer_id=marker.producer_id, producer_epoch=marker.producer_epoch,
                                      commit=marker.committed, coordinator_epoch=marker.coordinator_epoch,
                                      timestamp=now)

        def appended(response: Any) -> None:
            for tp in marker.partitions:
                errors[tp] = (response.partitions[tp].error if isinstance(response, ProduceResponse)
                              else Errors.UNKNOWN_SERVER_ERROR)
            offsets = tuple(tp for tp in marker.partitions if tp.topic == _OFFSETS_TOPIC and errors[tp] == Errors.NONE)
            if offsets:
                for listener in self.offsets_listeners:
                    listener(marker.producer_id, marker.committed, offsets)
            done()

        request = ProduceRequest(-1, self.ctx.config["request.timeout.ms"], {tp: batch for tp in marker.partitions},
                                 client_id="transaction-coordinator")
        self.replicas.handle_produce(request, appended, internal_topics_allowed=True, from_coordinator=True)
