"""Transactional ids kept in ``__transaction_state`` (Kafka's ``TransactionStateManager``).

Which partition of ``__transaction_state`` a transactional id lives in decides which
broker coordinates it: the leader of that partition, whose leader epoch is the
coordinator epoch. Every state change is one record appended with ``acks=all`` (as
``TransactionLog.EnforcedRequiredAcks``) and applied only once replicated; a broker that
becomes leader replays the partition and answers COORDINATOR_LOAD_IN_PROGRESS meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.replica_manager import ReplicaManager
from kafkalab.clients.java_strings import java_abs_hash
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.transactions import TransactionStateChanged
from kafkalab.protocol.produce import ProduceRequest, ProduceResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.records import encode_batch
from kafkalab.storage.segment import CorruptSegmentError
from kafkalab.transactions import schema
from kafkalab.transactions.state import TransactionMetadata, TransactionState, TxnTransit

#: Kafka's ``Topic.TRANSACTION_STATE_TOPIC_NAME``.
TRANSACTION_STATE_TOPIC = "__transaction_state"
_LOAD_READ_BYTES = 5 * 1024 * 1024  # transaction.state.log.load.buffer.size

#: Produce errors of a ``__transaction_state`` write, as the coordinator answers them (``appendTransactionToLog``).
_APPEND_ERRORS = {
    Errors.UNKNOWN_TOPIC_OR_PARTITION: Errors.COORDINATOR_NOT_AVAILABLE,
    Errors.NOT_ENOUGH_REPLICAS: Errors.COORDINATOR_NOT_AVAILABLE,
    Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND: Errors.COORDINATOR_NOT_AVAILABLE,
    Errors.REQUEST_TIMED_OUT: Errors.COORDINATOR_NOT_AVAILABLE,
    Errors.NOT_LEADER_OR_FOLLOWER: Errors.NOT_COORDINATOR,
    Errors.KAFKA_STORAGE_ERROR: Errors.NOT_COORDINATOR,
    Errors.MESSAGE_TOO_LARGE: Errors.UNKNOWN_SERVER_ERROR,
    Errors.RECORD_LIST_TOO_LARGE: Errors.UNKNOWN_SERVER_ERROR,
}


def transaction_state_configs(config: Any) -> dict[str, str]:
    """The topic configs Kafka's ``TransactionStateManager.transactionTopicConfigs`` sets."""
    return {"cleanup.policy": "compact", "compression.type": "uncompressed", "unclean.leader.election.enable": "false",
            "min.insync.replicas": str(config["transaction.state.log.min.isr"]),
            "segment.bytes": str(config["transaction.state.log.segment.bytes"])}


class TransactionStore:
    """The transactional ids of the ``__transaction_state`` partitions this broker leads, and their persistence."""

    def __init__(self, ctx: BrokerContext, replicas: ReplicaManager,
                 on_loaded: Callable[[int, int, list[TransactionMetadata]], None]) -> None:
        self.ctx = ctx
        self.replicas = replicas
        self.partition_count: int = ctx.config["transaction.state.log.num.partitions"]
        self.transactions: dict[str, TransactionMetadata] = {}
        #: Partitions this broker leads and has loaded, with the coordinator epoch (its leader epoch).
        self.owned: dict[int, int] = {}
        self.loading: set[int] = set()
        self._on_loaded = on_loaded

    def partition_for(self, transactional_id: str) -> int:
        """``Utils.abs(transactionalId.hashCode) % transactionTopicPartitionCount``."""
        return java_abs_hash(transactional_id) % self.partition_count

    def status(self, transactional_id: str) -> Errors | None:
        """NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS unless this broker serves the id now."""
        partition = self.partition_for(transactional_id)
        if partition in self.loading:
            return Errors.COORDINATOR_LOAD_IN_PROGRESS
        if partition not in self.owned:
            return Errors.NOT_COORDINATOR
        return None

    def coordinator_epoch(self, transactional_id: str) -> int:
        return self.owned.get(self.partition_for(transactional_id), -1)

    # -- leadership ----------------------------------------------------------------

    def on_role(self, partition: int, is_leader: bool, leader_epoch: int) -> None:
        """Load a partition's transactional ids when we start leading it; forget them when we stop."""
        if is_leader:
            if partition in self.owned and self.owned[partition] == leader_epoch:
                return
            self._unload(partition)
            self.loading.add(partition)
            self.ctx.group.call_soon(self._load, partition, leader_epoch)
        else:
            self._unload(partition)

    def _unload(self, partition: int) -> None:
        self.loading.discard(partition)
        self.owned.pop(partition, None)
        for transactional_id in [t for t in self.transactions if self.partition_for(t) == partition]:
            del self.transactions[transactional_id]

    def _load(self, partition: int, leader_epoch: int) -> None:
        if partition not in self.loading:
            return  # resigned before the load ran
        hosted = self.replicas.partitions.get(TopicPartition(TRANSACTION_STATE_TOPIC, partition))
        loaded: dict[str, TransactionMetadata] = {}
        if hosted is not None:
            position = hosted.log.log_start_offset
            try:
                for header, records in hosted.log.replay(_LOAD_READ_BYTES):
                    for record in records:
                        if record.key is None:
                            continue
                        transactional_id = schema.decode_key(record.key)
                        if record.value is None:
                            loaded.pop(transactional_id, None)
                        else:
                            loaded[transactional_id] = schema.decode_value(transactional_id, record.value)
                    position = header.next_offset
            except KafkaError as exc:
                # Kafka logs the error and serves what it read, as the group coordinator does; damage is narrated.
                if isinstance(exc, CorruptSegmentError):
                    self.replicas.report_corruption(TopicPartition(TRANSACTION_STATE_TOPIC, partition), exc, position)
        self.loading.discard(partition)
        self.owned[partition] = leader_epoch
        self.transactions.update(loaded)
        self._on_loaded(partition, leader_epoch, [loaded[t] for t in sorted(loaded)])

    # -- writes ----------------------------------------------------------------------

    def append(self, metadata: TransactionMetadata, transit: TxnTransit, on_done: Callable[[Errors], None]) -> None:
        """Write ``transit`` for ``metadata``'s id; once replicated, apply it and call ``on_done(NONE)``."""
        transactional_id = metadata.transactional_id
        partition = self.partition_for(transactional_id)
        epoch = self.owned.get(partition)
        tp = TopicPartition(TRANSACTION_STATE_TOPIC, partition)
        # Dead: a tombstone, so the id stays gone after a reload (``writeTombstonesForExpiredTransactionalIds``).
        value = None if transit.state is TransactionState.DEAD else schema.value_bytes(transit)
        batch = encode_batch([(schema.key_bytes(transactional_id), value, (), int(self.ctx.now_ms))])

        def written(response: Any) -> None:
            error = response.partitions[tp].error if isinstance(response, ProduceResponse) else Errors.UNKNOWN_SERVER_ERROR
            error = _APPEND_ERRORS.get(error, error)
            if error == Errors.NONE and (self.owned.get(partition) != epoch
                                         or self.transactions.get(transactional_id) is not metadata):
                error = Errors.NOT_COORDINATOR  # we resigned while the write was replicated
            if error != Errors.NONE:
                metadata.pending_state = None
                on_done(error)
                return
            old = metadata.state
            metadata.complete_transition(transit)
            self.ctx.journal.emit(TransactionStateChanged, broker_id=self.ctx.broker_id,
                                  transactional_id=transactional_id, producer_id=transit.producer_id,
                                  producer_epoch=transit.producer_epoch, old_state=old.kafka_name,
                                  new_state=transit.state.kafka_name,
                                  partitions=tuple(str(p) for p in sorted(transit.partitions)))
            if transit.state is TransactionState.DEAD:
                del self.transactions[transactional_id]
            on_done(Errors.NONE)

        self.replicas.handle_produce(ProduceRequest(-1, self.ctx.config["request.timeout.ms"], {tp: batch},
                                                    client_id="transaction-coordinator"),
                                     written, internal_topics_allowed=True)
