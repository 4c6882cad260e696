"""Groups and offsets kept in ``__consumer_offsets`` (Kafka's ``GroupMetadataManager``).

Which partition of ``__consumer_offsets`` a group lives in decides which broker
coordinates it: the leader of that partition. Writes are record batches appended with
``acks=all`` through the replica manager, so commits are replicated like any data;
when a broker becomes leader of a partition it replays the partition's log to rebuild
the groups and offsets, answering COORDINATOR_LOAD_IN_PROGRESS meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.replica_manager import ReplicaManager
from kafkalab.clients.java_strings import java_abs_hash
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.groups import GroupCoordinatorLoaded, GroupCoordinatorUnloaded, GroupRecordSkipped, OffsetsExpired
from kafkalab.groups import schema
from kafkalab.groups.expiration import expired_offsets
from kafkalab.groups.group import CommittedOffset, GroupMetadata
from kafkalab.groups.member import MemberMetadata
from kafkalab.groups.state import GroupState
from kafkalab.protocol.groups import JoinGroupProtocol
from kafkalab.protocol.produce import ProduceRequest, ProduceResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.control_records import decode_end_txn_marker
from kafkalab.storage.records import encode_batch
from kafkalab.storage.segment import CorruptSegmentError

#: Kafka's ``Topic.GROUP_METADATA_TOPIC_NAME``.
OFFSETS_TOPIC = "__consumer_offsets"
#: What Kafka's ``GroupCoordinator.offsetsTopicConfigs`` sets on the topic it creates.
OFFSETS_TOPIC_CONFIGS = {"cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": "104857600"}
_LOAD_READ_BYTES = 5 * 1024 * 1024  # offsets.load.buffer.size

#: Produce errors of a group metadata write, as the coordinator reports them (``storeGroup``).
_STORE_GROUP_ERRORS = {
    Errors.UNKNOWN_TOPIC_OR_PARTITION: Errors.COORDINATOR_NOT_AVAILABLE,
    Errors.NOT_ENOUGH_REPLICAS: Errors.COORDINATOR_NOT_AVAILABLE,
    Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND: Errors.COORDINATOR_NOT_AVAILABLE,
    Errors.NOT_LEADER_OR_FOLLOWER: Errors.NOT_COORDINATOR,
    Errors.KAFKA_STORAGE_ERROR: Errors.NOT_COORDINATOR,
    Errors.REQUEST_TIMED_OUT: Errors.REBALANCE_IN_PROGRESS,
    Errors.MESSAGE_TOO_LARGE: Errors.UNKNOWN_SERVER_ERROR,
    Errors.RECORD_LIST_TOO_LARGE: Errors.UNKNOWN_SERVER_ERROR,
}
#: Produce errors of an offset commit write, as the client sees them (``storeOffsets``).
_STORE_OFFSETS_ERRORS = {**_STORE_GROUP_ERRORS, Errors.REQUEST_TIMED_OUT: Errors.REQUEST_TIMED_OUT,
                         Errors.MESSAGE_TOO_LARGE: Errors.INVALID_COMMIT_OFFSET_SIZE,
                         Errors.RECORD_LIST_TOO_LARGE: Errors.INVALID_COMMIT_OFFSET_SIZE}


def partition_for_group(group_id: str, partition_count: int) -> int:
    """Kafka's ``Utils.abs(groupId.hashCode) % offsets.topic.num.partitions``."""
    return java_abs_hash(group_id) % partition_count


def stored_group(group: GroupMetadata, assignment: dict[str, bytes]) -> schema.StoredGroup:
    """The ``GroupMetadataValue`` of ``group`` with the given member assignments."""
    protocol = group.protocol_name
    members = tuple(schema.StoredMember(m.member_id, m.group_instance_id, m.client_id, m.client_host,
                                        m.rebalance_timeout_ms, m.session_timeout_ms,
                                        m.metadata(protocol or ""), assignment.get(m.member_id, b""))
                    for m in group.members.values())
    return schema.StoredGroup(group.protocol_type or "", group.generation_id, protocol, group.leader_id,
                              int(group.state_timestamp_ms), members)


class GroupStore:
    """The groups of the ``__consumer_offsets`` partitions this broker leads, and their persistence."""

    def __init__(self, ctx: BrokerContext, replicas: ReplicaManager, on_loaded: Callable[[GroupMetadata], None],
                 on_unloaded: Callable[[GroupMetadata], None]) -> None:
        self.ctx = ctx
        self.replicas = replicas
        self.partition_count: int = ctx.config["offsets.topic.num.partitions"]
        self.groups: dict[str, GroupMetadata] = {}
        #: Offsets partitions this broker leads and has loaded, with the leader epoch it leads at.
        self.owned: dict[int, int] = {}
        self.loading: set[int] = set()
        self._on_loaded = on_loaded
        self._on_unloaded = on_unloaded

    def partition_for(self, group_id: str) -> int:
        return partition_for_group(group_id, self.partition_count)

    def is_local(self, group_id: str) -> bool:
        return self.partition_for(group_id) in self.owned

    def is_loading(self, group_id: str) -> bool:
        return self.partition_for(group_id) in self.loading

    # -- leadership ----------------------------------------------------------------

    def on_role(self, partition: int, is_leader: bool, leader_epoch: int) -> None:
        """Load a partition's groups when we start leading it; unload them when we stop."""
        if is_leader:
            if partition in self.owned:
                self.owned[partition] = leader_epoch
            if partition in self.owned or partition in self.loading:
                return
            self.loading.add(partition)
            # Kafka loads on a scheduler thread; requests meanwhile get COORDINATOR_LOAD_IN_PROGRESS.
            self.ctx.group.call_soon(self._load, partition, leader_epoch)
        elif partition in self.owned or partition in self.loading:
            self.loading.discard(partition)
            self.owned.pop(partition, None)
            unloaded = [g for g in self.groups.values() if self.partition_for(g.group_id) == partition]
            for group in unloaded:
                del self.groups[group.group_id]
                self._on_unloaded(group)
            if unloaded:
                self.ctx.journal.emit(GroupCoordinatorUnloaded, broker_id=self.ctx.broker_id, partition=partition,
                                      groups=tuple(sorted(g.group_id for g in unloaded)))

    def _load(self, partition: int, leader_epoch: int) -> None:
        if partition not in self.loading:
            return  # resigned before the load ran
        hosted = self.replicas.partitions.get(TopicPartition(OFFSETS_TOPIC, partition))
        offsets: dict[str, dict[TopicPartition, CommittedOffset]] = {}
        pending_txn: dict[int, dict[str, dict[TopicPartition, CommittedOffset]]] = {}
        stored: dict[str, schema.StoredGroup | None] = {}
        records = 0
        problem = ""
        if hosted is not None:
            position = hosted.log.log_start_offset
            try:
                for header, batch in hosted.log.replay(_LOAD_READ_BYTES):
                    if header.is_control:
                        # A transaction's marker: its offsets count only if it committed (``loadGroupsAndOffsets``).
                        marker = decode_end_txn_marker(batch[0]) if batch else None
                        txn_offsets = pending_txn.pop(header.producer_id, {})
                        if marker is not None and marker[0]:
                            for group_id, group_offsets in txn_offsets.items():
                                offsets.setdefault(group_id, {}).update(group_offsets)
                        position = header.next_offset
                        continue
                    for record in batch:
                        records += 1
                        try:
                            target = (pending_txn.setdefault(header.producer_id, {}) if header.is_transactional
                                      else offsets)
                            self._replay(record.key, record.value, target, stored)
                        except KafkaError as exc:  # a record a client wrote, not the coordinator: skipped
                            self.ctx.journal.emit(GroupRecordSkipped, broker_id=self.ctx.broker_id,
                                                  partition=partition, offset=record.offset, reason=exc.message)
                    position = header.next_offset
            except KafkaError as exc:
                # Kafka logs "Error loading offsets" and serves the partition with what it has.
                problem = f"stopped at offset {position}: {exc}"
                if isinstance(exc, CorruptSegmentError):
                    self.replicas.report_corruption(TopicPartition(OFFSETS_TOPIC, partition), exc, position)
        loaded = self._materialize(offsets, stored)
        for group in loaded:  # transactions still open keep their offsets pending
            for producer_id, txn_offsets in pending_txn.items():
                if group.group_id in txn_offsets:
                    group.pending_txn_offsets[producer_id] = dict(txn_offsets[group.group_id])
        self.loading.discard(partition)
        self.owned[partition] = leader_epoch
        for group in loaded:
            self.groups[group.group_id] = group
        if records or problem:  # the 50 empty partitions of a new __consumer_offsets are not news
            self.ctx.journal.emit(GroupCoordinatorLoaded, broker_id=self.ctx.broker_id, partition=partition,
                                  groups=tuple(sorted(g.group_id for g in loaded)), records=records,
                                  offsets=sum(len(g.offsets) for g in loaded), problem=problem)
        for group in loaded:
            self._on_loaded(group)

    @staticmethod
    def _replay(key: bytes | None, value: bytes | None, offsets: dict[str, dict[TopicPartition, CommittedOffset]],
                stored: dict[str, schema.StoredGroup | None]) -> None:
        if key is None:
            return
        parsed = schema.decode_key(key)
        if isinstance(parsed, schema.OffsetKey):
            group_offsets = offsets.setdefault(parsed.group_id, {})
            if value is None:
                group_offsets.pop(parsed.tp, None)
            else:
                group_offsets[parsed.tp] = schema.decode_offset_value(value)
        else:
            stored[parsed.group_id] = None if value is None else schema.decode_group_value(value)

    def _materialize(self, offsets: dict[str, dict[TopicPartition, CommittedOffset]],
                     stored: dict[str, schema.StoredGroup | None]) -> list[GroupMetadata]:
        now = self.ctx.now_ms
        groups = []
        for group_id in sorted(set(offsets) | set(stored)):
            value = stored.get(group_id)
            group_offsets = offsets.get(group_id, {})
            if value is None and not group_offsets:
                continue
            # Kafka keeps when the group entered its current state, so retention survives a failover.
            since = value.current_state_timestamp_ms if value is not None and value.current_state_timestamp_ms >= 0 else now
            group = GroupMetadata(group_id, since)
            group.offsets = dict(group_offsets)
            if value is not None:
                group.generation_id = value.generation
                group.protocol_type = value.protocol_type or None
                group.protocol_name = value.protocol
                for saved in value.members:
                    protocols = (JoinGroupProtocol(value.protocol or "", saved.subscription),)
                    member = MemberMetadata(saved.member_id, saved.group_instance_id, saved.client_id,
                                            saved.client_host, saved.rebalance_timeout_ms, saved.session_timeout_ms,
                                            value.protocol_type, protocols, saved.assignment)
                    group.add(member, None)
                group.leader_id = value.leader if value.leader in group.members else group.leader_id
                if group.members:
                    group.state = GroupState.STABLE
            groups.append(group)
        return groups

    # -- writes ----------------------------------------------------------------------

    def _append(self, group_id: str, records: Sequence[tuple[bytes, bytes | None]],
                on_done: Callable[[Errors], None], error_map: dict[Errors, Errors], acks: int = -1,
                producer: tuple[int, int] | None = None) -> None:
        tp = TopicPartition(OFFSETS_TOPIC, self.partition_for(group_id))
        now = int(self.ctx.now_ms)
        if producer is None:
            batch = encode_batch([(key, value, (), now) for key, value in records])
        else:  # a transactional offset commit is a batch of the producer's transaction (Kafka writes sequence 0)
            batch = encode_batch([(key, value, (), now) for key, value in records], producer_id=producer[0],
                                 producer_epoch=producer[1], base_sequence=0, is_transactional=True)
        timeout = self.ctx.config["offsets.commit.timeout.ms"]

        def respond(response: Any) -> None:
            error = response.partitions[tp].error if isinstance(response, ProduceResponse) else Errors.UNKNOWN_SERVER_ERROR
            on_done(error_map.get(error, error))

        # offsets.commit.required.acks=-1: a commit is acknowledged once every in-sync replica has it.
        self.replicas.handle_produce(ProduceRequest(acks, timeout, {tp: batch}, client_id="group-coordinator"), respond,
                                     internal_topics_allowed=True, from_coordinator=producer is not None)

    def store_group(self, group: GroupMetadata, assignment: dict[str, bytes], on_done: Callable[[Errors], None]) -> None:
        """Persist the group's generation, members and assignment (``storeGroup``)."""
        value = schema.group_metadata_value(stored_group(group, assignment))
        self._append(group.group_id, [(schema.group_metadata_key(group.group_id), value)], on_done,
                     _STORE_GROUP_ERRORS)

    def store_offsets(self, group: GroupMetadata, offsets: dict[TopicPartition, CommittedOffset],
                      on_done: Callable[[Errors], None]) -> None:
        """Append the commits and, once replicated, make them the group's committed offsets (``storeOffsets``)."""
        records = [(schema.offset_commit_key(group.group_id, tp), schema.offset_commit_value(offset))
                   for tp, offset in offsets.items()]
        pending = group.pending_offset_commits
        for tp in offsets:
            pending[tp] = pending.get(tp, 0) + 1

        def done(error: Errors) -> None:
            for tp in offsets:
                pending[tp] -= 1
                if not pending[tp]:
                    del pending[tp]
            if error == Errors.NONE:
                group.offsets.update(offsets)
            on_done(error)

        self._append(group.group_id, records, done, _STORE_OFFSETS_ERRORS)

    def store_txn_offsets(self, group: GroupMetadata, producer_id: int, producer_epoch: int,
                          offsets: dict[TopicPartition, CommittedOffset], on_done: Callable[[Errors], None]) -> None:
        """Append offsets committed in a transaction; they stay pending until its marker (``onTxnOffsetCommitAppend``)."""
        records = [(schema.offset_commit_key(group.group_id, tp), schema.offset_commit_value(offset))
                   for tp, offset in offsets.items()]

        def done(error: Errors) -> None:
            if error == Errors.NONE:
                group.pending_txn_offsets.setdefault(producer_id, {}).update(offsets)
            on_done(error)

        self._append(group.group_id, records, done, _STORE_OFFSETS_ERRORS, producer=(producer_id, producer_epoch))

    def complete_txn_offsets(self, producer_id: int, committed: bool, partitions: tuple[TopicPartition, ...]
                             ) -> dict[str, dict[TopicPartition, CommittedOffset]]:
        """A transaction's marker reached these offsets partitions: apply or drop its offsets
        (``onTransactionCompleted``); returns the offsets applied, by group."""
        numbers = {tp.partition for tp in partitions}
        changed = {}
        for group_id, group in sorted(self.groups.items()):
            if self.partition_for(group_id) not in numbers:
                continue
            txn_offsets = group.pending_txn_offsets.pop(producer_id, None)
            if txn_offsets and committed:
                group.offsets.update(txn_offsets)
                changed[group_id] = txn_offsets
        return changed

    def remove_expired_offsets(self) -> None:
        """Kafka 3.9 ``GroupMetadataManager.cleanupGroupMetadata``: expire offsets, drop groups left with none.

        Tombstones go to ``__consumer_offsets`` with acks=0, as Kafka writes them: one lost in
        a crash is simply written again by the next pass of the new coordinator.
        """
        now = self.ctx.now_ms
        retention_ms = self.ctx.config["offsets.retention.minutes"] * 60_000
        for group_id, group in sorted(self.groups.items()):
            if self.partition_for(group_id) not in self.owned:
                continue
            expired = expired_offsets(group, now, retention_ms, group.pending_offset_commits)
            for tp in expired:
                del group.offsets[tp]
            removed = group.state == GroupState.EMPTY and not group.offsets
            if removed:
                group.transition_to(GroupState.DEAD, now)
                del self.groups[group_id]
            tombstones: list[tuple[bytes, bytes | None]] = [
                (schema.offset_commit_key(group_id, tp), None) for tp in sorted(expired)]
            if removed and group.generation_id > 0:  # a group that never rebalanced wrote no metadata
                tombstones.append((schema.group_metadata_key(group_id), None))
            if tombstones:
                self._append(group_id, tombstones, lambda error: None, {}, acks=0)
            if expired or (removed and group.generation_id > 0):
                self.ctx.journal.emit(OffsetsExpired, broker_id=self.ctx.broker_id, group_id=group_id,
                                      partitions=tuple(f"{tp.topic}-{tp.partition}" for tp in sorted(expired)),
                                      group_removed=removed)

    def delete_group(self, group: GroupMetadata, on_done: Callable[[Errors], None]) -> None:
        """Write tombstones for the group's offsets and metadata, then forget it (``deleteGroups``)."""
        records: list[tuple[bytes, bytes | None]] = [(schema.offset_commit_key(group.group_id, tp), None)
                                                      for tp in sorted(group.offsets)]
        records.append((schema.group_metadata_key(group.group_id), None))

        def done(error: Errors) -> None:
            if error == Errors.NONE and self.groups.get(group.group_id) is group:
                del self.groups[group.group_id]
            on_done(error)

        self._append(group.group_id, records, done, _STORE_GROUP_ERRORS)

    def get_or_create(self, group_id: str, create: bool) -> GroupMetadata | None:
        """The group, created Empty if ``create`` and it does not exist."""
        group = self.groups.get(group_id)
        if group is None and create:
            group = self.groups[group_id] = GroupMetadata(group_id, self.ctx.now_ms)
        return group
