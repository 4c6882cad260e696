"""Expectations about the cluster, shared by ``expect``, ``wait: {until: ...}`` and lesson goals.

Each check is a frozen dataclass whose set fields must all match what the cluster shows
now. ``evaluate`` returns, per check, what was expected, what was found and whether they
agree, so a failed scenario says exactly what differed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from kafkalab.actions.base import doc
from kafkalab.actions.results import CheckResult
from kafkalab.cluster.inspect import Inspector
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.journal import Event
from kafkalab.views import ClusterView

if TYPE_CHECKING:
    from kafkalab.session.session import Session

#: ``records`` reads a replica from offset 0 to its end: this many records at most.
_WHOLE_LOG = 2**62
#: Matching offsets a ``records`` result lists, at most.
_OFFSETS_SHOWN = 20


def _given(check: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields a check sets (None means "not checked")."""
    return {f.name: getattr(check, f.name) for f in fields(check)
            if getattr(check, f.name) is not None and f.name not in skip}


def _normalize(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_normalize(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _normalize(v) for k, v in value.items()}
    return value


def _compare(name: str, expected: dict[str, Any], actual: dict[str, Any]) -> CheckResult:
    expected = _normalize(expected)
    actual = _normalize(actual)
    ok = all(actual.get(key) == value for key, value in expected.items())
    return CheckResult(name, expected, actual, ok)


@dataclass(frozen=True)
class PartitionCheck:
    """A partition's leader, ISR and offsets."""

    topic: str = doc("Topic.")
    partition: int = doc("Partition number.", minimum=0)
    leader: int | None = doc("Expected leader broker (-1 for offline).", None)
    isr: tuple[int, ...] | None = doc("Expected in-sync replicas, in any order.", None)
    replicas: tuple[int, ...] | None = doc("Expected replica list, in order.", None)
    leader_epoch: int | None = doc("Expected leader epoch.", None)
    high_watermark: int | None = doc("Expected high watermark.", None)
    log_end_offset: int | None = doc("Expected log end offset of the leader.", None)
    log_start_offset: int | None = doc("Expected log start offset.", None)
    offline: bool | None = doc("Whether the partition has no leader.", None)
    last_stable_offset: int | None = doc("Expected last stable offset (below it every transaction is decided).",
                                         None)

    def evaluate(self, session: Session, view: ClusterView) -> CheckResult:
        expected = _given(self)
        if self.isr is not None:
            expected["isr"] = sorted(self.isr)
        partition = view.partition(self.topic, self.partition)
        if partition is None:
            return CheckResult("partition", _normalize(expected), {"exists": False}, False)
        actual = {"topic": self.topic, "partition": self.partition,
                  "leader": -1 if partition.leader is None else partition.leader, "isr": sorted(partition.isr),
                  "replicas": list(partition.replicas), "leader_epoch": partition.leader_epoch,
                  "high_watermark": partition.high_watermark, "log_end_offset": partition.log_end_offset,
                  "log_start_offset": partition.log_start_offset, "offline": partition.offline,
                  "last_stable_offset": partition.last_stable_offset}
        return _compare("partition", expected, {k: actual[k] for k in expected})


@dataclass(frozen=True)
class BrokerCheck:
    """A broker's state and role."""

    broker: int = doc("Broker id.", minimum=1)
    state: str | None = doc("running, not running, starting or shutting down.", None)
    registered: bool | None = doc("Whether /brokers/ids/N exists in ZooKeeper (KRaft: registered and unfenced).", None)
    controller: bool | None = doc("Whether it is the active controller.", None)

    def evaluate(self, session: Session, view: ClusterView) -> CheckResult:
        broker = view.broker(self.broker)
        expected = _given(self)
        if broker is None:
            return CheckResult("broker", _normalize(expected), {"exists": False}, False)
        actual = {"broker": self.broker, "state": broker.state, "registered": broker.registered,
                  "controller": broker.is_controller}
        return _compare("broker", expected, {k: actual[k] for k in expected})


@dataclass(frozen=True)
class TopicCheck:
    """A topic: whether it exists, its shape, and how many readable records it holds and where."""

    topic: str = doc("Topic.")
    exists: bool | None = doc("Whether the topic must exist.", None)
    partitions: int | None = doc("Number of partitions.", None, minimum=1)
    replication_factor: int | None = doc("Replicas per partition.", None, minimum=1)
    records: int | None = doc("Readable records over all partitions: the sum of each partition's high watermark "
                              "minus its log start offset (offsets a compaction emptied still count).", None,
                              minimum=0)
    partitions_with_records: int | None = doc("How many partitions hold at least one readable record.", None,
                                              minimum=0)

    def evaluate(self, session: Session, view: ClusterView) -> CheckResult:
        expected = _given(self)
        topic = view.topic(self.topic)
        if topic is None:
            return CheckResult("topic", expected, {"topic": self.topic, "exists": False},
                               self.exists is False and set(expected) <= {"topic", "exists"})
        readable = [max(0, p.high_watermark - p.log_start_offset) for p in topic.partitions]
        actual = {"topic": self.topic, "exists": True, "partitions": len(topic.partitions),
                  "replication_factor": max((len(p.replicas) for p in topic.partitions), default=0),
                  "records": sum(readable), "partitions_with_records": sum(1 for n in readable if n)}
        return _compare("topic", expected, {k: actual[k] for k in expected})


@dataclass(frozen=True)
class RecordsCheck:
    """How many records of one partition match a key, a value or an offset.

    Reads the leader's replica from its log start offset up to the high watermark (what
    consumers can read), or, with ``broker``, that broker's replica up to its own log end
    offset, records not yet committed included. Without ``count`` or ``at_least``, at least
    one record must match.
    """

    topic: str = doc("Topic.")
    partition: int = doc("Partition number.", minimum=0)
    key: str | None = doc("Only records with this key (as text).", None)
    value: str | None = doc("Only records with this value (as text).", None)
    offset: int | None = doc("Only the record at this offset.", None, minimum=0)
    broker: int | None = doc("Read this broker's replica (to its log end) instead of the leader's (to the high "
                             "watermark).", None, minimum=1)
    count: int | None = doc("Exactly this many records must match.", None, minimum=0)
    at_least: int | None = doc("At least this many records must match.", None, minimum=0)

    def evaluate(self, session: Session, view: ClusterView) -> CheckResult:
        expected = _given(self)
        partition = view.partition(self.topic, self.partition)
        broker = self.broker if self.broker is not None else (partition.leader if partition is not None else None)
        if partition is None or broker is None:
            return CheckResult("records", expected, {"exists": partition is not None, "online": False}, False)
        page = Inspector(session.cluster).records(self.topic, self.partition, broker, 0, _WHOLE_LOG)
        if not page.online:
            return CheckResult("records", expected, {"broker": broker, "online": False}, False)
        end = page.high_watermark if self.broker is None else page.log_end_offset

        def text(data: bytes | None) -> str | None:
            return None if data is None else data.decode("utf-8", errors="replace")

        offsets = [row.offset for row in page.rows if row.offset < end
                   and (self.key is None or text(row.key) == self.key)
                   and (self.value is None or text(row.value) == self.value)
                   and (self.offset is None or row.offset == self.offset)]
        found = len(offsets)
        ok = ((self.count is None or found == self.count) and (self.at_least is None or found >= self.at_least)
              and (self.count is not None or self.at_least is not None or found >= 1))
        return CheckResult("records", expected, {"broker": broker, "count": found, "offsets": offsets[:_OFFSETS_SHOWN]},
                           ok)


@dataclass(frozen=True)
class KeyPartitionCheck:
    """Every record produced with ``key`` to ``topic`` went to ``partition``."""

    topic: str = doc("Topic.")
    key: str = doc("Record key as text.")
    partition: int = doc("The partition all its records must be in.", minimum=0)

    def evaluate(self, session: Session, view: ClusterView | None = None) -> CheckResult:
        partitions = sorted(session.key_partitions.get((self.topic, self.key), set()))
        return CheckResult("key_partition", _given(self), {"topic": self.topic, "key": self.key,
                                                           "partitions": partitions},
                           partitions == [self.partition])


@dataclass(frozen=True)
class ConsumedCheck:
    """How many records consumers returned so far (all of them, or one group / client)."""

    shorthand: ClassVar[str] = "count"

    count: int | None = doc("Exactly this many.", None, minimum=0)
    at_least: int | None = doc("At least this many.", None, minimum=0)
    group: str | None = doc("Only consumers of this group.", None)
    client_id: str | None = doc("Only this consumer.", None)
    in_order: bool | None = doc("Each consumer got every partition's records in increasing offset order, "
                                "none twice.", None)

    def evaluate(self, session: Session, view: ClusterView | None = None) -> CheckResult:
        def chosen(key: tuple[str, str]) -> bool:
            return self.group in (None, key[0]) and self.client_id in (None, key[1])

        total = sum(n for key, n in session.consumed_by_client.items() if chosen(key))
        out_of_order = sum(n for key, n in session.out_of_order.items() if chosen(key))
        ok = ((self.count is None or total == self.count) and (self.at_least is None or total >= self.at_least)
              and (self.in_order is None or (out_of_order == 0) == self.in_order))
        actual: dict[str, Any] = {"count": total}
        if self.in_order is not None:
            actual["out_of_order"] = out_of_order
        return CheckResult("consumed", _given(self), actual, ok)


@dataclass(frozen=True)
class EventCheck:
    """An event of ``type`` whose fields match ``where`` happened (``at_least`` times)."""

    shorthand: ClassVar[str] = "type"

    type: str = doc("Event type, e.g. LeaderElected, IsrShrunk, GroupStabilized.")
    where: dict[str, bool | int | float | str | tuple[bool | int | float | str, ...]] = doc(
        "Fields the event must have; a list matches a list-valued field (partitions, isr ...) exactly, in order.",
        {})
    at_least: int = doc("How many matching events are needed.", 1, minimum=0)

    def matches(self, event: Event) -> bool:
        if event.name != self.type:
            return False
        values = event.fields_dict()
        return all(_normalize(values.get(key)) == _normalize(value) for key, value in self.where.items())

    def count(self, session: Session, since_seq: int = 0) -> int:
        return sum(1 for event in session.cluster.journal.since(since_seq) if self.matches(event))

    def evaluate(self, session: Session, view: ClusterView | None = None, since_seq: int = 0) -> CheckResult:
        seen = self.count(session, since_seq)
        return CheckResult("event", {"type": self.type, "where": dict(self.where), "at_least": self.at_least},
                           {"count": seen}, seen >= self.at_least)


@dataclass(frozen=True)
class MetadataCheck:
    """KRaft: committed records of the metadata log of ``type`` whose data fields match ``where`` (``at_least``).

    Types and fields are named as ``kafka-dump-log.sh --cluster-metadata-decoder`` prints them
    (``MetadataRecordSerde``'s JSON). ``topic`` stands for the topic's id, which records carry
    instead of its name (``topicId``).
    """

    shorthand: ClassVar[str] = "type"

    type: str = doc("Record type: TOPIC_RECORD, PARTITION_RECORD, PARTITION_CHANGE_RECORD, CONFIG_RECORD, "
                    "REGISTER_BROKER_RECORD, BROKER_REGISTRATION_CHANGE_RECORD ...")
    where: dict[str, bool | int | float | str | tuple[bool | int | float | str, ...]] = doc(
        "Fields of the record's data by their JSON names, e.g. {name: orders}, {brokerId: 2, fenced: 1}, "
        "{leader: 3}; a list matches exactly, in order.", {})
    topic: str | None = doc("Only records of this topic (its topicId).", None)
    at_least: int = doc("How many matching records are needed.", 1, minimum=0)
    count: int | None = doc("Exactly how many matching records there must be (instead of at_least).", None,
                            minimum=0)

    def evaluate(self, session: Session, view: ClusterView | None = None) -> CheckResult:
        # KRaft's views (and the Raft protocol under them) load when a KRaft check runs, not with the vocabulary:
        # a ZooKeeper-mode TUI never needs them before its first paint (issue 18).
        from kafkalab.cluster.quorum_views import UNREADABLE

        expected: dict[str, Any] = {"type": self.type, "where": dict(self.where)}
        expected.update({"count": self.count} if self.count is not None else {"at_least": self.at_least})
        if self.topic is not None:
            expected["topic"] = self.topic
        try:
            records = session.cluster.metadata_records()
        except KafkaError as exc:
            return CheckResult("metadata", _normalize(expected), {"error": exc.message}, False)
        topic_id = None
        if self.topic is not None:
            topic_view = (view or session.cluster.snapshot()).topic(self.topic)
            topic_id = topic_view.topic_id if topic_view is not None else None
        seen = 0
        for entry in records:
            if entry.record_type != self.type or entry.record_type == UNREADABLE:
                continue  # an unreadable record's text is its error, with no fields to match
            parsed = json.loads(entry.text)
            data = parsed if entry.control else parsed.get("data", {})  # a control record's JSON is its fields
            if self.topic is not None and data.get("topicId", data.get("resourceName")) not in (topic_id, self.topic):
                continue
            if all(_normalize(data.get(key)) == _normalize(value) for key, value in self.where.items()):
                seen += 1
        ok = seen == self.count if self.count is not None else seen >= self.at_least
        return CheckResult("metadata", _normalize(expected), {"count": seen}, ok)


@dataclass(frozen=True)
class GroupCheck:
    """A consumer group's state, members, assignment, committed offsets and lag."""

    group: str = doc("group.id")
    state: str | None = doc("Empty, PreparingRebalance, CompletingRebalance, Stable or Dead.", None)
    generation: int | None = doc("Expected generation id.", None)
    members: int | None = doc("How many members.", None, minimum=0)
    strategy: str | None = doc("The chosen assignment strategy.", None)
    assignment: dict[str, tuple[str, ...]] | None = doc("client_id -> its partitions (orders-0 ...), any order.", None)
    committed: dict[str, int] | None = doc("partition (orders-0) -> committed offset (CURRENT-OFFSET).", None)
    lag: dict[str, int] | None = doc("partition (orders-0) -> LAG.", None)
    total_lag: int | None = doc("Sum of LAG over the group's partitions.", None)

    def evaluate(self, session: Session, view: ClusterView) -> CheckResult:
        expected = _given(self)
        if self.assignment is not None:
            expected["assignment"] = {client: sorted(parts) for client, parts in self.assignment.items()}
        group = view.group(self.group)
        if group is None:
            return CheckResult("group", _normalize(expected), {"exists": False}, False)
        assignment: dict[str, list[str]] = {}
        for member in group.members:
            assignment.setdefault(member.client_id, []).extend(member.assignment)
        partitions = {f"{p.topic}-{p.partition}": p for p in group.partitions}
        actual = {"group": self.group, "state": group.state, "generation": group.generation,
                  "members": len(group.members), "strategy": group.protocol,
                  "assignment": {client: sorted(parts) for client, parts in sorted(assignment.items())},
                  "committed": {name: partitions[name].current_offset for name in (self.committed or {})
                                if name in partitions},
                  "lag": {name: partitions[name].lag for name in (self.lag or {}) if name in partitions},
                  "total_lag": group.total_lag}
        return _compare("group", expected, {k: actual[k] for k in expected})


@dataclass(frozen=True)
class ZnodeCheck:
    """A znode in the coordination service: whether it exists and who owns it."""

    path: str = doc("Znode path, e.g. /brokers/ids/2 or /controller.")
    exists: bool | None = doc("Whether the znode must exist.", None)
    ephemeral: bool | None = doc("Whether it must be ephemeral (tied to a session).", None)
    owner: str | None = doc("The network node whose session owns it, e.g. broker-2.", None)

    def evaluate(self, session: Session, view: ClusterView | None = None) -> CheckResult:
        coordinator = session.cluster.coordinator
        node = coordinator.tree.nodes.get(self.path) if coordinator is not None else None  # KRaft: no ZooKeeper
        actual = {"path": self.path, "exists": node is not None,
                  "ephemeral": bool(node and node.ephemeral_owner),
                  "owner": coordinator.session_owner(node.ephemeral_owner)
                  if coordinator is not None and node and node.ephemeral_owner else None}
        expected = _given(self)
        return _compare("znode", expected, {k: actual[k] for k in expected})


@dataclass(frozen=True)
class LinkCheck:
    """Whether the network link between two nodes (broker ids, ``zk``) is up or cut, in either direction order."""

    between: tuple[int | str, ...] = doc("The two nodes: broker ids or zk.", examples=[[1, 2], [1, "zk"]])
    up: bool = doc("True when messages get through, false when the link is cut.")

    def evaluate(self, session: Session, view: ClusterView | None = None) -> CheckResult:
        expected = {"between": list(self.between), "up": self.up}
        try:
            if len(self.between) != 2:
                raise KafkaError(Errors.INVALID_ARGUMENT, f"A link joins exactly two nodes, got {list(self.between)}.")
            a, b = (session.cluster.node_name(node) for node in self.between)
        except KafkaError as exc:
            return CheckResult("link", expected, {"error": exc.message}, False)
        up = session.cluster.network.link_up(a, b)
        return CheckResult("link", expected, {"between": [a, b], "up": up}, up == self.up)


@dataclass(frozen=True)
class Checks:
    """A set of expectations; every one given must hold."""

    topic: tuple[TopicCheck, ...] = doc("Topics: existence, partitions, readable records and their spread.", ())
    partition: tuple[PartitionCheck, ...] = doc("Partition leader, ISR and offsets.", ())
    records: tuple[RecordsCheck, ...] = doc("Records in a partition's log with a key, value or offset, counted.", ())
    broker: tuple[BrokerCheck, ...] = doc("Broker state and role.", ())
    znode: tuple[ZnodeCheck, ...] = doc("Znodes in the coordination service.", ())
    link: tuple[LinkCheck, ...] = doc("Network links between brokers and zk: up or cut.", ())
    group: tuple[GroupCheck, ...] = doc("Consumer group state, assignment, offsets and lag.", ())
    key_partition: tuple[KeyPartitionCheck, ...] = doc("Which partition a key's records went to.", ())
    consumed: tuple[ConsumedCheck, ...] = doc("Records consumed so far (a count, or per group / client).", ())
    event: tuple[EventCheck, ...] = doc("Events that must have happened.", ())
    metadata: tuple[MetadataCheck, ...] = doc("KRaft: committed records of the metadata log.", ())
    no_event: tuple[EventCheck, ...] = doc("Events that must not have happened.", ())
    controller: int | None = doc("The active controller's broker id.", None)
    last_error: str | None = doc("The Kafka error the previous step failed with (NONE if it succeeded).", None)

    def topics(self) -> list[str]:
        """The topics these expectations say must exist, in the order they name them."""
        named = [check.topic for check in self.partition] + [check.topic for check in self.records]
        named += [check.topic for check in self.key_partition]
        return named + [check.topic for check in self.topic if check.exists is not False]

    def evaluate(self, session: Session, since_seq: int = 0) -> list[CheckResult]:
        """Every check's outcome; events count from ``since_seq`` (0: the whole journal).

        The cluster snapshot is built only when a check reads it, so goals made of events,
        consumed counts or znodes stay cheap to poll.
        """
        needs_view = bool(self.topic or self.partition or self.records or self.broker or self.group) \
            or self.controller is not None
        view = session.cluster.snapshot() if needs_view else None
        results: list[CheckResult] = []
        if view is not None:
            view_checks: tuple[TopicCheck | PartitionCheck | RecordsCheck | BrokerCheck, ...] = (
                *self.topic, *self.partition, *self.records, *self.broker)
            results += [check.evaluate(session, view) for check in view_checks]
        results += [check.evaluate(session, view) for check in self.znode]
        results += [check.evaluate(session, view) for check in self.link]
        if view is not None:
            results += [check.evaluate(session, view) for check in self.group]
        results += [check.evaluate(session, view) for check in self.key_partition]
        results += [check.evaluate(session, view) for check in self.consumed]
        results += [check.evaluate(session, view, since_seq) for check in self.event]
        results += [check.evaluate(session, view) for check in self.metadata]
        for check in self.no_event:
            seen = check.count(session, since_seq)
            results.append(CheckResult("no_event", {"type": check.type, "where": dict(check.where)},
                                       {"count": seen}, seen == 0))
        if self.controller is not None and view is not None:
            results.append(CheckResult("controller", {"controller": self.controller},
                                       {"controller": view.controller_id}, view.controller_id == self.controller))
        if self.last_error is not None:
            actual = session.last_error or "NONE"
            results.append(CheckResult("last_error", {"last_error": self.last_error}, {"last_error": actual},
                                       actual == self.last_error))
        return results
