"""Events of the group coordinator: where groups live, rebalances, generations and commits."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.journal import Event


def _names(partitions: tuple[str, ...]) -> str:
    return ", ".join(partitions) if partitions else "nothing"


@dataclass(frozen=True)
class OffsetsTopicCreationRequested(Event):
    """A consumer looked for its group coordinator before __consumer_offsets existed. As Kafka
    does, the broker asked the controller to create the internal topic (offsets.topic.num.partitions
    partitions, offsets.topic.replication.factor replicas, compacted) and told the consumer to retry."""

    kind = "group"
    broker_id: int
    group_id: str
    partitions: int
    replication_factor: int

    def describe(self) -> str:
        return (f"Broker {self.broker_id} had the controller create __consumer_offsets ({self.partitions} "
                f"partitions, replication factor {self.replication_factor}) when group {self.group_id} first "
                f"looked for its coordinator.")


@dataclass(frozen=True)
class GroupCoordinatorLoaded(Event):
    """A broker became leader of a __consumer_offsets partition, so it now coordinates every
    group stored there. It replayed the partition's log (commits and group metadata) to rebuild
    them; until that finished, requests for those groups got COORDINATOR_LOAD_IN_PROGRESS. If
    the log cannot be read to its end (damaged data), it keeps what it read before the damage,
    as Kafka does after "Error loading offsets": commits past it are lost."""

    kind = "group"
    broker_id: int
    partition: int
    groups: tuple[str, ...]
    records: int
    offsets: int
    #: Why the replay stopped before the log end, if it did.
    problem: str = ""

    def describe(self) -> str:
        names = ", ".join(self.groups) if self.groups else "no groups yet"
        text = (f"Broker {self.broker_id} is now group coordinator for __consumer_offsets-{self.partition}: "
                f"replayed {self.records} record(s), loaded {names} ({self.offsets} committed offset(s)).")
        return f"{text} The replay {self.problem}" if self.problem else text


@dataclass(frozen=True)
class GroupRecordSkipped(Event):
    """While loading a __consumer_offsets partition, the coordinator found a record that is not
    group metadata or a committed offset it can read, and skipped it, as Kafka's coordinator skips
    keys of an unknown version. Brokers write only records they can read back, so such a record came
    from elsewhere (an older kafkalab let clients write this internal topic)."""

    kind = "group"
    broker_id: int
    partition: int
    offset: int
    reason: str

    def describe(self) -> str:
        return (f"Broker {self.broker_id} skipped the unreadable record at offset {self.offset} of "
                f"__consumer_offsets-{self.partition} while loading its groups: {self.reason}")


@dataclass(frozen=True)
class GroupCoordinatorUnloaded(Event):
    """A broker stopped leading a __consumer_offsets partition. It forgets the groups stored there
    and answers NOT_COORDINATOR; their members look up the new coordinator (the new leader)."""

    kind = "group"
    broker_id: int
    partition: int
    groups: tuple[str, ...]

    def describe(self) -> str:
        return (f"Broker {self.broker_id} is no longer coordinator for __consumer_offsets-{self.partition}; "
                f"groups {', '.join(self.groups)} move to its new leader.")


@dataclass(frozen=True)
class RebalanceStarted(Event):
    """The group entered PreparingRebalance: members must send JoinGroup again (they learn it
    from their next heartbeat, commit or poll) before the next generation can start. The rebalance
    waits at most the largest max.poll.interval.ms of the members; the first rebalance of an empty
    group also waits group.initial.rebalance.delay.ms for more members."""

    kind = "group"
    group_id: str
    generation: int
    previous_state: str
    reason: str

    def describe(self) -> str:
        return f"Group {self.group_id} started rebalancing after generation {self.generation}: {self.reason}."


@dataclass(frozen=True)
class MemberRemoved(Event):
    """The coordinator removed a member: it left with LeaveGroup, stopped heartbeating for
    session.timeout.ms, or did not rejoin or sync within the rebalance timeout
    (max.poll.interval.ms). Its partitions go to the others in the next generation."""

    kind = "group"
    group_id: str
    member_id: str
    client_id: str
    group_instance_id: str | None
    reason: str

    def describe(self) -> str:
        static = f" (group.instance.id {self.group_instance_id})" if self.group_instance_id else ""
        return f"Group {self.group_id} removed {self.client_id}{static}: {self.reason}."


@dataclass(frozen=True)
class GenerationStarted(Event):
    """Every expected member rejoined (or the rebalance timeout passed), so the coordinator
    bumped the generation id and chose the assignment strategy all members support. The group is
    CompletingRebalance: the leader member computes the assignment client-side and sends it in
    SyncGroup; commits from older generations are now rejected with ILLEGAL_GENERATION."""

    kind = "group"
    group_id: str
    previous_generation: int
    generation: int
    protocol: str
    leader_client_id: str
    members: tuple[str, ...]

    def describe(self) -> str:
        return (f"Group {self.group_id} generation {self.previous_generation} -> {self.generation}: "
                f"{len(self.members)} member(s) ({', '.join(self.members)}), strategy {self.protocol}; "
                f"leader {self.leader_client_id} computes the assignment.")


@dataclass(frozen=True)
class GroupStabilized(Event):
    """The leader's assignment was written to __consumer_offsets and handed to every member in
    its SyncGroup response. The group is Stable: each partition has exactly one owner."""

    kind = "group"
    group_id: str
    generation: int
    assignment: tuple[tuple[str, tuple[str, ...]], ...]

    def describe(self) -> str:
        owners = "; ".join(f"{client} owns {_names(partitions)}" for client, partitions in self.assignment)
        return f"Group {self.group_id} is Stable in generation {self.generation}: {owners}."


@dataclass(frozen=True)
class GroupEmptied(Event):
    """The last member left, so the group is Empty. Its committed offsets stay in
    __consumer_offsets (offsets.retention.minutes) and a consumer joining later resumes from them."""

    kind = "group"
    group_id: str
    generation: int

    def describe(self) -> str:
        return f"Group {self.group_id} is Empty (generation {self.generation}); its committed offsets are kept."


@dataclass(frozen=True)
class StaticMemberRejoined(Event):
    """A consumer with group.instance.id restarted and rejoined within session.timeout.ms (KIP-345).
    The coordinator swapped in its new member id and gave it its old partitions back: no rebalance."""

    kind = "group"
    group_id: str
    group_instance_id: str
    old_member_id: str
    new_member_id: str
    generation: int

    def describe(self) -> str:
        return (f"Static member {self.group_instance_id} rejoined group {self.group_id} as {self.new_member_id} "
                f"and kept its partitions: no rebalance, still generation {self.generation}.")


@dataclass(frozen=True)
class OffsetsExpired(Event):
    """The group coordinator dropped committed offsets that outlived offsets.retention.minutes
    (7 days by default). Since Kafka 2.1 (KIP-211) the clock starts when the group became
    Empty, so an idle group that still has members keeps its place; a consumer group that
    is Stable loses only offsets of topics it no longer subscribes to. A group left Empty
    with no offsets is removed. A consumer joining later starts at auto.offset.reset."""

    kind = "commit"
    broker_id: int
    group_id: str
    partitions: tuple[str, ...]
    group_removed: bool

    def describe(self) -> str:
        if not self.partitions:
            return f"Broker {self.broker_id} removed group {self.group_id}: it is Empty and has no committed offsets."
        gone = "; the group, now without offsets, is removed" if self.group_removed else ""
        return (f"Broker {self.broker_id} expired group {self.group_id}'s committed offsets of "
                f"{', '.join(self.partitions)} (offsets.retention.minutes){gone}.")


@dataclass(frozen=True)
class OffsetsCommitted(Event):
    """A consumer's committed offsets were appended to __consumer_offsets and replicated to every
    in-sync replica. A committed offset is the next record to read, so after a crash or rebalance
    the partition's new owner starts exactly there."""

    kind = "commit"
    group_id: str
    client_id: str
    generation: int
    offsets: tuple[tuple[str, int], ...]

    def describe(self) -> str:
        text = ", ".join(f"{name}={offset}" for name, offset in self.offsets)
        who = self.client_id or "a client without a client.id"
        return f"Group {self.group_id} committed {text} (by {who}, generation {self.generation})."


@dataclass(frozen=True)
class GroupDeleted(Event):
    """An admin deleted an empty consumer group: the coordinator wrote tombstones for its committed
    offsets and its metadata to __consumer_offsets, so compaction forgets it everywhere. A group
    with members cannot be deleted (NON_EMPTY_GROUP)."""

    kind = "group"
    group_id: str
    offsets: int

    def describe(self) -> str:
        return f"Group {self.group_id} was deleted with its {self.offsets} committed offset(s)."
