"""Committing and reading a consumer group's offsets (the commit half of Kafka's ``ConsumerCoordinator``).

A commit stores, per partition, the offset of the next record to process. Automatic
commits (``enable.auto.commit``) store the positions of everything poll() returned,
every ``auto.commit.interval.ms`` and before partitions are given up in a rebalance,
which gives at-least-once processing. A commit from a member whose generation is over
fails with COMMIT_FAILED, Kafka's ``CommitFailedException`` (the coordinator said ILLEGAL_GENERATION
or UNKNOWN_MEMBER_ID, or the consumer already knows it was thrown out).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from kafkalab.clients.consumer_state import OffsetAndMetadata
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import AutoCommitFailed
from kafkalab.protocol.groups import (
    OffsetCommitPartition,
    OffsetCommitRequest,
    OffsetCommitResponse,
    OffsetFetchRequest,
    OffsetFetchResponse,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process, Sleep, spawn

if TYPE_CHECKING:
    from kafkalab.clients.consumer_coordinator import ConsumerCoordinator

COMMIT_FAILED = ("Commit cannot be completed since the group has already rebalanced and assigned the partitions to "
                 "another member. This means that the time between subsequent calls to poll() was longer than the "
                 "configured max.poll.interval.ms, which typically implies that the poll loop is spending too much "
                 "time message processing.")
NOT_A_MEMBER = ("Offset commit cannot be completed since the consumer is not part of an active group for auto "
                "partition assignment; it is likely that the consumer was kicked out of the group.")
REBALANCE_IN_PROGRESS = ("Offset commit cannot be completed since the consumer is undergoing a rebalance for auto "
                         "partition assignment. You can try completing the rebalance by calling poll() and then "
                         "retry the operation.")
_RETRIABLE = frozenset({Errors.COORDINATOR_NOT_AVAILABLE, Errors.NOT_COORDINATOR, Errors.REQUEST_TIMED_OUT,
                        Errors.NETWORK_EXCEPTION, Errors.COORDINATOR_LOAD_IN_PROGRESS})
#: OffsetFetch answers after which the same coordinator is asked again (it is loading, or a commit is pending).
_ASK_AGAIN = frozenset({Errors.COORDINATOR_LOAD_IN_PROGRESS, Errors.UNSTABLE_OFFSET_COMMIT})

Offsets = Mapping[TopicPartition, "int | OffsetAndMetadata"]


def as_offset(value: int | OffsetAndMetadata) -> OffsetAndMetadata:
    """An OffsetAndMetadata from an int or itself; a negative offset is INVALID_ARGUMENT (Kafka's constructor)."""
    offset = value if isinstance(value, OffsetAndMetadata) else OffsetAndMetadata(value)
    if isinstance(offset.offset, bool) or not isinstance(offset.offset, int) or offset.offset < 0:
        raise KafkaError(Errors.INVALID_ARGUMENT, f"Invalid negative offset {offset.offset}: a committed offset is "
                                                  f"the next record to read, 0 or more.")
    return offset


class CommitManager:
    """Offset commits and committed-offset lookups of one consumer."""

    def __init__(self, coordinator: ConsumerCoordinator) -> None:
        self.coordinator = coordinator
        self.next_auto_commit_ms = coordinator.client.now_ms + coordinator.config["auto.commit.interval.ms"]
        self._auto_commit: Future[None] | None = None

    def maybe_auto_commit(self) -> None:
        """Commit everything consumed, asynchronously, when auto.commit.interval.ms has passed."""
        c = self.coordinator
        now = c.client.now_ms
        if not c.config["enable.auto.commit"] or now < self.next_auto_commit_ms:
            return
        self.next_auto_commit_ms = now + c.config["auto.commit.interval.ms"]
        offsets = c.subscriptions.consumed()
        if offsets and (self._auto_commit is None or self._auto_commit.done):
            self._auto_commit = spawn(c.client.group, self._told(self.commit(offsets, retry=False)),
                                      name="auto-commit")

    def _told(self, process: Process[None]) -> Process[None]:
        """An automatic commit that fails is done again at the next interval; Kafka's consumer logs
        "Asynchronous auto-commit of offsets failed" and moves on, and so the journal says so."""
        try:
            yield from process
        except KafkaError as exc:
            c = self.coordinator
            c.journal.emit(AutoCommitFailed, client_id=c.client_id, group_id=c.group_id, error=exc.name,
                           reason=exc.message)

    def reset_auto_commit_deadline(self) -> None:
        c = self.coordinator
        self.next_auto_commit_ms = c.client.now_ms + c.config["auto.commit.interval.ms"]

    def commit(self, offsets: Offsets, retry: bool, timeout_ms: float | None = None) -> Process[None]:
        """OffsetCommit to the coordinator; ``retry`` keeps trying retriable errors (commit_sync) until the timeout."""
        c = self.coordinator
        wanted = {tp: as_offset(value) for tp, value in offsets.items()}
        if not wanted:
            return
        deadline = c.client.now_ms + (c.config["default.api.timeout.ms"] if timeout_ms is None else timeout_ms)
        while True:
            yield from c.ensure_coordinator(deadline)
            request = self._request(wanted)
            response = yield c.send(request, c.config["request.timeout.ms"])
            error = self._first_error(response)
            if error == Errors.NONE:
                return
            if error in _RETRIABLE:
                if error != Errors.COORDINATOR_LOAD_IN_PROGRESS:
                    c.mark_coordinator_unknown(f"OffsetCommit answered {error.name}")
                if not retry or c.client.now_ms >= deadline:
                    raise KafkaError(error, f"Offset commit failed with a retriable error: {error.description}")
                yield Sleep(c.config["retry.backoff.ms"])
                continue
            raise self._commit_error(error)

    def _request(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> OffsetCommitRequest:
        c = self.coordinator
        partitions = {tp: OffsetCommitPartition(o.offset, o.leader_epoch, o.metadata) for tp, o in offsets.items()}
        if not c.subscriptions.subscribed:
            # Manually assigned partitions: the group only stores offsets (generation -1, no member).
            return OffsetCommitRequest(c.group_id, -1, "", None, partitions, c.client_id)
        if c.rebalancing:
            raise KafkaError(Errors.REBALANCE_IN_PROGRESS, REBALANCE_IN_PROGRESS)
        if not c.stable:
            raise KafkaError(Errors.COMMIT_FAILED, NOT_A_MEMBER)
        generation = c.generation
        return OffsetCommitRequest(c.group_id, generation.generation_id, generation.member_id, c.instance_id, partitions,
                                   c.client_id)

    @staticmethod
    def _first_error(response: Any) -> Errors:
        if not isinstance(response, OffsetCommitResponse):
            return response
        return next((e for e in response.errors.values() if e != Errors.NONE), Errors.NONE)

    def _commit_error(self, error: Errors) -> KafkaError:
        c = self.coordinator
        if error == Errors.REBALANCE_IN_PROGRESS:
            c.request_rejoin("a commit found the group rebalancing")
            return KafkaError(error, REBALANCE_IN_PROGRESS)
        if error == Errors.FENCED_INSTANCE_ID:
            return c.fence()
        if error in (Errors.UNKNOWN_MEMBER_ID, Errors.ILLEGAL_GENERATION):
            c.reset_generation(reset_member_id=error == Errors.UNKNOWN_MEMBER_ID)
            return KafkaError(Errors.COMMIT_FAILED, f"{COMMIT_FAILED} (the coordinator answered {error.name})")
        return KafkaError(error, f"Offset commit failed: {error.description}")

    def fetch_committed(self, partitions: Iterable[TopicPartition],
                        timeout_ms: float | None = None) -> Process[dict[TopicPartition, OffsetAndMetadata | None]]:
        """The group's committed offsets for ``partitions`` (None where it has none)."""
        c = self.coordinator
        wanted = tuple(sorted(set(partitions)))
        deadline = c.client.now_ms + (c.config["default.api.timeout.ms"] if timeout_ms is None else timeout_ms)
        # KIP-447: a read_committed consumer waits for offsets a transaction is still committing.
        require_stable = c.config["isolation.level"] == "read_committed"
        while True:
            yield from c.ensure_coordinator(deadline)
            response = yield c.send(OffsetFetchRequest(c.group_id, wanted, require_stable), c.config["request.timeout.ms"])
            error = response.error if isinstance(response, OffsetFetchResponse) else response
            if error == Errors.NONE and any(p.error == Errors.UNSTABLE_OFFSET_COMMIT
                                            for p in response.partitions.values()):
                error = Errors.UNSTABLE_OFFSET_COMMIT
            if error == Errors.NONE:
                return {tp: (OffsetAndMetadata(p.offset, p.metadata, p.leader_epoch) if p.offset >= 0 else None)
                        for tp, p in response.partitions.items()}
            if error not in _RETRIABLE | _ASK_AGAIN:
                raise KafkaError(error, f"Fetching committed offsets failed: {error.description}")
            if error not in _ASK_AGAIN:
                c.mark_coordinator_unknown(f"OffsetFetch answered {error.name}")
            if c.client.now_ms >= deadline:
                raise KafkaError(Errors.REQUEST_TIMED_OUT, f"Timeout of {c.config['default.api.timeout.ms']} ms "
                                                           f"expired before the committed offsets could be fetched.")
            yield Sleep(c.config["retry.backoff.ms"])
