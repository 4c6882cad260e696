"""A partition leader asking the transaction coordinator before a producer's first transactional batch (KIP-890 part 1).

Without it a transactional batch that arrives late (a retry stuck in the network while the
coordinator timed the transaction out and wrote its ABORT marker) starts a transaction the
coordinator knows nothing of: it hangs, holding the last stable offset back for good. With
``transaction.partition.verification.enable`` (Kafka 3.9's default, true) the leader sends
AddPartitionsToTxn v4 with ``verifyOnly`` to the producer's coordinator; only a partition the
coordinator has in that producer's ongoing transaction may take the batch (Kafka 3.9
``AddPartitionsToTxnManager``, ``ReplicaManager.handleProduceAppend``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.clients.java_strings import java_abs_hash
from kafkalab.errors import Errors
from kafkalab.protocol.transactions import AddPartitionsToTxnRequest, AddPartitionsToTxnResponse
from kafkalab.protocol.types import TopicPartition

#: Kafka's ``Topic.TRANSACTION_STATE_TOPIC_NAME``.
TRANSACTION_STATE_TOPIC = "__transaction_state"
#: Coordinator answers older producers would not retry: the leader answers NOT_ENOUGH_REPLICAS instead, which they
#: retry without refreshing metadata (``handleProduceAppend``'s ``postVerificationCallback``).
_RETRY_AS_NOT_ENOUGH_REPLICAS = frozenset({Errors.CONCURRENT_TRANSACTIONS, Errors.NETWORK_EXCEPTION,
                                           Errors.COORDINATOR_LOAD_IN_PROGRESS, Errors.COORDINATOR_NOT_AVAILABLE,
                                           Errors.NOT_COORDINATOR, Errors.REQUEST_TIMED_OUT})
#: Called with the errors of the partitions that could not be verified (none: all verified).
Verified = Callable[[dict[TopicPartition, tuple[Errors, str]]], None]


def _producer_error(error: Errors, abortable_errors: bool = False) -> tuple[Errors, str]:
    """What the producer is told for a partition the coordinator did not confirm, and why."""
    if error == Errors.TRANSACTION_ABORTABLE:
        # AddPartitionsToTxnManager passes TRANSACTION_ABORTABLE on to Produce v11+ clients and answers older ones
        # (kafkalab's own producer among them) INVALID_TXN_STATE (KafkaApis: apiVersion > 10 is genericError).
        return (error if abortable_errors else Errors.INVALID_TXN_STATE), "Partition was not added to the transaction."
    if error == Errors.PRODUCER_FENCED:
        return Errors.INVALID_PRODUCER_EPOCH, "The transaction coordinator has a newer epoch of this producer."
    if error in _RETRY_AS_NOT_ENOUGH_REPLICAS:
        return Errors.NOT_ENOUGH_REPLICAS, (f"Unable to verify the partition has been added to the transaction. "
                                            f"Underlying error: {error.name}")
    return error, f"Verifying the partition with the transaction coordinator failed: {error.name}."


class TxnVerifier:
    """Sends this leader's verification requests to the transaction coordinators."""

    def __init__(self, ctx: BrokerContext) -> None:
        self.ctx = ctx

    def _coordinator(self, transactional_id: str) -> int:
        """The leader of the id's ``__transaction_state`` partition, as this broker's metadata has it, or -1."""
        count = self.ctx.metadata.partition_counts.get(TRANSACTION_STATE_TOPIC)
        if not count:
            return -1
        return self.ctx.metadata.leader_of(TopicPartition(TRANSACTION_STATE_TOPIC, java_abs_hash(transactional_id) % count))

    def verify(self, transactional_id: str, producer_id: int, producer_epoch: int,
               partitions: tuple[TopicPartition, ...], on_done: Verified, abortable_errors: bool = False) -> None:
        """Ask the coordinator whether ``partitions`` are in the producer's transaction (``verifyTransaction``)."""
        coordinator = self._coordinator(transactional_id)
        if coordinator < 0:
            on_done(dict.fromkeys(partitions, _producer_error(Errors.COORDINATOR_NOT_AVAILABLE)))
            return

        def answered(response: Any, error: Errors | None) -> None:
            if not isinstance(response, AddPartitionsToTxnResponse):
                on_done(dict.fromkeys(partitions, _producer_error(Errors.NETWORK_EXCEPTION)))
                return
            on_done({tp: _producer_error(result, abortable_errors) for tp in partitions
                     if (result := response.errors.get(tp, Errors.UNKNOWN_SERVER_ERROR)) != Errors.NONE})

        request = AddPartitionsToTxnRequest(transactional_id, producer_id, producer_epoch, partitions, verify_only=True)
        self.ctx.network.request(self.ctx.node, f"broker-{coordinator}", request, answered,
                                 self.ctx.config["request.timeout.ms"])
