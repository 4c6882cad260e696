"""What each action gives back: one frozen result type per action, typed end to end.

Front ends tell results apart by type, never by looking for a key (a produce and a
consume both return records, of different kinds). ``as_json`` gives each result as the
``--json`` report of ``kafkalab run`` documents it (README, "The JSON report").
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any

#: A network node as a step names it: a broker id or ``zk``.
Node = int | str


def _json(value: Any) -> Any:
    """A result's parts as JSON values: dataclasses as objects with every field, tuples as lists."""
    if isinstance(value, ProducedRecord):
        return value.as_json()
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: _json(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class CheckResult:
    """One expectation's outcome: what was expected, what was found, whether they agree."""

    check: str
    expected: dict[str, Any]
    actual: dict[str, Any]
    ok: bool

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "expected": self.expected, "actual": self.actual, "ok": self.ok}


@dataclass(frozen=True)
class ActionResult:
    """What one action did; subclasses add the fields their action reports."""

    def as_json(self) -> dict[str, Any]:
        """The result as the JSON report shows it."""
        return {item.name: _json(getattr(self, item.name)) for item in fields(self)}


# -- the cluster -----------------------------------------------------------------------


@dataclass(frozen=True)
class CreateTopicResult(ActionResult):
    """The topic created, as asked for."""

    topic: str
    partitions: int
    replication_factor: int
    #: Kafka's warning for a name with '.' or '_', which may collide with another in metric names.
    warning: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The documented fields, and ``warning`` only when there is one."""
        shown = super().as_json()
        if self.warning is None:
            del shown["warning"]
        return shown


@dataclass(frozen=True)
class DeleteTopicResult(ActionResult):
    """The topic deleted."""

    topic: str


@dataclass(frozen=True)
class AlterConfigResult(ActionResult):
    """The overrides set (as Kafka stores them: text) and removed."""

    topic: str
    set: dict[str, str]
    delete: tuple[str, ...]


@dataclass(frozen=True)
class PartitionDescription:
    """One partition as ``kafka-topics.sh --describe`` shows it, plus its offsets."""

    partition: int
    #: None while the partition is offline.
    leader: int | None
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader_epoch: int
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    #: Where read_committed consumers stop: the first offset of an open transaction, else the high watermark.
    last_stable_offset: int


@dataclass(frozen=True)
class DescribeTopicResult(ActionResult):
    """Each partition's leader, replicas, ISR, epoch and offsets."""

    topic: str
    partitions: tuple[PartitionDescription, ...]


@dataclass(frozen=True)
class BrokerResult(ActionResult):
    """The broker killed, restarted or shut down."""

    broker: int


@dataclass(frozen=True)
class LinkResult(ActionResult):
    """The link cut or healed, by its two nodes as the step named them (broker ids or ``zk``)."""

    between: tuple[Node, Node]


@dataclass(frozen=True)
class LatencyResult(ActionResult):
    """The link slowed and its new one-way latency."""

    between: tuple[Node, Node]
    ms: float


@dataclass(frozen=True)
class ElectLeadersResult(ActionResult):
    """Each partition's election outcome by Kafka's error name (``NONE`` when it moved or stayed)."""

    results: dict[str, str]


# -- producers -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProducedRecord:
    """Where one sent record landed (its partition and offset), or the error it failed with."""

    topic: str
    #: The partition it went to; for a failed record, the one asked for (None: the partitioner's choice).
    partition: int | None
    offset: int | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """``{"topic", "partition", "offset"}``, or ``error`` in place of ``offset``."""
        if self.error is not None:
            return {"topic": self.topic, "partition": self.partition, "error": self.error}
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}


@dataclass(frozen=True)
class ProduceResult(ActionResult):
    """Every record sent, in send order."""

    records: tuple[ProducedRecord, ...]

    @property
    def landed(self) -> tuple[ProducedRecord, ...]:
        """The records the leader acknowledged."""
        return tuple(record for record in self.records if record.error is None)


@dataclass(frozen=True)
class StartProducerResult(ActionResult):
    """The steady producer started."""

    id: str
    topic: str
    rate: float


@dataclass(frozen=True)
class StopProducerResult(ActionResult):
    """What the stopped steady producer sent, and how much of it was acknowledged or failed."""

    id: str
    sent: int
    acknowledged: int
    failed: int


# -- consumers -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsumerResult(ActionResult):
    """The consumer an action stopped, killed, paused or resumed."""

    group: str
    client_id: str


@dataclass(frozen=True)
class StartConsumerResult(ActionResult):
    """The consumer started and what it subscribed to."""

    group: str
    client_id: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class StartProcessorResult(ActionResult):
    """The stream processor started: its consumer, the topics it reads and writes, its transform."""

    group: str
    client_id: str
    source: str
    sink: str
    transform: str


@dataclass(frozen=True)
class ConsumedRecord:
    """One record a consumer returned; key and value as UTF-8 text."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: str | None


@dataclass(frozen=True)
class ConsumeResult(ActionResult):
    """The records collected, in the order the consumer returned them."""

    records: tuple[ConsumedRecord, ...]


@dataclass(frozen=True)
class CommitResult(ActionResult):
    """The consumer's committed offsets after the commit (None: nothing committed for that partition)."""

    group: str
    client_id: str
    committed: dict[str, int | None]


@dataclass(frozen=True)
class SeekResult(ActionResult):
    """The consumer's position in the partition after the seek."""

    topic: str
    partition: int
    position: int


@dataclass(frozen=True)
class AssignedPartition:
    """A partition in a member's assignment."""

    topic: str
    partition: int


@dataclass(frozen=True)
class GroupMemberDescription:
    """One member of a group and the partitions it was assigned."""

    client_id: str
    assignment: tuple[AssignedPartition, ...]


@dataclass(frozen=True)
class DescribeGroupResult(ActionResult):
    """A group's state, generation, chosen strategy and members."""

    group: str
    state: str
    generation: int
    strategy: str
    members: tuple[GroupMemberDescription, ...]


@dataclass(frozen=True)
class DescribeTransactionResult(ActionResult):
    """A transactional id at its coordinator, as ``kafka-transactions.sh describe`` shows it."""

    transactional_id: str
    state: str
    producer_id: int
    producer_epoch: int
    #: The partitions of the open (or ending) transaction.
    partitions: tuple[AssignedPartition, ...]
    timeout_ms: int


@dataclass(frozen=True)
class ProducerDescription:
    """One producer a partition knows, with ``kafka-transactions.sh describe-producers``' columns."""

    producer_id: int
    producer_epoch: int
    latest_coordinator_epoch: int
    last_sequence: int
    last_timestamp: int
    #: The first offset of its transaction open in the partition, or None.
    current_transaction_start_offset: int | None


@dataclass(frozen=True)
class DescribeProducersResult(ActionResult):
    """The producers a partition's leader knows (DescribeProducers, KIP-664)."""

    topic: str
    partition: int
    producers: tuple[ProducerDescription, ...]


# -- directing a session ---------------------------------------------------------------


@dataclass(frozen=True)
class WaitResult(ActionResult):
    """How much virtual time the wait took."""

    waited_ms: float


@dataclass(frozen=True)
class ExpectResult(ActionResult):
    """Every expectation's outcome; the step fails unless all hold."""

    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        """True when every expectation holds."""
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        """The expectations that did not hold."""
        return tuple(check for check in self.checks if not check.ok)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [check.as_dict() for check in self.checks]}


@dataclass(frozen=True)
class NoteResult(ActionResult):
    """The narration shown."""

    text: str


# -- KRaft's controller quorum -----------------------------------------------------------


@dataclass(frozen=True)
class ControllerResult(ActionResult):
    """The KRaft controller killed or restarted."""

    controller: int


@dataclass(frozen=True)
class QuorumReplica:
    """A replica of the metadata log as the quorum leader sees it: how far it has fetched and how far behind it is."""

    id: int
    log_end_offset: int
    lag: int


@dataclass(frozen=True)
class DescribeQuorumResult(ActionResult):
    """``kafka-metadata-quorum.sh describe --status --replication``: the leader, its epoch and everyone's progress."""

    leader_id: int
    leader_epoch: int
    high_watermark: int
    voters: tuple[QuorumReplica, ...]
    observers: tuple[QuorumReplica, ...]
