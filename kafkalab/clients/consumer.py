"""An in-process consumer that behaves like Kafka's Java ``KafkaConsumer``.

A consumer ``subscribe()``s to topics and lets its group assign partitions, or
``assign()``s partitions itself (never both). Because everything runs on the one
scheduler, ``poll()`` returns a future: it resolves with the records fetched (in offset
order per partition, never past the high watermark) or with an empty list when the
timeout passes. Group work (joining, rebalancing, committing) happens inside poll(),
as in Kafka, while heartbeats run on their own timer. Every other call that needs a
broker (``commit_sync``, ``committed``, ``position``, ``close``) also returns a future.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kafkalab.clients.client_config import merge_client_configs
from kafkalab.clients.consumer_commits import Offsets, as_offset
from kafkalab.clients.consumer_config import parse_consumer_config
from kafkalab.clients.consumer_coordinator import ConsumerCoordinator
from kafkalab.clients.consumer_fetcher import Fetcher
from kafkalab.clients.consumer_state import ConsumerRecord, OffsetAndMetadata, SubscriptionState
from kafkalab.clients.group_metadata import ConsumerGroupMetadata
from kafkalab.clients.network_client import ClientNode
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.journal import EventJournal
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process, Sleep, spawn
from kafkalab.sim.scheduler import TimerGroup
from kafkalab.validation import validate_topic_name

PartitionInput = TopicPartition | tuple[str, int]

__all__ = ["Consumer", "ConsumerRecord", "OffsetAndMetadata"]

_NO_GROUP = ("To use the group management or offset commit APIs, you must provide a valid group.id in the consumer "
             "configuration.")


def _partition(value: PartitionInput) -> TopicPartition:
    topic, partition = (value.topic, value.partition) if isinstance(value, TopicPartition) else value
    validate_topic_name(topic)
    if isinstance(partition, bool) or not isinstance(partition, int) or partition < 0:
        raise KafkaError(Errors.INVALID_ARGUMENT, f"Partition numbers are 0 or more, not {partition!r}.")
    return TopicPartition(topic, partition)


class Consumer:
    """A Kafka consumer on the in-process network; build one with ``Cluster.consumer(...)``."""

    def __init__(self, client: ClientNode, journal: EventJournal, config: Mapping[str, Any] | None = None,
                 **settings: Any) -> None:
        self.config, assignors, protocol = parse_consumer_config(merge_client_configs(config, settings))
        self.group_id: str | None = self.config["group.id"] if self.config.is_set("group.id") else None
        self._client = client
        client.allow_auto_topic_creation = self.config["allow.auto.create.topics"]
        self._subscriptions = SubscriptionState()
        self._fetcher = Fetcher(client, self._subscriptions, self.config, journal, self._wake)
        self._coordinator = (ConsumerCoordinator(client, self._subscriptions, self.config, assignors, protocol, journal,
                                                 self.group_id, self._refresh_metadata, self._wake)
                             if self.group_id is not None else None)
        self._wakeup: Future[None] | None = None
        self._refreshing = False
        self._polling = False
        self._closing: Future[None] | None = None
        self._closed = False

    # -- identity and state ------------------------------------------------------------

    @property
    def client_id(self) -> str:
        """This consumer's ``client.id``, also its name on the network."""
        return self._client.node

    @property
    def timers(self) -> TimerGroup:
        """The timer group this consumer's work runs in (cancelled by close() and crash())."""
        return self._client.group

    @property
    def member_id(self) -> str:
        """The member id the coordinator gave it ("" outside a group)."""
        return self._coordinator.generation.member_id if self._coordinator else ""

    @property
    def generation_id(self) -> int:
        """The group generation it last joined (-1 if none)."""
        return self._coordinator.generation.generation_id if self._coordinator else -1

    def group_metadata(self) -> ConsumerGroupMetadata:
        """``groupMetadata()``: the group and current generation, for ``Producer.send_offsets_to_transaction``
        (KIP-447), so the coordinator refuses the offsets if the group has moved on without this member."""
        if self._coordinator is None or self.group_id is None:
            raise KafkaError(Errors.INVALID_GROUP_ID, _NO_GROUP)
        generation = self._coordinator.generation
        return ConsumerGroupMetadata(self.group_id, generation.generation_id, generation.member_id,
                                     self._coordinator.instance_id)

    @property
    def rebalance_protocol(self) -> str:
        """``eager`` or ``cooperative``, from the configured assignors."""
        return self._coordinator.protocol.value if self._coordinator else "eager"

    def assignment(self) -> set[TopicPartition]:
        """The partitions this consumer currently owns."""
        return set(self._subscriptions.assigned)

    def subscription(self) -> set[str]:
        """The topics it subscribed to (empty with manual assignment)."""
        return set(self._subscriptions.topics)

    def paused(self) -> set[TopicPartition]:
        return {tp for tp, state in self._subscriptions.assigned.items() if state.paused}

    def positions(self) -> dict[TopicPartition, int]:
        """The known position of each assigned partition (the offset the next poll reads from)."""
        return {tp: s.position for tp, s in self._subscriptions.assigned.items()
                if s.position is not None and s.reset is None}

    def lag(self) -> dict[TopicPartition, int]:
        """Client-side lag (Kafka's ``records-lag``): high watermark of the last fetch minus the position."""
        return {tp: max(0, s.high_watermark - s.position) for tp, s in self._subscriptions.assigned.items()
                if s.position is not None and s.high_watermark >= 0}

    # -- what to read ------------------------------------------------------------------

    def subscribe(self, topics: str | Iterable[str], listener: Any = None) -> None:
        """Join the group and read what it assigns from ``topics``.

        ``listener`` may define ``on_partitions_revoked``, ``on_partitions_assigned`` and
        ``on_partitions_lost`` (each takes a sorted partition list and may return a Future
        to wait for, e.g. ``consumer.commit_sync()``), like Kafka's ConsumerRebalanceListener.
        """
        self._check_open()
        if self._coordinator is None:
            raise KafkaError(Errors.INVALID_GROUP_ID, _NO_GROUP)
        if not self.group_id:
            raise KafkaError(Errors.INVALID_GROUP_ID, "The configured groupId is invalid: group.id is empty.")
        names = tuple(sorted({topics} if isinstance(topics, str) else set(topics)))
        for name in names:
            validate_topic_name(name)
        if not names:
            self.unsubscribe()
            return
        changed = self._subscriptions.subscribe(names)
        self._coordinator.listener = listener
        if changed:
            self._coordinator.request_rejoin("the subscription changed")

    def assign(self, partitions: Iterable[PartitionInput]) -> None:
        """Read exactly these partitions, without group management."""
        self._check_open()
        wanted = [_partition(p) for p in partitions]
        if not wanted:
            self.unsubscribe()
            return
        self._subscriptions.assign_manually(wanted)
        for tp in list(self._fetcher.completed):
            if tp not in self._subscriptions.assigned:
                self._fetcher.discard(tp)

    def unsubscribe(self) -> Future[None]:
        """Give up every partition; a dynamic group member also leaves the group."""
        self._check_open()
        coordinator = self._coordinator
        was_subscribed = self._subscriptions.subscribed
        self._subscriptions.unsubscribe()
        self._fetcher.completed.clear()
        if coordinator is None or not was_subscribed:
            return Future.completed(None)

        def process() -> Process[None]:
            yield from coordinator.on_leave_prepare()
            yield from coordinator.leave_group("the consumer unsubscribed from all topics", rejoin=False)

        return spawn(self._client.group, process(), name="unsubscribe").claim()

    # -- poll ----------------------------------------------------------------------------

    def poll(self, timeout_ms: float = 0) -> Future[list[ConsumerRecord]]:
        """Fetch records; the future resolves with up to ``max.poll.records`` of them, or [] after ``timeout_ms``."""
        self._check_open()
        if self._polling:
            raise KafkaError(Errors.ILLEGAL_STATE, "KafkaConsumer is not safe for multi-threaded access: "
                                                   "a poll() is still in progress.")
        if not self._subscriptions.topics and not self._subscriptions.assigned:
            raise KafkaError(Errors.ILLEGAL_STATE, "Consumer is not subscribed to any topics or assigned any partitions.")
        if timeout_ms < 0:
            raise KafkaError(Errors.INVALID_ARGUMENT, "Timeout must not be negative.")
        self._polling = True
        return spawn(self._client.group, self._poll(timeout_ms), name="poll").claim()

    def _poll(self, timeout_ms: float) -> Process[list[ConsumerRecord]]:
        deadline = self._client.now_ms + timeout_ms
        try:
            while not self.closed:
                if self._fetcher.error is not None:
                    error, self._fetcher.error = self._fetcher.error, None
                    raise error
                joining = self._coordinator.poll() if self._coordinator is not None else None
                if joining is not None:
                    yield self._until(joining, deadline)
                    if joining.done:
                        continue  # the coordinator's next poll() raises the join's error or finds the group joined
                else:
                    yield from self._update_positions()
                    records = self._fetcher.collect(self.config["max.poll.records"])
                    self._send_fetches()
                    if records:
                        return records
                    if self._client.now_ms < deadline and any(
                            s.position is None for s in self._subscriptions.assigned.values()):
                        continue  # positions still being looked up (the lookup backs off by itself)
                if self._client.now_ms >= deadline:
                    return []
                self._wakeup = Future()
                yield self._until(self._wakeup, deadline)
            return []
        finally:
            self._polling = False
            if self._coordinator is not None:
                self._coordinator.last_poll_ms = self._client.now_ms

    def _until(self, future: Future[Any], deadline_ms: float) -> Future[None]:
        """A future done when ``future`` is, or at ``deadline_ms``, whichever comes first."""
        done: Future[None] = Future()
        timer = self._client.group.call_later(max(0.0, deadline_ms - self._client.now_ms), done.set_result, None)

        def finish(_: Future[Any]) -> None:
            timer.cancel()
            done.set_result(None)

        future.add_done_callback(finish)
        return done

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set_result(None)

    def _send_fetches(self) -> None:
        if self._fetcher.send_fetches() and not self._refreshing:
            self._refreshing = True
            spawn(self._client.group, self._refresh_then_wake(), name="metadata refresh")

    def _refresh_then_wake(self) -> Process[None]:
        """A partition's leader is unknown: look again after retry.backoff.ms, then let poll() retry."""
        try:
            yield Sleep(self.config["retry.backoff.ms"])
            yield from self._refresh_metadata(())
        finally:
            self._refreshing = False
        self._wake()

    def _refresh_metadata(self, extra: tuple[str, ...]) -> Process[Any]:
        topics = tuple(sorted(set(self._fetcher.topics()) | set(extra)))
        return (yield from self._client.refresh_metadata(topics))

    def _update_positions(self) -> Process[None]:
        """Give every assigned partition a position: committed offset, else auto.offset.reset."""
        assigned = self._subscriptions.assigned
        if self._subscriptions.manual and any(self._client.leader_of(tp) < 0 for tp in assigned):
            yield from self._refresh_metadata(())
            self._check_partitions_exist()
        missing = [tp for tp, s in assigned.items() if s.position is None and s.reset is None]
        if missing:
            committed: Mapping[TopicPartition, OffsetAndMetadata | None] = {}
            if self._coordinator is not None:
                committed = yield from self._coordinator.commits.fetch_committed(missing)
            strategy = self.config["auto.offset.reset"]
            undefined = []
            for tp in missing:
                state = assigned.get(tp)
                if state is None or state.position is not None or state.reset is not None:
                    continue
                offset = committed.get(tp)
                if offset is not None:
                    state.position = offset.offset
                elif strategy == "none":
                    undefined.append(str(tp))
                else:
                    state.reset, state.reset_reason = strategy, "the group has no committed offset"
            if undefined:
                raise KafkaError(Errors.NO_OFFSET_FOR_PARTITION, f"Undefined offset with no reset policy for "
                                                                 f"partitions: [{', '.join(undefined)}].")
        yield from self._fetcher.reset_positions()
        self._check_partitions_exist()

    def _check_partitions_exist(self) -> None:
        """UNKNOWN_TOPIC_OR_PARTITION for an assigned partition past its topic's end.

        A topic missing from metadata may be brand new (not every broker heard yet), so only
        a partition beyond an existing topic's partition count is certainly wrong.
        """
        if not self._subscriptions.manual:
            return
        for tp in self._subscriptions.assigned:
            topic = self._client.topic(tp.topic)
            if topic is not None and tp.partition >= len(topic.partitions):
                raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Partition {tp} does not exist: topic "
                                                                    f"{tp.topic} has partitions 0-{len(topic.partitions) - 1}.")

    # -- positions ---------------------------------------------------------------------

    def seek(self, partition: PartitionInput, offset: int) -> None:
        """Make the next poll() read ``partition`` from ``offset``."""
        tp = _partition(partition)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise KafkaError(Errors.INVALID_ARGUMENT, f"seek offset must not be a negative number ({offset!r}).")
        state = self._subscriptions.state(tp, "seek")
        state.position, state.reset = offset, None
        self._fetcher.discard(tp)

    def seek_to_beginning(self, partitions: Iterable[PartitionInput] | None = None) -> None:
        """Read from the log start offset next (looked up lazily, at the next poll or position())."""
        self._request_reset(partitions, "earliest", "seek_to_beginning()")

    def seek_to_end(self, partitions: Iterable[PartitionInput] | None = None) -> None:
        """Read from the high watermark next: only records produced from now on."""
        self._request_reset(partitions, "latest", "seek_to_end()")

    def _request_reset(self, partitions: Iterable[PartitionInput] | None, strategy: str, reason: str) -> None:
        tps = list(self._subscriptions.assigned) if partitions is None else [_partition(p) for p in partitions]
        states = [self._subscriptions.state(tp, "seek") for tp in tps]
        for tp, state in zip(tps, states, strict=True):
            state.position, state.reset, state.reset_reason = None, strategy, reason
            self._fetcher.discard(tp)

    def position(self, partition: PartitionInput) -> Future[int]:
        """The offset of the next record poll() returns for ``partition`` (looked up if not known yet)."""
        tp = _partition(partition)
        state = self._subscriptions.state(tp, "check the position of")
        if state.position is not None and state.reset is None:
            return Future.completed(state.position)

        deadline = self._client.now_ms + self.config["default.api.timeout.ms"]

        def process() -> Process[int]:
            while state.position is None or state.reset is not None:
                if self._client.now_ms >= deadline:
                    raise KafkaError(Errors.REQUEST_TIMED_OUT, f"Timeout of {self.config['default.api.timeout.ms']} "
                                                               f"ms expired before the position for partition {tp} "
                                                               f"could be determined.")
                yield from self._update_positions()
                if self._subscriptions.assigned.get(tp) is not state:
                    raise KafkaError(Errors.ILLEGAL_STATE, f"Partition {tp} was revoked while looking up its position.")
                if state.position is None or state.reset is not None:
                    yield Sleep(self.config["retry.backoff.ms"])
            return state.position

        return spawn(self._client.group, process(), name=f"position of {tp}").claim()

    def committed(self, partitions: Iterable[PartitionInput]) -> Future[dict[TopicPartition, OffsetAndMetadata | None]]:
        """The group's committed offsets for ``partitions`` (None where there is none)."""
        coordinator = self._group_coordinator()
        tps = [_partition(p) for p in partitions]
        return spawn(self._client.group, coordinator.commits.fetch_committed(tps), name="OffsetFetch").claim()

    # -- commits -------------------------------------------------------------------------

    def commit_sync(self, offsets: Offsets | None = None) -> Future[None]:
        """Commit ``offsets`` (default: the positions of everything returned so far), retrying until it works."""
        return self._commit(offsets, retry=True)

    def commit_async(self, offsets: Offsets | None = None) -> Future[None]:
        """Commit once without retrying; the future reports the outcome."""
        return self._commit(offsets, retry=False)

    def _commit(self, offsets: Offsets | None, retry: bool) -> Future[None]:
        coordinator = self._group_coordinator()
        if offsets is None:
            wanted: Offsets = self._subscriptions.consumed()
        else:
            wanted = {_partition(tp): as_offset(value) for tp, value in offsets.items()}
        return spawn(self._client.group, coordinator.commits.commit(wanted, retry=retry), name="OffsetCommit").claim()

    def _group_coordinator(self) -> ConsumerCoordinator:
        self._check_open(closing_ok=True)
        if self._coordinator is None:
            raise KafkaError(Errors.INVALID_GROUP_ID, _NO_GROUP)
        return self._coordinator

    # -- flow control and lifecycle -------------------------------------------------------

    def pause(self, partitions: Iterable[PartitionInput]) -> None:
        """Stop fetching these partitions (they stay assigned, no rebalance)."""
        for tp in [_partition(p) for p in partitions]:
            self._subscriptions.state(tp, "pause").paused = True

    def resume(self, partitions: Iterable[PartitionInput]) -> None:
        for tp in [_partition(p) for p in partitions]:
            self._subscriptions.state(tp, "resume").paused = False

    def close(self) -> Future[None]:
        """Commit (with enable.auto.commit), leave the group (dynamic members only), then stop."""
        if self._closing is not None:
            return self._closing
        if self._closed:
            return Future.completed(None)
        coordinator = self._coordinator

        def process() -> Process[None]:
            if coordinator is not None:
                if self.config["enable.auto.commit"]:
                    try:
                        yield from coordinator.commits.commit(self._subscriptions.consumed(), retry=True)
                    except KafkaError:
                        pass
                if self._subscriptions.subscribed:
                    yield from coordinator.on_leave_prepare()
                    yield from coordinator.leave_group("the consumer is being closed", rejoin=False)
            self._closed = True
            self._client.group.cancel_all()

        self._closing = spawn(self._client.group, process(), name="close").claim()
        return self._closing

    def crash(self) -> None:
        """Stop at once, like a killed process: no commit, no LeaveGroup; the group notices via session.timeout.ms."""
        self._closed = True
        self._client.group.cancel_all()

    @property
    def closed(self) -> bool:
        """True once close() began (or crash())."""
        return self._closed or self._closing is not None

    def _check_open(self, closing_ok: bool = False) -> None:
        """ILLEGAL_STATE after close(); commits stay allowed while close() itself runs its listener."""
        if self._closed or (self._closing is not None and not closing_ok):
            raise KafkaError(Errors.ILLEGAL_STATE, "This consumer has already been closed.")
