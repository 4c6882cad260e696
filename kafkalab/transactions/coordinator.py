"""The transaction coordinator's request handlers on a broker (Kafka's ``TransactionCoordinator``).

Any broker answers FindCoordinator for a transactional id: the leader of the id's
``__transaction_state`` partition, creating that topic through the controller on first
use. The coordinator gives each transactional id one producer id and bumps its epoch
on every InitProducerId, which fences older instances (PRODUCER_FENCED); an open
transaction met there is aborted first with a bumped epoch (PrepareEpochFence).
AddPartitionsToTxn and AddOffsetsToTxn move it to Ongoing, EndTxn to PrepareCommit or
PrepareAbort, after which the markers go out and CompleteCommit or CompleteAbort
follows. A transaction open longer than its ``transaction.timeout.ms`` is aborted the same
way (``abortTimedOutTransactions``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.producer_ids import ProducerIdSource
from kafkalab.broker.replica_manager import ReplicaManager
from kafkalab.clients.java_strings import java_abs_hash
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.transactions import (
    TransactionCoordinatorLoaded,
    TransactionStateTopicCreationRequested,
    TransactionTimedOut,
)
from kafkalab.protocol.admin import CreatableTopic, CreateTopicsRequest
from kafkalab.protocol.groups import (
    FindCoordinatorRequest,
    FindCoordinatorResponse,
    InitProducerIdRequest,
    InitProducerIdResponse,
)
from kafkalab.protocol.transactions import (
    AddOffsetsToTxnRequest,
    AddOffsetsToTxnResponse,
    AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse,
    DescribeTransactionsRequest,
    DescribeTransactionsResponse,
    EndTxnRequest,
    EndTxnResponse,
    ListedTransaction,
    ListTransactionsRequest,
    ListTransactionsResponse,
    TransactionDescription,
    WritableTxnMarker,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future
from kafkalab.transactions.markers import MARKER_RETRY_BACKOFF_MS, MarkerSender
from kafkalab.transactions.state import MAX_EPOCH, NO_PRODUCER_EPOCH, TransactionMetadata, TransactionState
from kafkalab.transactions.store import TRANSACTION_STATE_TOPIC, TransactionStore, transaction_state_configs
from kafkalab.views import HostedTransaction

Responder = Callable[[Any], None]
S = TransactionState
#: Kafka's ``Topic.GROUP_METADATA_TOPIC_NAME``: AddOffsetsToTxn adds the group's partition of it.
_OFFSETS_TOPIC = "__consumer_offsets"


class TransactionCoordinator:
    """One broker's transaction coordinator; it owns the transactional ids of the partitions it leads."""

    def __init__(self, ctx: BrokerContext, replicas: ReplicaManager, producer_ids: ProducerIdSource) -> None:
        self.ctx = ctx
        self.producer_ids = producer_ids
        self.store = TransactionStore(ctx, replicas, self._on_loaded)
        self.markers = MarkerSender(ctx)
        self._creating_topic = False
        ctx.group.every(ctx.config["transaction.abort.timed.out.transaction.cleanup.interval.ms"],
                        self.abort_timed_out_transactions)
        ctx.group.every(ctx.config["transaction.remove.expired.transaction.cleanup.interval.ms"],
                        self.remove_expired_transactional_ids)

    def handlers(self) -> dict[type, Callable[[Any, Responder], None]]:
        """The broker's dispatch entries for the transaction APIs."""
        return {
            InitProducerIdRequest: self.init_producer_id,
            AddPartitionsToTxnRequest: self.add_partitions,
            AddOffsetsToTxnRequest: self.add_offsets,
            EndTxnRequest: self.end_txn,
            DescribeTransactionsRequest: self.describe_transactions,
            ListTransactionsRequest: self.list_transactions,
        }

    def on_partition_role(self, tp: TopicPartition, is_leader: bool, leader_epoch: int) -> None:
        """``onElection`` / ``onResignation`` for the ``__transaction_state`` partitions."""
        if tp.topic == TRANSACTION_STATE_TOPIC:
            self.store.on_role(tp.partition, is_leader, leader_epoch)

    # -- FindCoordinator -------------------------------------------------------------

    def find_coordinator(self, request: FindCoordinatorRequest, respond: Responder) -> None:
        """Name the leader of the id's ``__transaction_state`` partition, creating the topic if needed."""
        metadata = self.ctx.metadata
        if TRANSACTION_STATE_TOPIC not in metadata.partition_counts:
            self._create_topic(request.key)
            respond(FindCoordinatorResponse(Errors.COORDINATOR_NOT_AVAILABLE,
                                            message="__transaction_state is being created."))
            return
        leader = metadata.leader_of(TopicPartition(TRANSACTION_STATE_TOPIC, self.store.partition_for(request.key)))
        endpoint = metadata.brokers.get(leader)
        if endpoint is None:
            respond(FindCoordinatorResponse(Errors.COORDINATOR_NOT_AVAILABLE,
                                            message="The transactional id's __transaction_state partition has no leader."))
            return
        respond(FindCoordinatorResponse(Errors.NONE, leader, endpoint.host, endpoint.port))

    def _create_topic(self, transactional_id: str) -> None:
        controller = self.ctx.metadata.controller_node()
        if self._creating_topic or controller is None:
            return
        config = self.ctx.config
        partitions = config["transaction.state.log.num.partitions"]
        replication = config["transaction.state.log.replication.factor"]
        self._creating_topic = True
        topic = CreatableTopic(TRANSACTION_STATE_TOPIC, partitions, replication, transaction_state_configs(config))

        def done(response: Any, error: Errors | None) -> None:
            self._creating_topic = False
            if error is None and response.results[TRANSACTION_STATE_TOPIC].error == Errors.NONE:
                self.ctx.journal.emit(TransactionStateTopicCreationRequested, broker_id=self.ctx.broker_id,
                                      transactional_id=transactional_id, partitions=partitions,
                                      replication_factor=replication)

        self.ctx.network.request(self.ctx.node, controller, CreateTopicsRequest((topic,), internal_topics_allowed=True),
                                 done, config["request.timeout.ms"])

    # -- InitProducerId --------------------------------------------------------------------

    def init_producer_id(self, request: InitProducerIdRequest, respond: Responder) -> None:
        """``handleInitProducerId``: a fresh id for an idempotent producer, the next epoch for a transactional one."""
        transactional_id = request.transactional_id
        if transactional_id is None:
            self.producer_ids.handle_init_producer_id(request, respond)
            return
        if not transactional_id:
            respond(InitProducerIdResponse(Errors.INVALID_REQUEST))
            return
        timeout = request.transaction_timeout_ms
        if not 0 < timeout <= self.ctx.config["transaction.max.timeout.ms"]:
            respond(InitProducerIdResponse(Errors.INVALID_TRANSACTION_TIMEOUT))
            return
        error = self.store.status(transactional_id)
        if error is not None:
            respond(InitProducerIdResponse(error))
            return
        metadata = self.store.transactions.get(transactional_id)
        if metadata is None:
            def created(future: Future[int]) -> None:
                if future.error is not None:
                    respond(InitProducerIdResponse(Errors.COORDINATOR_NOT_AVAILABLE))
                    return
                if self.store.status(transactional_id) is None and transactional_id not in self.store.transactions:
                    self.store.transactions[transactional_id] = TransactionMetadata(
                        transactional_id, future.result(), NO_PRODUCER_EPOCH, timeout, S.EMPTY, int(self.ctx.now_ms))
                self.init_producer_id(request, respond)

            self.producer_ids.generate().add_done_callback(created)
            return
        self._init_existing(metadata, request, respond)

    def _init_existing(self, metadata: TransactionMetadata, request: InitProducerIdRequest, respond: Responder) -> None:
        if metadata.pending:
            respond(InitProducerIdResponse(Errors.CONCURRENT_TRANSACTIONS))
            return
        retried_rotation = request.producer_id == metadata.last_producer_id and request.producer_epoch >= MAX_EPOCH
        if request.producer_id >= 0 and metadata.producer_epoch != NO_PRODUCER_EPOCH \
                and request.producer_id != metadata.producer_id and not retried_rotation:
            respond(InitProducerIdResponse(Errors.PRODUCER_FENCED))  # ``isValidProducerId``
            return
        if metadata.state in (S.PREPARE_COMMIT, S.PREPARE_ABORT):
            respond(InitProducerIdResponse(Errors.CONCURRENT_TRANSACTIONS))
            return
        if metadata.state is S.ONGOING:
            # Abort the open transaction with a bumped epoch first; the producer retries and gets the next one.
            self._fence_and_abort(metadata, lambda error: respond(
                InitProducerIdResponse(error if error != Errors.NONE else Errors.CONCURRENT_TRANSACTIONS)))
            return
        expected = request.producer_epoch if request.producer_id >= 0 else None  # KIP-360: an epoch bump after an error
        if metadata.epoch_exhausted and expected in (None, metadata.producer_epoch):
            self._rotate_producer_id(metadata, request, respond, record_last_epoch=expected is not None)
            return
        try:
            transit = metadata.prepare_increment_epoch(request.transaction_timeout_ms, int(self.ctx.now_ms), expected)
        except KafkaError as exc:
            respond(InitProducerIdResponse(exc.error))
            return

        def written(error: Errors) -> None:
            respond(InitProducerIdResponse(error) if error != Errors.NONE
                    else InitProducerIdResponse(Errors.NONE, transit.producer_id, transit.producer_epoch))

        self.store.append(metadata, transit, written)

    def _rotate_producer_id(self, metadata: TransactionMetadata, request: InitProducerIdRequest, respond: Responder,
                            record_last_epoch: bool) -> None:
        """Kafka 3.9 ``prepareInitProducerIdTransit``: an id whose epoch is exhausted gets a new producer id at
        epoch 0 instead of an epoch that would overflow the batches' int16."""

        def generated(future: Future[int]) -> None:
            if future.error is not None:
                respond(InitProducerIdResponse(Errors.COORDINATOR_NOT_AVAILABLE))
                return
            if metadata.pending or self.store.transactions.get(metadata.transactional_id) is not metadata:
                respond(InitProducerIdResponse(Errors.CONCURRENT_TRANSACTIONS))  # changed meanwhile: ask again
                return
            transit = metadata.prepare_producer_id_rotation(future.result(), request.transaction_timeout_ms,
                                                            int(self.ctx.now_ms), record_last_epoch)
            self.store.append(metadata, transit, lambda error: respond(
                InitProducerIdResponse(error) if error != Errors.NONE
                else InitProducerIdResponse(Errors.NONE, transit.producer_id, transit.producer_epoch)))

        self.producer_ids.generate().add_done_callback(generated)

    # -- AddPartitionsToTxn / AddOffsetsToTxn ------------------------------------------------------

    def _check_producer(self, transactional_id: str, producer_id: int, producer_epoch: int
                        ) -> TransactionMetadata | Errors:
        """The id's metadata if the request comes from its current producer, else the error to answer."""
        if not transactional_id:
            return Errors.INVALID_REQUEST
        error = self.store.status(transactional_id)
        if error is not None:
            return error
        metadata = self.store.transactions.get(transactional_id)
        if metadata is None or metadata.producer_id != producer_id:
            return Errors.INVALID_PRODUCER_ID_MAPPING
        if metadata.producer_epoch != producer_epoch:
            return Errors.PRODUCER_FENCED
        return metadata

    def _add(self, transactional_id: str, producer_id: int, producer_epoch: int,
             partitions: frozenset[TopicPartition], on_done: Callable[[Errors], None]) -> None:
        """``handleAddPartitionsToTransaction``."""
        checked = self._check_producer(transactional_id, producer_id, producer_epoch)
        if isinstance(checked, Errors):
            on_done(checked)
        elif checked.pending or checked.state in (S.PREPARE_COMMIT, S.PREPARE_ABORT):
            on_done(Errors.CONCURRENT_TRANSACTIONS)
        elif checked.state is S.ONGOING and partitions <= checked.partitions:
            on_done(Errors.NONE)  # already in the transaction: nothing to write
        else:
            self.store.append(checked, checked.prepare_add_partitions(partitions, int(self.ctx.now_ms)), on_done)

    def add_partitions(self, request: AddPartitionsToTxnRequest, respond: Responder) -> None:
        if request.verify_only:
            respond(AddPartitionsToTxnResponse(self._verify(request)))
            return
        self._add(request.transactional_id, request.producer_id, request.producer_epoch, frozenset(request.partitions),
                  lambda error: respond(AddPartitionsToTxnResponse({tp: error for tp in request.partitions})))

    def _verify(self, request: AddPartitionsToTxnRequest) -> dict[TopicPartition, Errors]:
        """Kafka 3.9 ``handleVerifyPartitionsInTransaction``: is each partition in the producer's transaction?
        Nothing is written; a pending write is not waited for, since the leader checks again as it appends."""
        checked = self._check_producer(request.transactional_id, request.producer_id, request.producer_epoch)
        if not isinstance(checked, Errors) and checked.state in (S.PREPARE_COMMIT, S.PREPARE_ABORT):
            checked = Errors.CONCURRENT_TRANSACTIONS
        if isinstance(checked, Errors):
            return dict.fromkeys(request.partitions, checked)
        return {tp: Errors.NONE if tp in checked.partitions else Errors.TRANSACTION_ABORTABLE for tp in request.partitions}

    def add_offsets(self, request: AddOffsetsToTxnRequest, respond: Responder) -> None:
        """``handleAddOffsetsToTransaction``: the group's ``__consumer_offsets`` partition joins the transaction."""
        partition = java_abs_hash(request.group_id) % self.ctx.config["offsets.topic.num.partitions"]
        self._add(request.transactional_id, request.producer_id, request.producer_epoch,
                  frozenset({TopicPartition(_OFFSETS_TOPIC, partition)}),
                  lambda error: respond(AddOffsetsToTxnResponse(error)))

    # -- EndTxn ---------------------------------------------------------------------------

    def end_txn(self, request: EndTxnRequest, respond: Responder) -> None:
        checked = self._check_producer(request.transactional_id, request.producer_id, request.producer_epoch)
        if isinstance(checked, Errors):
            respond(EndTxnResponse(checked))
            return
        self._end(checked, request.committed, lambda error: respond(EndTxnResponse(error)))

    def _end(self, metadata: TransactionMetadata, commit: bool, on_done: Callable[[Errors], None]) -> None:
        """``endTransaction``: write PrepareCommit/PrepareAbort, answer, then send the markers."""
        if metadata.pending:
            on_done(Errors.CONCURRENT_TRANSACTIONS)
            return
        state = metadata.state
        if state is S.ONGOING:
            transit = metadata.prepare_end(commit, int(self.ctx.now_ms))

            def prepared(error: Errors) -> None:
                if error == Errors.NONE:
                    self._send_markers(metadata)
                on_done(error)

            self.store.append(metadata, transit, prepared)
        elif (state, commit) in ((S.COMPLETE_COMMIT, True), (S.COMPLETE_ABORT, False)):
            on_done(Errors.NONE)  # a retry of an end that already happened
        elif (state, commit) in ((S.PREPARE_COMMIT, True), (S.PREPARE_ABORT, False)):
            on_done(Errors.CONCURRENT_TRANSACTIONS)
        else:
            on_done(Errors.INVALID_TXN_STATE)

    def _send_markers(self, metadata: TransactionMetadata) -> None:
        """``addTxnMarkersToSend``: the outcome is decided; mark every partition, then complete."""
        transactional_id = metadata.transactional_id
        epoch = self.store.coordinator_epoch(transactional_id)
        complete = metadata.prepare_complete(int(self.ctx.now_ms))  # pending from now: CONCURRENT_TRANSACTIONS meanwhile
        marker = WritableTxnMarker(metadata.producer_id, metadata.producer_epoch, metadata.state is S.PREPARE_COMMIT,
                                   tuple(sorted(metadata.partitions)), epoch)

        def still_coordinator() -> bool:
            return (self.store.coordinator_epoch(transactional_id) == epoch
                    and self.store.transactions.get(transactional_id) is metadata)

        def write_complete() -> None:
            def written(error: Errors) -> None:
                # Kafka retries this write (``retryOnError``) while it still coordinates the id.
                if error != Errors.NONE and still_coordinator():
                    metadata.pending_state = complete.state
                    self.ctx.group.call_later(MARKER_RETRY_BACKOFF_MS, write_complete)

            self.store.append(metadata, complete, written)

        self.markers.send(transactional_id, marker, still_coordinator, write_complete)

    def _fence_and_abort(self, metadata: TransactionMetadata, on_done: Callable[[Errors], None]) -> None:
        """Bump the epoch of an open transaction and abort it (``prepareFenceProducerEpoch`` + endTransaction)."""
        metadata.fence_epoch()
        self._end(metadata, False, on_done)

    def abort_timed_out_transactions(self) -> None:
        """Abort transactions open longer than their timeout (``abortTimedOutTransactions``)."""
        now = self.ctx.now_ms
        for transactional_id, metadata in sorted(self.store.transactions.items()):
            if (metadata.state is S.ONGOING and not metadata.pending
                    and metadata.start_ms + metadata.timeout_ms < now
                    and self.store.status(transactional_id) is None):
                self.ctx.journal.emit(TransactionTimedOut, broker_id=self.ctx.broker_id,
                                      transactional_id=transactional_id, producer_id=metadata.producer_id,
                                      timeout_ms=metadata.timeout_ms)
                self._fence_and_abort(metadata, lambda error: None)

    def remove_expired_transactional_ids(self) -> None:
        """Remove ids whose last transaction ended ``transactional.id.expiration.ms`` ago: state Dead, written as a
        tombstone (Kafka 3.9 ``TransactionStateManager.removeExpiredTransactionalIds``)."""
        now = int(self.ctx.now_ms)
        expired_before = now - self.ctx.config["transactional.id.expiration.ms"]
        for transactional_id, metadata in sorted(self.store.transactions.items()):
            if (metadata.state in (S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT) and not metadata.pending
                    and metadata.last_update_ms <= expired_before and self.store.status(transactional_id) is None):
                self.store.append(metadata, metadata.prepare_dead(now), lambda error: None)

    # -- loading ----------------------------------------------------------------------------

    def _on_loaded(self, partition: int, coordinator_epoch: int, loaded: list[TransactionMetadata]) -> None:
        """Finish what the previous coordinator decided: markers for every PrepareCommit/PrepareAbort."""
        resumed = [m for m in loaded if m.state in (S.PREPARE_COMMIT, S.PREPARE_ABORT)]
        if loaded:
            self.ctx.journal.emit(TransactionCoordinatorLoaded, broker_id=self.ctx.broker_id, partition=partition,
                                  transactional_ids=tuple(m.transactional_id for m in loaded),
                                  resumed=tuple(m.transactional_id for m in resumed))
        for metadata in resumed:
            self._send_markers(metadata)

    # -- describe and list ------------------------------------------------------------------

    def describe_transactions(self, request: DescribeTransactionsRequest, respond: Responder) -> None:
        respond(DescribeTransactionsResponse(tuple(self._describe(t) for t in request.transactional_ids)))

    def _describe(self, transactional_id: str) -> TransactionDescription:
        error = self.store.status(transactional_id) if transactional_id else Errors.INVALID_REQUEST
        metadata = self.store.transactions.get(transactional_id) if error is None else None
        if error is not None or metadata is None:
            return TransactionDescription(error or Errors.TRANSACTIONAL_ID_NOT_FOUND, transactional_id)
        return TransactionDescription(Errors.NONE, transactional_id, metadata.state.kafka_name, metadata.producer_id,
                                      metadata.producer_epoch, metadata.timeout_ms, metadata.start_ms,
                                      tuple(sorted(metadata.partitions)))

    def list_transactions(self, request: ListTransactionsRequest, respond: Responder) -> None:
        error = Errors.COORDINATOR_LOAD_IN_PROGRESS if self.store.loading else Errors.NONE
        respond(ListTransactionsResponse(error, tuple(
            ListedTransaction(t, m.producer_id, m.state.kafka_name) for t, m in sorted(self.store.transactions.items())
            if self.store.partition_for(t) in self.store.owned)))

    def describe(self) -> tuple[HostedTransaction, ...]:
        """The transactional ids this broker coordinates, for the views."""
        return tuple(HostedTransaction(t, m.state.kafka_name, m.producer_id, m.producer_epoch, m.timeout_ms,
                                       m.start_ms if m.state is S.ONGOING else None, self.ctx.broker_id,
                                       self.store.partition_for(t), tuple(sorted(m.partitions)))
                     for t, m in sorted(self.store.transactions.items())
                     if self.store.partition_for(t) in self.store.owned and m.producer_epoch >= 0)

