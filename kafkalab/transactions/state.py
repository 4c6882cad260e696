"""A transactional id's state at its coordinator (Kafka's ``TransactionMetadata`` and ``TransactionState``).

Every change is prepared as a :class:`TxnTransit`, written to ``__transaction_state``
and applied only once the write is replicated; meanwhile the id has a pending state and
other requests for it get CONCURRENT_TRANSACTIONS. The states and their numbers are
Kafka's (``TransactionMetadata.scala``), as stored in ``TransactionLogValue.TransactionStatus``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.types import TopicPartition

NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
#: ``Short.MaxValue - 1``: at this epoch the next InitProducerId gives the id a new producer id (``isEpochExhausted``).
MAX_EPOCH = 32_766


class TransactionState(Enum):
    """Kafka's transaction states with their ids, and the states each may follow."""

    EMPTY = (0, "Empty")
    ONGOING = (1, "Ongoing")
    PREPARE_COMMIT = (2, "PrepareCommit")
    PREPARE_ABORT = (3, "PrepareAbort")
    COMPLETE_COMMIT = (4, "CompleteCommit")
    COMPLETE_ABORT = (5, "CompleteAbort")
    DEAD = (6, "Dead")
    PREPARE_EPOCH_FENCE = (7, "PrepareEpochFence")

    @property
    def id(self) -> int:
        return self.value[0]

    @property
    def kafka_name(self) -> str:
        """As ``kafka-transactions.sh`` prints it."""
        return self.value[1]

    @classmethod
    def from_id(cls, state_id: int) -> TransactionState:
        for state in cls:
            if state.id == state_id:
                return state
        raise KafkaError(Errors.CORRUPT_MESSAGE, f"Unknown transaction status {state_id} in __transaction_state.")


S = TransactionState
#: ``validPreviousStates`` of each state.
VALID_PREVIOUS: dict[TransactionState, frozenset[TransactionState]] = {
    S.EMPTY: frozenset({S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT}),
    S.ONGOING: frozenset({S.ONGOING, S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT}),
    S.PREPARE_COMMIT: frozenset({S.ONGOING}),
    S.PREPARE_ABORT: frozenset({S.ONGOING, S.PREPARE_EPOCH_FENCE}),
    S.COMPLETE_COMMIT: frozenset({S.PREPARE_COMMIT}),
    S.COMPLETE_ABORT: frozenset({S.PREPARE_ABORT}),
    S.DEAD: frozenset({S.EMPTY, S.COMPLETE_ABORT, S.COMPLETE_COMMIT}),
    S.PREPARE_EPOCH_FENCE: frozenset({S.ONGOING}),
}


@dataclass(frozen=True)
class TxnTransit:
    """What a transactional id will be once its next ``__transaction_state`` record is written (``TxnTransitMetadata``)."""

    producer_id: int
    last_producer_id: int
    producer_epoch: int
    last_producer_epoch: int
    timeout_ms: int
    state: TransactionState
    partitions: frozenset[TopicPartition]
    start_ms: int
    last_update_ms: int


@dataclass
class TransactionMetadata:
    """One transactional id as its coordinator holds it."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: TransactionState
    last_update_ms: int
    last_producer_id: int = NO_PRODUCER_ID
    last_producer_epoch: int = NO_PRODUCER_EPOCH
    partitions: set[TopicPartition] = field(default_factory=set)
    start_ms: int = -1
    pending_state: TransactionState | None = None

    @property
    def pending(self) -> bool:
        """A write for this id is under way (``pendingTransitionInProgress``)."""
        return self.pending_state is not None

    def _transit(self, state: TransactionState, now: int, *, epoch: int | None = None, timeout_ms: int | None = None,
                 partitions: frozenset[TopicPartition] | None = None, start_ms: int | None = None,
                 last_epoch: int | None = None, producer_id: int | None = None) -> TxnTransit:
        """``prepareTransitionTo``: check the move is legal, mark it pending and describe the result; a new
        ``producer_id`` makes the current one the last one."""
        if self.state not in VALID_PREVIOUS[state]:
            raise KafkaError(Errors.INVALID_TXN_STATE, f"Transaction {self.transactional_id} cannot move from "
                                                       f"{self.state.kafka_name} to {state.kafka_name}.")
        self.pending_state = state
        new_id = self.producer_id if producer_id is None else producer_id
        return TxnTransit(new_id, self.producer_id if new_id != self.producer_id else self.last_producer_id,
                          self.producer_epoch if epoch is None else epoch,
                          self.last_producer_epoch if last_epoch is None else last_epoch,
                          self.timeout_ms if timeout_ms is None else timeout_ms, state,
                          frozenset(self.partitions) if partitions is None else partitions,
                          self.start_ms if start_ms is None else start_ms, now)

    @property
    def epoch_exhausted(self) -> bool:
        """``isProducerEpochExhausted``: no further epoch fits the batches' int16."""
        return self.producer_epoch >= MAX_EPOCH

    def prepare_producer_id_rotation(self, new_producer_id: int, timeout_ms: int, now: int,
                                     record_last_epoch: bool) -> TxnTransit:
        """``prepareProducerIdRotation``: the epoch is exhausted, so the id continues as a new producer id at
        epoch 0; a producer that asked with its own epoch (KIP-360) may retry with that as the last epoch."""
        return self._transit(S.EMPTY, now, producer_id=new_producer_id, epoch=0,
                             last_epoch=self.producer_epoch if record_last_epoch else NO_PRODUCER_EPOCH,
                             timeout_ms=timeout_ms, partitions=frozenset(), start_ms=-1)

    def prepare_increment_epoch(self, timeout_ms: int, now: int, expected_epoch: int | None = None) -> TxnTransit:
        """InitProducerId on a finished or new id (Kafka 3.9 ``TransactionMetadata.prepareIncrementProducerEpoch``).

        A new instance (no ``expected_epoch``) takes the next epoch, fencing every older one, and clears
        the last epoch. A producer carrying on after an error (KIP-360: it sends its id and epoch)
        gets the next epoch only if nobody was initialized since (its epoch is the current one); if its
        epoch is the last one, it is retrying a bump that succeeded and gets the current epoch again;
        otherwise it is a zombie: PRODUCER_FENCED.
        """
        if self.producer_epoch >= MAX_EPOCH:
            raise KafkaError(Errors.INVALID_PRODUCER_EPOCH, f"The epoch of producer {self.producer_id} is exhausted.")
        bumped = self.producer_epoch + 1
        if expected_epoch is None:
            epoch, last = bumped, NO_PRODUCER_EPOCH
        elif self.producer_epoch in (NO_PRODUCER_EPOCH, expected_epoch):
            epoch, last = bumped, self.producer_epoch
        elif expected_epoch == self.last_producer_epoch:
            epoch, last = self.producer_epoch, self.last_producer_epoch
        else:
            raise KafkaError(Errors.PRODUCER_FENCED, f"Expected producer epoch {expected_epoch} does not match the "
                                                     f"current epoch {self.producer_epoch} or the previous one "
                                                     f"{self.last_producer_epoch} of producer {self.producer_id}.")
        return self._transit(S.EMPTY, now, epoch=epoch, last_epoch=last, timeout_ms=timeout_ms,
                             partitions=frozenset(), start_ms=-1)

    def fence_epoch(self) -> int:
        """``prepareFenceProducerEpoch``: bump the epoch of an ongoing transaction before aborting it, so the
        producer that opened it can neither write nor commit any more. Applied at once, as Kafka's
        endTransaction does for a PrepareEpochFence."""
        if self.state is not S.ONGOING:
            raise KafkaError(Errors.INVALID_TXN_STATE, f"Only an ongoing transaction is fenced, not "
                                                       f"{self.state.kafka_name}.")
        if self.producer_epoch < MAX_EPOCH:
            self.producer_epoch += 1
        self.last_producer_epoch = NO_PRODUCER_EPOCH
        return self.producer_epoch

    def prepare_add_partitions(self, partitions: frozenset[TopicPartition], now: int) -> TxnTransit:
        start = now if self.state in (S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT) else self.start_ms
        return self._transit(S.ONGOING, now, partitions=frozenset(self.partitions | partitions), start_ms=start)

    def prepare_dead(self, now: int) -> TxnTransit:
        """``prepareDead``: an expired id is removed; its record becomes a tombstone."""
        return self._transit(S.DEAD, now, partitions=frozenset())

    def prepare_end(self, commit: bool, now: int) -> TxnTransit:
        return self._transit(S.PREPARE_COMMIT if commit else S.PREPARE_ABORT, now)

    def prepare_complete(self, now: int) -> TxnTransit:
        state = S.COMPLETE_COMMIT if self.state is S.PREPARE_COMMIT else S.COMPLETE_ABORT
        return self._transit(state, now, partitions=frozenset())

    def complete_transition(self, transit: TxnTransit) -> None:
        """The transit's record is replicated: the id is now as it says (``completeTransitionTo``)."""
        self.producer_id, self.last_producer_id = transit.producer_id, transit.last_producer_id
        self.producer_epoch, self.last_producer_epoch = transit.producer_epoch, transit.last_producer_epoch
        self.timeout_ms, self.state = transit.timeout_ms, transit.state
        self.partitions = set(transit.partitions)
        self.start_ms, self.last_update_ms = transit.start_ms, transit.last_update_ms
        self.pending_state = None
