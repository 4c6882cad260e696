"""Events of transactions (KIP-98): the coordinator's state changes, markers, timeouts and fencing."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.journal import Event


def _names(partitions: tuple[str, ...]) -> str:
    return ", ".join(partitions) if partitions else "no partitions"


@dataclass(frozen=True)
class TransactionStateChanged(Event):
    """A transaction coordinator wrote a transactional id's new state to __transaction_state
    (replicated with acks=all) and applied it: Empty after InitProducerId, Ongoing once the
    producer added partitions, PrepareCommit/PrepareAbort when it asked to end the transaction
    (from then on the outcome is decided), CompleteCommit/CompleteAbort once every partition
    has its marker."""

    kind = "transaction"
    broker_id: int
    transactional_id: str
    producer_id: int
    producer_epoch: int
    old_state: str
    new_state: str
    partitions: tuple[str, ...]

    def describe(self) -> str:
        return (f"Transaction {self.transactional_id} (producer {self.producer_id}, epoch {self.producer_epoch}) "
                f"{self.old_state} -> {self.new_state} on coordinator {self.broker_id} ({_names(self.partitions)}).")


@dataclass(frozen=True)
class TransactionMarkersWritten(Event):
    """The coordinator's WriteTxnMarkers reached every partition of the transaction: each leader
    appended a COMMIT or ABORT control record. A read_committed consumer now reads past the
    transaction's records (the last stable offset moved), skipping them if it was aborted."""

    kind = "transaction"
    broker_id: int
    transactional_id: str
    producer_id: int
    result: str
    partitions: tuple[str, ...]

    def describe(self) -> str:
        return (f"Coordinator {self.broker_id} wrote {self.result} markers for transaction {self.transactional_id} "
                f"in {_names(self.partitions)}.")


@dataclass(frozen=True)
class TransactionTimedOut(Event):
    """A transaction stayed open longer than its transaction.timeout.ms: the coordinator bumps the
    producer's epoch (so the producer that opened it is fenced) and aborts it, releasing the last
    stable offset of its partitions."""

    kind = "transaction"
    broker_id: int
    transactional_id: str
    producer_id: int
    timeout_ms: int

    def describe(self) -> str:
        return (f"Transaction {self.transactional_id} was open longer than {self.timeout_ms} ms: "
                f"coordinator {self.broker_id} aborts it and fences producer {self.producer_id}.")


@dataclass(frozen=True)
class TransactionCoordinatorLoaded(Event):
    """A broker became leader of a __transaction_state partition and replayed it: it now coordinates
    those transactional ids, and finishes any commit or abort its predecessor had decided but not
    completed by sending the markers again."""

    kind = "transaction"
    broker_id: int
    partition: int
    transactional_ids: tuple[str, ...]
    resumed: tuple[str, ...]

    def describe(self) -> str:
        resumed = f"; finishes {', '.join(self.resumed)}" if self.resumed else ""
        return (f"Broker {self.broker_id} loaded __transaction_state-{self.partition}: "
                f"{len(self.transactional_ids)} transactional id(s){resumed}.")


@dataclass(frozen=True)
class TransactionStateTopicCreationRequested(Event):
    """The first transactional producer looked for its coordinator, so a broker asked the controller to
    create __transaction_state (transaction.state.log.num.partitions partitions, compacted)."""

    kind = "transaction"
    broker_id: int
    transactional_id: str
    partitions: int
    replication_factor: int

    def describe(self) -> str:
        return (f"Broker {self.broker_id} asks for __transaction_state ({self.partitions} partitions, replication "
                f"factor {self.replication_factor}) for transactional id {self.transactional_id}.")


@dataclass(frozen=True)
class ProducerFenced(Event):
    """A transactional producer learned that a newer instance with the same transactional.id (or the
    coordinator, after a timeout) bumped its epoch: it can never write again (PRODUCER_FENCED, or
    INVALID_PRODUCER_EPOCH from a partition leader). This is how Kafka stops zombie producers."""

    kind = "produce"
    client_id: str
    transactional_id: str
    producer_id: int
    producer_epoch: int
    error: str

    def describe(self) -> str:
        return (f"Producer {self.client_id} ({self.transactional_id}, epoch {self.producer_epoch}) is fenced: "
                f"{self.error}.")


@dataclass(frozen=True)
class TransactionEnded(Event):
    """A transactional producer's commit or abort returned: the coordinator has written PrepareCommit or
    PrepareAbort, so the outcome is decided even if the coordinator fails now."""

    kind = "produce"
    client_id: str
    transactional_id: str
    producer_id: int
    committed: bool
    records: int

    def describe(self) -> str:
        verb = "committed" if self.committed else "aborted"
        return f"Producer {self.client_id} {verb} its transaction {self.transactional_id} ({self.records} record(s))."
