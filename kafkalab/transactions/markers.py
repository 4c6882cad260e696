"""Sending a decided transaction's markers to its partitions' leaders (Kafka's ``TransactionMarkerChannelManager``).

Once PrepareCommit or PrepareAbort is in ``__transaction_state`` the outcome is fixed:
the coordinator sends WriteTxnMarkers to the leader of every partition of the
transaction, grouped by leader, and sends again to the ones that failed (a moved leader,
a broker down, too few in-sync replicas) until each has its marker or its topic is gone.
Then it writes CompleteCommit or CompleteAbort. A coordinator that resigns stops; its
successor reloads the Prepare state and sends the markers again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.errors import Errors
from kafkalab.events.transactions import TransactionMarkersWritten
from kafkalab.protocol.transactions import WritableTxnMarker, WriteTxnMarkersRequest, WriteTxnMarkersResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process, Sleep, spawn

#: The inter-broker client's ``retry.backoff.ms``: the pause before markers are sent again.
MARKER_RETRY_BACKOFF_MS = 100
#: Answers after which the partition needs no marker. UNKNOWN_TOPIC_OR_PARTITION is not one: a leader just
#: restarted says it before its metadata arrives, and Kafka retries it (3.9
#: ``TransactionMarkerRequestCompletionHandler``); a deleted topic is known from this broker's own metadata.
_DONE = frozenset({Errors.NONE})
#: Answers after which this coordinator stops sending: a newer epoch or coordinator took over (Kafka's ``abortSending``).
_FENCED = frozenset({Errors.INVALID_PRODUCER_EPOCH, Errors.TRANSACTION_COORDINATOR_FENCED})


class MarkerSender:
    """Sends the markers of each decided transaction of this coordinator."""

    def __init__(self, ctx: BrokerContext) -> None:
        self.ctx = ctx

    def send(self, transactional_id: str, marker: WritableTxnMarker, still_coordinator: Callable[[], bool],
             on_written: Callable[[], None]) -> None:
        """Deliver ``marker`` to every partition, then call ``on_written`` (unless we stop coordinating first)."""
        spawn(self.ctx.group, self._send(transactional_id, marker, still_coordinator, on_written),
              name=f"WriteTxnMarkers for {transactional_id}")

    def _send(self, transactional_id: str, marker: WritableTxnMarker, still_coordinator: Callable[[], bool],
              on_written: Callable[[], None]) -> Process[None]:
        pending = set(marker.partitions)
        while pending:
            if not still_coordinator():
                return
            by_leader: dict[int, list[TopicPartition]] = {}
            for tp in sorted(pending):
                leader = self.ctx.metadata.leader_of(tp)
                if leader < 0 and tp.topic not in self.ctx.metadata.partition_counts:
                    pending.discard(tp)  # the topic is gone: nothing to mark
                elif leader >= 0:
                    by_leader.setdefault(leader, []).append(tp)
            sent = [(leader, self._request(leader, WritableTxnMarker(
                marker.producer_id, marker.producer_epoch, marker.committed, tuple(tps), marker.coordinator_epoch)))
                for leader, tps in by_leader.items()]
            for _, future in sent:
                response = yield future
                if not isinstance(response, WriteTxnMarkersResponse):
                    continue  # the leader is down or the request timed out: send again
                for tp, error in response.results.get(marker.producer_id, {}).items():
                    if error in _FENCED:
                        return
                    if error in _DONE:
                        pending.discard(tp)
            if pending:
                yield Sleep(MARKER_RETRY_BACKOFF_MS)
        if still_coordinator():
            self.ctx.journal.emit(TransactionMarkersWritten, broker_id=self.ctx.broker_id,
                                  transactional_id=transactional_id, producer_id=marker.producer_id,
                                  result="COMMIT" if marker.committed else "ABORT",
                                  partitions=tuple(str(tp) for tp in sorted(marker.partitions)))
            on_written()

    def _request(self, leader: int, marker: WritableTxnMarker) -> Future[Any]:
        future: Future[Any] = Future()
        self.ctx.network.request(self.ctx.node, f"broker-{leader}", WriteTxnMarkersRequest((marker,)),
                                 lambda response, error: future.set_result(error or response),
                                 self.ctx.config["request.timeout.ms"])
        return future
