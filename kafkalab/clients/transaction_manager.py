"""A transactional producer's side of KIP-98 (Kafka's ``TransactionManager``).

``init`` finds the transaction coordinator (FindCoordinator, key type 1) and asks it for
the producer id and the next epoch of ``transactional.id`` (InitProducerId), which fences
any older producer with the same id. Inside a transaction the sender adds each partition
to it (AddPartitionsToTxn) before its first batch goes out; ``send_offsets`` adds the
group's offsets partition (AddOffsetsToTxn) and commits the offsets to the group
coordinator (TxnOffsetCommit); ``end`` waits for every batch to settle and sends EndTxn.
A failed batch makes the transaction abortable only, and once aborted the producer bumps
its epoch (KIP-360) so its sequences start again; PRODUCER_FENCED and
INVALID_PRODUCER_EPOCH are fatal: a newer instance owns the transactional id.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol, TypeVar

from kafkalab.clients.client_config import ClientConfig
from kafkalab.clients.group_metadata import ConsumerGroupMetadata
from kafkalab.clients.network_client import ClientNode
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.journal import EventJournal
from kafkalab.events.transactions import ProducerFenced
from kafkalab.protocol.groups import (
    GROUP_KEY_TYPE,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
    InitProducerIdRequest,
    InitProducerIdResponse,
)
from kafkalab.protocol.transactions import (
    TRANSACTION_KEY_TYPE,
    AddOffsetsToTxnRequest,
    AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse,
    EndTxnRequest,
    EndTxnResponse,
    TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
)
from kafkalab.protocol.types import Request, TopicPartition
from kafkalab.sim.process import Process, Sleep, spawn

R = TypeVar("R")
#: Answers after which the request goes to a coordinator looked up again.
_FIND_AGAIN = frozenset({Errors.NOT_COORDINATOR, Errors.COORDINATOR_NOT_AVAILABLE, Errors.NETWORK_EXCEPTION,
                         Errors.REQUEST_TIMED_OUT, Errors.BROKER_NOT_AVAILABLE})
#: Answers after which the same request is sent again after retry.backoff.ms.
_RETRY = frozenset({Errors.COORDINATOR_LOAD_IN_PROGRESS, Errors.CONCURRENT_TRANSACTIONS,
                    Errors.UNKNOWN_TOPIC_OR_PARTITION})
#: TxnOffsetCommit answers meaning the group no longer has the member (Kafka 3.9 ``TxnOffsetCommitHandler``:
#: an abortable ``CommitFailedException``; FENCED_INSTANCE_ID stays itself there, also abortable).
_GROUP_MISMATCH = frozenset({Errors.UNKNOWN_MEMBER_ID, Errors.ILLEGAL_GENERATION})
#: Answers that mean a newer producer owns the transactional id.
FENCED = frozenset({Errors.PRODUCER_FENCED, Errors.INVALID_PRODUCER_EPOCH, Errors.INVALID_PRODUCER_ID_MAPPING})


class TxnState(Enum):
    """The client's transaction states (``TransactionManager.State``)."""

    UNINITIALIZED = "UNINITIALIZED"
    INITIALIZING = "INITIALIZING"
    READY = "READY"
    IN_TRANSACTION = "IN_TRANSACTION"
    COMMITTING_TRANSACTION = "COMMITTING_TRANSACTION"
    ABORTING_TRANSACTION = "ABORTING_TRANSACTION"
    ABORTABLE_ERROR = "ABORTABLE_ERROR"
    FATAL_ERROR = "FATAL_ERROR"


#: States in which batches of the transaction still go out (a commit first sends everything queued).
_SENDING = frozenset({TxnState.IN_TRANSACTION, TxnState.COMMITTING_TRANSACTION})


class ProducerIdHolder(Protocol):
    """What the transaction manager tells the sender: the producer id and epoch to stamp batches with."""

    def reset_producer_id(self, producer_id: int, producer_epoch: int) -> None: ...

    def abort_undrained(self, error: KafkaError) -> None: ...

    def wakeup(self) -> None: ...


def _error_of(response: Any) -> Errors:
    if isinstance(response, Errors):
        return response
    if isinstance(response, (AddPartitionsToTxnResponse, TxnOffsetCommitResponse)):
        return next((e for e in response.errors.values() if e != Errors.NONE), Errors.NONE)
    error: Errors = response.error
    return error


class TransactionManager:
    """The transaction state of one transactional producer."""

    def __init__(self, client: ClientNode, journal: EventJournal, config: ClientConfig, sender: ProducerIdHolder) -> None:
        self.client = client
        self.journal = journal
        self.config = config
        self.sender = sender
        self.transactional_id: str = config["transactional.id"]
        self.timeout_ms: int = config["transaction.timeout.ms"]
        self.state = TxnState.UNINITIALIZED
        self.producer_id = -1
        self.producer_epoch = -1
        #: Known coordinators by (key type, key): ours, and the groups' we commit offsets to.
        self._coordinators: dict[tuple[int, str], int] = {}
        #: Partitions the coordinator has added to the open transaction, and those being added.
        self.partitions: set[TopicPartition] = set()
        self._adding: set[TopicPartition] = set()
        self._add_requested: set[TopicPartition] = set()
        self._has_offsets = False
        self.error: KafkaError | None = None
        self.records = 0
        #: A batch of this transaction failed: after the abort, bump the epoch so sequences start again (KIP-360).
        self._epoch_bump_required = False

    # -- state ------------------------------------------------------------------------

    def _require(self, *states: TxnState, operation: str) -> None:
        if self.state is TxnState.FATAL_ERROR and self.error is not None:
            raise self.error
        if self.state not in states:
            raise KafkaError(Errors.ILLEGAL_STATE, f"Cannot {operation} while the transactional producer "
                                                   f"{self.transactional_id} is in state {self.state.value}.")

    def check_send(self) -> None:
        """``failIfNotReadyForSend``: records go out only inside a transaction."""
        if self.state is TxnState.ABORTABLE_ERROR and self.error is not None:
            raise self.error
        self._require(TxnState.IN_TRANSACTION, operation="send a record outside a transaction (begin one first)")

    def fence(self, error: Errors, message: str) -> None:
        """A newer producer owns the id: nothing but close is possible any more (``ProducerFencedException``)."""
        if self.state is TxnState.FATAL_ERROR:
            return
        self.state = TxnState.FATAL_ERROR
        self.error = KafkaError(Errors.PRODUCER_FENCED if error == Errors.INVALID_PRODUCER_EPOCH else error, message)
        self.journal.emit(ProducerFenced, client_id=self.client.node, transactional_id=self.transactional_id,
                          producer_id=self.producer_id, producer_epoch=self.producer_epoch, error=error.name)
        self.sender.abort_undrained(self.error)  # records waiting to be sent would wait forever

    def batch_failed(self, error: KafkaError) -> None:
        """A batch of the transaction failed: it can only be aborted now (``transitionToAbortableError``)."""
        if error.error in FENCED:
            self.fence(error.error, error.message)
        elif self._abortable(KafkaError(error.error, f"The transaction must be aborted: a batch failed "
                                                     f"({error.message}).")):
            # The partition's sequence may now have a gap the broker will never fill (Kafka 3.9
            # ``maybeTransitionToErrorState``; where Kafka instead renumbers the batches of a transaction
            # that was completing, kafkalab bumps the epoch then too).
            self._epoch_bump_required = True

    def _abortable(self, error: KafkaError) -> bool:
        """``transitionToAbortableError``: only an abort is possible now; False if the transaction was not open."""
        if self.state is not TxnState.IN_TRANSACTION and self.state is not TxnState.COMMITTING_TRANSACTION:
            return False
        self.state = TxnState.ABORTABLE_ERROR
        self.error = error
        return True

    # -- coordinator requests -----------------------------------------------------------------

    def _coordinator_request(self, request: Request[R], deadline_ms: float,
                             group_id: str | None = None) -> Process[Any]:
        """Send to the transaction coordinator (or ``group_id``'s) until it gives an answer that is not about
        where or when to ask."""
        key = (TRANSACTION_KEY_TYPE, self.transactional_id) if group_id is None else (GROUP_KEY_TYPE, group_id)
        while True:
            if self.client.now_ms >= deadline_ms:
                raise KafkaError(Errors.REQUEST_TIMED_OUT, f"The coordinator of {key[1]} did not answer within "
                                                           f"max.block.ms.")
            coordinator = self._coordinators.get(key)
            if coordinator is None:
                found = yield from self.client.send_to_any(FindCoordinatorRequest(key[1], key[0]))
                if isinstance(found, FindCoordinatorResponse) and found.error == Errors.NONE:
                    self._coordinators[key] = found.node_id
                else:
                    yield Sleep(self.config["retry.backoff.ms"])
                continue
            response = yield self.client.send(coordinator, request)
            error = _error_of(response)
            if error in _FIND_AGAIN:
                del self._coordinators[key]
            elif error not in _RETRY:
                return response
            yield Sleep(self.config["retry.backoff.ms"])

    def _deadline(self) -> float:
        return self.client.now_ms + self.config["max.block.ms"]

    # -- the operations ------------------------------------------------------------------------

    def initialize(self) -> Process[None]:
        """``initTransactions``: get the producer id and a new epoch, fencing older instances."""
        self._require(TxnState.UNINITIALIZED, operation="initialize transactions")
        self.state = TxnState.INITIALIZING
        try:
            yield from self._init_producer_id(InitProducerIdRequest(self.transactional_id, self.timeout_ms))
        except KafkaError:
            self.state = TxnState.UNINITIALIZED
            raise
        self.state = TxnState.READY

    def _init_producer_id(self, request: InitProducerIdRequest) -> Process[None]:
        response = yield from self._coordinator_request(request, self._deadline())
        assert isinstance(response, InitProducerIdResponse)
        if response.error != Errors.NONE:
            raise KafkaError(response.error, f"InitProducerId for {self.transactional_id} failed.")
        self.producer_id, self.producer_epoch = response.producer_id, response.producer_epoch
        self.sender.reset_producer_id(self.producer_id, self.producer_epoch)

    def _bump_epoch(self) -> Process[None]:
        """KIP-360: after aborting a transaction whose batch failed, ask for the next epoch with our own id and
        epoch, so every partition's sequence starts again at 0 (``initializeTransactions(producerIdAndEpoch)``).
        The coordinator refuses a producer a newer instance fenced meanwhile."""
        try:
            yield from self._init_producer_id(InitProducerIdRequest(
                self.transactional_id, self.timeout_ms, self.producer_id, self.producer_epoch))
        except KafkaError as exc:
            if exc.error in FENCED:
                self.fence(exc.error, exc.message)
                assert self.error is not None
                raise self.error from None
            self.state = TxnState.ABORTABLE_ERROR  # the abort stands; aborting again retries the bump
            self.error = exc
            raise
        self._epoch_bump_required = False

    def begin(self) -> None:
        self._require(TxnState.READY, operation="begin a transaction")
        self.state = TxnState.IN_TRANSACTION
        self.partitions.clear()
        self._add_requested.clear()
        self._has_offsets = False
        self.records = 0

    def ready_to_send(self, tp: TopicPartition) -> bool:
        """True once ``tp`` is in the transaction; otherwise asks the coordinator to add it (``maybeAddPartition``)."""
        if tp in self.partitions:
            return True
        if tp not in self._add_requested and self.state in _SENDING:
            self._add_requested.add(tp)
            self._adding.add(tp)
            if len(self._adding) == 1:
                self.client.group.call_soon(self._start_adding)
        return False

    def _start_adding(self) -> None:
        spawn(self.client.group, self._add_partitions(), name=f"AddPartitionsToTxn for {self.transactional_id}")

    def _add_partitions(self) -> Process[None]:
        """One AddPartitionsToTxn for every partition waiting (Kafka batches them the same way)."""
        while self._adding and self.state in _SENDING:
            adding = tuple(sorted(self._adding))
            try:
                response = yield from self._coordinator_request(
                    AddPartitionsToTxnRequest(self.transactional_id, self.producer_id, self.producer_epoch,
                                              adding), self._deadline())
            except KafkaError as exc:
                self.batch_failed(exc)
                break
            error = _error_of(response)
            if error in FENCED:
                self.fence(error, f"AddPartitionsToTxn answered {error.name}.")
            elif error != Errors.NONE:
                self.batch_failed(KafkaError(error, f"AddPartitionsToTxn answered {error.name}."))
            else:
                self.partitions.update(adding)
            self._adding.difference_update(adding)
        self._adding.clear()
        self.sender.wakeup()

    def send_offsets(self, offsets: dict[TopicPartition, int], group: ConsumerGroupMetadata) -> Process[None]:
        """``sendOffsetsToTransaction``: AddOffsetsToTxn to our coordinator, then TxnOffsetCommit to the group's,
        with the member's generation (KIP-447) so the group coordinator can refuse a zombie's offsets."""
        self._require(TxnState.IN_TRANSACTION, operation="send offsets to a transaction")
        group_id = group.group_id
        response = yield from self._coordinator_request(
            AddOffsetsToTxnRequest(self.transactional_id, self.producer_id, self.producer_epoch, group_id),
            self._deadline())
        self._check(_error_of(response), "AddOffsetsToTxn")
        self._has_offsets = True
        committed = yield from self._coordinator_request(TxnOffsetCommitRequest(
            self.transactional_id, group_id, self.producer_id, self.producer_epoch, dict(offsets),
            group.generation_id, group.member_id, self.client.node, group.group_instance_id),
            self._deadline(), group_id)
        error = _error_of(committed)
        if error in _GROUP_MISMATCH:
            # TxnOffsetCommitHandler: the group has moved on without this member; abortable, as CommitFailedException.
            failed = KafkaError(Errors.COMMIT_FAILED, f"Transaction offset commit of {group_id} failed due to "
                                                      f"consumer group metadata mismatch ({error.name}): the group "
                                                      f"has rebalanced without member {group.member_id!r} of "
                                                      f"generation {group.generation_id}.")
            self._abortable(failed)
            raise failed
        self._check(error, "TxnOffsetCommit")

    def _check(self, error: Errors, what: str) -> None:
        if error in FENCED:
            self.fence(error, f"{what} answered {error.name}.")
            assert self.error is not None
            raise self.error
        if error != Errors.NONE:
            self.batch_failed(KafkaError(error, f"{what} answered {error.name}."))
            raise KafkaError(error, f"{what} for {self.transactional_id} failed with {error.name}.")

    def end(self, commit: bool, settled: Callable[[], Process[None]]) -> Process[None]:
        """``commitTransaction`` / ``abortTransaction``: once every batch settled, EndTxn (if anything was added)."""
        if commit:
            self._require(TxnState.IN_TRANSACTION, operation="commit a transaction")
            self.state = TxnState.COMMITTING_TRANSACTION
        else:
            self._require(TxnState.IN_TRANSACTION, TxnState.ABORTABLE_ERROR, operation="abort a transaction")
            self.state = TxnState.ABORTING_TRANSACTION
        yield from settled()
        while self._adding:
            yield Sleep(self.config["retry.backoff.ms"])
        if self.state is TxnState.FATAL_ERROR and self.error is not None:
            raise self.error
        if commit and self.state is TxnState.ABORTABLE_ERROR:
            assert self.error is not None
            raise self.error
        if self.partitions or self._has_offsets:
            response = yield from self._coordinator_request(
                EndTxnRequest(self.transactional_id, self.producer_id, self.producer_epoch, commit),
                self._deadline())
            assert isinstance(response, EndTxnResponse)
            if response.error in FENCED:
                self.fence(response.error, f"EndTxn answered {response.error.name}.")
                assert self.error is not None
                raise self.error
            if response.error != Errors.NONE:
                self.state = TxnState.ABORTABLE_ERROR
                self.error = KafkaError(response.error, f"EndTxn for {self.transactional_id} failed.")
                raise self.error
        if not commit and self._epoch_bump_required:
            yield from self._bump_epoch()
        self.state = TxnState.READY
        self.error = None
