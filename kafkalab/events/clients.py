"""Events of producers and consumers, and of the broker-side bookkeeping that serves them."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.journal import Event


def _names(partitions: tuple[str, ...]) -> str:
    return ", ".join(partitions) if partitions else "nothing"


# -- producers -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProducerIdBlockClaimed(Event):
    """A broker reserved the next block of producer ids in ZooKeeper's /latest_producer_id_block
    (a conditional write, so two brokers never get the same block) and hands them out one per
    idempotent producer."""

    kind = "produce"
    broker_id: int
    block_start: int
    block_end: int

    def describe(self) -> str:
        return f"Broker {self.broker_id} claimed producer ids {self.block_start}-{self.block_end} in /latest_producer_id_block."


@dataclass(frozen=True)
class ProducerIdAssigned(Event):
    """An idempotent producer (enable.idempotence=true) got a producer id and epoch with
    InitProducerId. Every batch it sends carries them plus a sequence number per partition, so
    brokers can recognise a retried batch they already wrote."""

    kind = "produce"
    client_id: str
    producer_id: int
    producer_epoch: int

    def describe(self) -> str:
        return f"Producer {self.client_id} got producer id {self.producer_id} (epoch {self.producer_epoch})."


@dataclass(frozen=True)
class ProduceRetried(Event):
    """A batch failed with a retriable error (the leader moved, the request timed out, a
    connection broke) and goes back to the front of its partition's queue; the producer refreshes
    metadata and sends it again after retry.backoff.ms, until delivery.timeout.ms runs out.
    Without idempotence a retry of a batch that was in fact written duplicates it. Said once
    when a batch starts retrying and again only when the error changes."""

    kind = "produce"
    client_id: str
    topic: str
    partition: int
    records: int
    attempt: int
    error: str

    def describe(self) -> str:
        return (f"Producer {self.client_id} retries a batch of {self.records} record(s) for "
                f"{self.topic}-{self.partition} (attempt {self.attempt}) after {self.error}.")


@dataclass(frozen=True)
class ProduceRetriesEnded(Event):
    """A batch that had to be retried was finally written: every record in it is acknowledged
    at the offsets below. With idempotence, a retry of an already-written batch is answered
    with its original offsets instead of being written twice."""

    kind = "produce"
    client_id: str
    topic: str
    partition: int
    records: int
    attempts: int
    base_offset: int

    def describe(self) -> str:
        where = f" at offset {self.base_offset}" if self.base_offset >= 0 else ""
        return (f"Producer {self.client_id} delivered {self.records} record(s) to {self.topic}-{self.partition}"
                f"{where} after {self.attempts:,} attempts.")


@dataclass(frozen=True)
class ProduceFailed(Event):
    """A batch could not be delivered: a non-retriable error, retries exhausted, or
    delivery.timeout.ms passed. Every send() future in it fails with the error."""

    kind = "produce"
    client_id: str
    topic: str
    partition: int
    records: int
    error: str
    reason: str

    def describe(self) -> str:
        return (f"Producer {self.client_id} gave up on {self.records} record(s) for {self.topic}-{self.partition}: "
                f"{self.error} ({self.reason}).")


@dataclass(frozen=True)
class DuplicateBatchIgnored(Event):
    """The leader received a batch whose producer id, epoch and sequence numbers match one of
    the last five it wrote for that producer: a retry after a lost acknowledgement. It appends
    nothing and answers with the original offset, so the record exists exactly once (KIP-98)."""

    kind = "produce"
    broker_id: int
    topic: str
    partition: int
    producer_id: int
    first_sequence: int
    last_sequence: int
    base_offset: int

    def describe(self) -> str:
        return (f"Broker {self.broker_id} recognised a retried batch of producer {self.producer_id} "
                f"(sequences {self.first_sequence}-{self.last_sequence}) on {self.topic}-{self.partition} and "
                f"returned its original offset {self.base_offset} instead of writing it twice.")


# -- consumers -----------------------------------------------------------------------


@dataclass(frozen=True)
class CoordinatorDiscovered(Event):
    """The consumer asked a broker (FindCoordinator) which broker coordinates its group: the
    leader of the group's __consumer_offsets partition, abs(hashCode(group.id)) % 50."""

    kind = "consumer"
    client_id: str
    group_id: str
    broker_id: int

    def describe(self) -> str:
        return f"Consumer {self.client_id} found the coordinator of group {self.group_id}: broker {self.broker_id}."


@dataclass(frozen=True)
class CoordinatorLost(Event):
    """The consumer stopped trusting its coordinator (it answered NOT_COORDINATOR, was unreachable,
    or heartbeats went unanswered for session.timeout.ms) and will look it up again."""

    kind = "consumer"
    client_id: str
    group_id: str
    broker_id: int
    reason: str

    def describe(self) -> str:
        return f"Consumer {self.client_id} lost coordinator broker {self.broker_id} of group {self.group_id}: {self.reason}."


@dataclass(frozen=True)
class PartitionsRevoked(Event):
    """Before a rebalance completes, the consumer gives partitions up (onPartitionsRevoked), after
    committing what it processed. The eager protocol revokes everything before rejoining; the
    cooperative protocol (KIP-429) revokes only the partitions that move, then rejoins once more."""

    kind = "consumer"
    client_id: str
    group_id: str
    generation: int
    protocol: str
    partitions: tuple[str, ...]

    def describe(self) -> str:
        return (f"Consumer {self.client_id} revoked {_names(self.partitions)} ({self.protocol} rebalance, "
                f"generation {self.generation}).")


@dataclass(frozen=True)
class PartitionsAssigned(Event):
    """The consumer received its assignment for the new generation (onPartitionsAssigned). It
    starts each new partition at the group's committed offset, or per auto.offset.reset."""

    kind = "consumer"
    client_id: str
    group_id: str
    generation: int
    added: tuple[str, ...]
    owned: tuple[str, ...]

    def describe(self) -> str:
        return (f"Consumer {self.client_id} now owns {_names(self.owned)} in generation {self.generation} "
                f"(newly assigned: {_names(self.added)}).")


@dataclass(frozen=True)
class PartitionsLost(Event):
    """The consumer learned it is no longer a member (its session expired, or its generation is
    stale), so its partitions already belong to others: it cannot commit them (onPartitionsLost)."""

    kind = "consumer"
    client_id: str
    group_id: str
    partitions: tuple[str, ...]
    reason: str

    def describe(self) -> str:
        return f"Consumer {self.client_id} lost {_names(self.partitions)}: {self.reason}."


@dataclass(frozen=True)
class PollIntervalExceeded(Event):
    """The application did not call poll() within max.poll.interval.ms, so the consumer's heartbeat
    thread assumes it is stuck and leaves the group (a static member just stops heartbeating);
    its partitions are reassigned to members that make progress."""

    kind = "consumer"
    client_id: str
    group_id: str
    max_poll_interval_ms: int

    def describe(self) -> str:
        return (f"Consumer {self.client_id} did not poll within max.poll.interval.ms={self.max_poll_interval_ms} "
                f"and leaves group {self.group_id}.")


@dataclass(frozen=True)
class PollFailed(Event):
    """The consumer's poll() raised instead of returning records, and the application's poll
    loop reports it and polls again. Kafka's consumer does this for CORRUPT_MESSAGE (a fetched
    batch failed its CRC32C check, check.crcs, or the broker could not read an intact batch
    there): its position stays at the damaged offset, so every poll fails the same way until
    the application seeks past it. The records there are never handed to the application."""

    kind = "consumer"
    client_id: str
    group_id: str
    error: str
    reason: str

    def describe(self) -> str:
        return f"Consumer {self.client_id}'s poll() failed with {self.error}: {self.reason}"


@dataclass(frozen=True)
class AutoCommitFailed(Event):
    """A consumer's automatic commit (enable.auto.commit) failed, for instance because the
    coordinator moved or the group rebalanced meanwhile. Kafka's consumer logs it and tries
    again at the next auto.commit.interval.ms with the positions it has then; records
    consumed since the last successful commit are read again if the consumer dies first."""

    kind = "consumer"
    client_id: str
    group_id: str
    error: str
    reason: str

    def describe(self) -> str:
        return (f"Consumer {self.client_id}'s automatic offset commit for group {self.group_id} failed with "
                f"{self.error}: {self.reason} It commits again at the next interval.")


@dataclass(frozen=True)
class OffsetReset(Event):
    """The consumer had no valid position for a partition (no committed offset, or the committed
    one was out of range, e.g. deleted by retention), so auto.offset.reset chose where to start:
    earliest is the log start offset, latest the high watermark. An explicit seek_to_beginning()
    or seek_to_end() is looked up the same way and reported by this event too."""

    kind = "consumer"
    client_id: str
    topic: str
    partition: int
    offset: int
    strategy: str
    reason: str

    def describe(self) -> str:
        where = f"Consumer {self.client_id} starts {self.topic}-{self.partition} at offset {self.offset}"
        if self.reason.startswith("seek_to_"):
            # An explicit seek_to_beginning()/seek_to_end() is resolved by the same offset lookup
            # (ListOffsets) as auto.offset.reset, but the user asked for it.
            target = "log start offset" if self.strategy == "earliest" else "high watermark"
            return f"{where}, the {target}, as {self.reason} asked."
        return f"{where} (auto.offset.reset={self.strategy}: {self.reason})."


# -- stream processors ---------------------------------------------------------------


@dataclass(frozen=True)
class ProcessorMigrated(Event):
    """The group coordinator refused a stream processor's commit: the group moved on without it (a rebalance
    it has not heard of yet). As a Kafka Streams thread does on ``TaskMigratedException`` (``handleLostAll``),
    it drops its tasks without committing, aborts its open transaction under exactly_once_v2, rejoins, and
    goes on with what it is assigned then."""

    kind = "consumer"
    client_id: str
    group_id: str
    error: str
    exactly_once: bool

    def describe(self) -> str:
        if self.exactly_once:
            then = "aborts its transaction (read_committed readers never see those outputs) and rejoins"
        else:
            then = ("rejoins; the outputs it sent stay, and the partitions' next owner processes that input again "
                    "(at least once: duplicates)")
        return (f"Processor {self.client_id} of group {self.group_id} could not commit ({self.error}): the group "
                f"moved on without it. It drops its tasks uncommitted, {then}.")


@dataclass(frozen=True)
class ProcessorFailed(Event):
    """A stream processor's output could not be written for good, so, as a Kafka Streams thread
    does, it stops without committing the input it had read: whoever takes its partitions over
    reads that input again (at least once)."""

    kind = "consumer"
    client_id: str
    group_id: str
    sink: str
    failed: int
    error: str

    def describe(self) -> str:
        return (f"Processor {self.client_id} of group {self.group_id} stops: {self.failed} output record(s) to "
                f"{self.sink} failed ({self.error}); it commits nothing, so that input will be processed again.")
