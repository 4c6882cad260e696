"""Serving a fetch at the leader: read now, or park it in the purgatory until there is something to read.

Kafka 3.9's ``ReplicaManager.fetchMessages`` and the follower half of ``Partition.fetchRecords``
(``updateFollowerFetchState``): a follower's fetch first tells where it stands in each
partition, which may move the high watermark or let it join the ISR; then the fetch reads
what it may (``fetch_reads.py``), or waits for ``max_wait_ms`` until ``DelayedFetch.tryComplete``
says it can answer. A follower's incremental fetch session is served through only its
partitions that changed (``fetch_sessions.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any

from kafkalab.broker.fetch_reads import NOTHING_NEW, RECORDS, fetch_state, read
from kafkalab.broker.fetch_sessions import FetchSession, Told
from kafkalab.broker.partition import SessionClock
from kafkalab.protocol.fetch import FetchPartition, FetchPartitionData, FetchRequest, FetchResponse
from kafkalab.protocol.types import TopicPartition

if TYPE_CHECKING:
    from kafkalab.broker.replica_manager import ReplicaManager

Responder = Callable[[Any], None]


def serve_fetch(replicas: ReplicaManager, request: FetchRequest, respond: Responder,
                session: FetchSession | None = None) -> None:
    """Serve a follower's or consumer's fetch, long-polling when there is nothing yet.

    ``session`` is the incremental fetch session (KIP-227) the request belongs to, which
    builds the answer (``FetchSession.response``). A partition read to its end whose offsets
    the fetcher already knows is left out of the answer, which the session would drop anyway,
    so it costs no response data. A follower's session is served through ``_session_fetch``:
    only its partitions that changed.
    """
    if session is not None and session.follower and request.replica_id == session.replica_id:
        _session_fetch(replicas, request, respond, session)
        return
    partitions = request.partitions
    at_end = request.replica_id >= 0 and update_followers(replicas, request.replica_id, partitions, None)
    if session is None:
        _answer_or_wait(replicas, request, lambda: partitions, None, lambda results: respond(FetchResponse(results)),
                        tuple(partitions), at_end)
    else:
        _answer_or_wait(replicas, request, lambda: partitions, session.sent,
                        lambda results: respond(session.response(results, full=False)), tuple(partitions), at_end)


def _answer_or_wait(replicas: ReplicaManager, request: FetchRequest,
                    partitions: Callable[[], Mapping[TopicPartition, FetchPartition]], told: Told | None,
                    answer: Callable[[dict[TopicPartition, FetchPartitionData]], None], keys: tuple[Hashable, ...],
                    at_end: bool) -> None:
    """Answer with what ``partitions()`` read now, or wait in the purgatory under ``keys`` until it may answer."""
    if request.max_wait_ms <= 0 or request.min_bytes <= 0:
        answer(read(replicas, request, partitions(), told)[0])
        return

    def try_complete() -> bool:
        # Reads only when there is something to read: a follower's fetch waits for records
        # most of its life, and reading nothing was most of what it cost.
        fetched = partitions()
        state = fetch_state(replicas, request, fetched)
        if state == NOTHING_NEW:
            return False
        results, total_bytes, has_error = read(replicas, request, fetched, told)
        if state == RECORDS and total_bytes < request.min_bytes and not has_error:
            return False
        answer(results)
        return True

    def on_expire() -> None:
        answer(read(replicas, request, partitions(), told)[0])

    if at_end:
        # A follower at the end of every partition it asked for, each led here at its epoch: what
        # ``fetch_state`` would find is nothing new, so the first check is skipped, not its answer.
        replicas.fetch_purgatory.watch(keys, try_complete, on_expire, request.max_wait_ms)
    else:
        replicas.fetch_purgatory.try_complete_else_watch(keys, try_complete, on_expire, request.max_wait_ms)


def _session_fetch(replicas: ReplicaManager, request: FetchRequest, respond: Responder,
                   session: FetchSession) -> None:
    """A follower's incremental fetch: update, check and read only the session's partitions that changed.

    The others were read to their end with nothing new to tell and have not changed here
    since (``fetch_sessions.py``): Kafka's read of them would find the same, and its update
    would set only their fetch time, the session's clock. A partition leaves the ones looked
    at only when a read passes it by as caught up with nothing to tell; one the answer carried
    (records, an error, a new high watermark) is looked at again on the next fetch.
    """
    replica = request.replica_id
    clock = session.clock
    for tp in request.forgotten:
        _leave_session(replicas, tp, replica, clock)
    if session.brokers is not replicas.ctx.metadata.brokers:
        # A follower's broker joining the live brokers may let it join an ISR: look at every partition.
        session.brokers = replicas.ctx.metadata.brokers
        session.dirty.update(session.partitions)
    at_end = update_followers(replicas, replica, session.to_read(), clock)
    clock.fetch_ms = replicas.ctx.scheduler.now_ms

    def answer(results: dict[TopicPartition, FetchPartitionData]) -> None:
        session.dirty = set(results)
        respond(session.response(results, full=False))

    _answer_or_wait(replicas, request, session.to_read, session.sent, answer, (clock,), at_end)


def _leave_session(replicas: ReplicaManager, tp: TopicPartition, replica: int, clock: SessionClock) -> None:
    """``tp`` left ``replica``'s fetch session: its fetch times stop following the session's clock."""
    partition = replicas.partitions.get(tp)
    follower = None if partition is None else partition.followers.get(replica)
    if follower is not None and follower.clock is clock:
        follower.detach()


def update_followers(replicas: ReplicaManager, replica: int, partitions: dict[TopicPartition, FetchPartition],
                     clock: SessionClock | None) -> bool:
    """A follower's fetch tells where it stands in each partition it asks for (``updateFollowerFetchState``).

    Kafka does this for every partition of the fetch session on every fetch, so a follower's
    fetch time (what ISR lag is measured by) stays current on idle partitions; here a
    session's fetch passes only the partitions that changed, and ``clock`` keeps the others'
    fetch time. Returns True when every partition is led here at the fetch's epoch and the
    follower asked for its log end: the fetch then has nothing to read yet.
    """
    now = replicas.ctx.scheduler.now_ms
    hosted = replicas.partitions
    broker = replicas.ctx.broker_id
    at_end = True
    for tp, fetch in partitions.items():
        partition = hosted.get(tp)
        if partition is None or partition.leader_id != broker or fetch.current_leader_epoch != partition.leader_epoch:
            at_end = False
            continue
        offset = fetch.fetch_offset
        if offset != partition.log.log_end_offset:
            at_end = False
        moved = partition.update_follower(replica, offset, now, clock)
        if replica not in partition.isr:  # an ISR member is in the maximal ISR: it has nothing to join
            replicas.isr_changes.maybe_expand(partition, replica)
        if moved:
            replicas.maybe_increment_high_watermark(partition)
    return at_end
