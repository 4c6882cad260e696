"""Incremental fetch sessions (KIP-227, Kafka's ``FetchSession.scala``).

A consumer or a follower fetching many partitions opens a session with a full fetch
(epoch 0); the broker remembers the partitions and what it last told the client about each. Later
requests name only partitions whose fetch offset changed, and the response carries only
partitions with records or a changed high watermark, log start offset or error. A
request with epoch -1 fetches without a session (and closes one it names).

Kafka's leader reads and updates every partition of a session on every fetch. A follower's
session here keeps the partitions to look at (``FetchSession.dirty``): those the follower names,
those that change at this broker (``SessionsByPartition.changed``) and those the last answer
carried. The others were read to their end with nothing new to tell and nothing has changed
since, so reading them again would find the same, and updating them would set only their fetch
time, which the session keeps once for all (``SessionClock``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.partition import Partition, SessionClock
from kafkalab.errors import Errors
from kafkalab.protocol.fetch import (
    FINAL_SESSION_EPOCH,
    INITIAL_SESSION_EPOCH,
    FetchPartition,
    FetchPartitionData,
    FetchRequest,
    FetchResponse,
)
from kafkalab.protocol.types import TopicPartition

Responder = Callable[[Any], None]
#: What a session last told its fetcher per partition: (high watermark, last stable offset, log start offset).
Told = dict[TopicPartition, tuple[int, int, int]]
#: The replica manager's fetch: a request, where to answer, and for an incremental session the
#: session (what the fetcher was last told, so caught-up partitions with nothing new are left out),
#: which then builds the answer itself (``FetchSession.response``).
FetchHandler = Callable[[FetchRequest, Responder, "FetchSession | None"], None]

#: Kafka's ``max.incremental.fetch.session.cache.slots`` and ``min.incremental.fetch.session.eviction.ms``.
MAX_SESSIONS = 1000
MIN_EVICTION_MS = 120_000
_INT32_MAX = 2**31 - 1


@dataclass
class FetchSession:
    """One session: the partitions it fetches and what the client was last told about each."""

    session_id: int
    next_epoch: int
    partitions: dict[TopicPartition, FetchPartition]
    last_used_ms: float
    #: (high watermark, last stable offset, log start offset) last sent per partition.
    sent: Told = field(default_factory=dict)
    #: The follower whose session this is, or -1 for a consumer's (read whole on every fetch).
    replica_id: int = -1
    #: A follower's session: the partitions its next fetch must update and read (see the module's doc).
    dirty: set[TopicPartition] = field(default_factory=set)
    #: A follower's session: when it last fetched, the fetch time of its partitions not updated since.
    clock: SessionClock = field(default_factory=SessionClock)
    #: The live brokers ``dirty`` was last filled for: a broker joining them can make a follower join an ISR.
    brokers: object = None
    #: True for a follower's session (``replica_id`` >= 0), whose unchanged partitions are left alone.
    follower: bool = field(init=False)

    #: Each partition's place in ``partitions``, which is the order a fetch reads them in.
    _places: dict[TopicPartition, int] = field(default_factory=dict)
    _next_place: int = 0

    def __post_init__(self) -> None:
        # An attribute, not a property: every fetch of the session asks, some four times.
        self.follower = self.replica_id >= 0
        self._place(self.partitions)

    def _place(self, partitions: Iterable[TopicPartition]) -> None:
        places = self._places
        for tp in partitions:
            if tp not in places:
                places[tp] = self._next_place
                self._next_place += 1

    def update(self, partitions: dict[TopicPartition, FetchPartition],
               forgotten: tuple[TopicPartition, ...]) -> tuple[list[TopicPartition], list[TopicPartition]]:
        """Apply an incremental request: new or moved partitions, and those the client no longer wants.

        Returns the partitions that joined the session and those that left it, in one pass over the
        request (a follower's names one or two partitions, and every fetch is one).
        """
        left = []
        places = self._places
        for tp in forgotten:
            if self.partitions.pop(tp, None) is not None:
                left.append(tp)
            self.sent.pop(tp, None)
            self.dirty.discard(tp)
            places.pop(tp, None)
        joined = []
        for tp in partitions:
            if tp not in places:  # ``places`` holds exactly the session's partitions
                places[tp] = self._next_place
                self._next_place += 1
                joined.append(tp)
        self.partitions.update(partitions)
        if self.follower:
            self.dirty.update(partitions)
        return joined, left

    def to_read(self) -> dict[TopicPartition, FetchPartition]:
        """A follower session's partitions to look at, in the session's order (``max_bytes`` is spent in it)."""
        partitions = self.partitions
        to_read = {}
        # A loop, not a comprehension (a frame of its own): twice per fetch, for a partition or two.
        for tp in sorted(self.dirty, key=self._places.__getitem__) if len(self.dirty) > 1 else self.dirty:
            to_read[tp] = partitions[tp]
        return to_read

    def response(self, results: dict[TopicPartition, FetchPartitionData], full: bool) -> FetchResponse:
        """The session's answer to a fetch that read ``results``: everything on a full fetch, else partitions with
        news (``maybeUpdateResponseData``)."""
        kept: dict[TopicPartition, FetchPartitionData] = {}
        for tp, data in results.items():
            state = (data.high_watermark, data.last_stable_offset, data.log_start_offset)
            if full or data.records or data.error != Errors.NONE or self.sent.get(tp) != state:
                kept[tp] = data
            self.sent[tp] = state
        return FetchResponse(kept, Errors.NONE, self.session_id)


class SessionsByPartition:
    """Which follower sessions hold each partition, so that a change to it marks it in them (at the leader)."""

    def __init__(self) -> None:
        self._holding: dict[TopicPartition, list[FetchSession]] = {}

    def add(self, session: FetchSession, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            self._holding.setdefault(tp, []).append(session)

    def remove(self, session: FetchSession, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            holding = [s for s in self._holding.get(tp, ()) if s is not session]
            if holding:
                self._holding[tp] = holding
            else:
                self._holding.pop(tp, None)

    def holding(self, tp: TopicPartition) -> tuple[FetchSession, ...]:
        """The follower sessions holding ``tp``."""
        return tuple(self._holding.get(tp, ()))

    def changed(self, tp: TopicPartition) -> None:
        """``tp`` changed here: the next fetch of every follower session holding it looks at it."""
        holding = self._holding.get(tp)
        if holding:
            for session in holding:
                session.dirty.add(tp)


class FetchSessionCache:
    """One broker's fetch sessions, in front of its replica manager's fetch handler."""

    def __init__(self, ctx: BrokerContext, fetch: FetchHandler, rng: random.Random,
                 by_partition: SessionsByPartition) -> None:
        self.ctx = ctx
        self._fetch = fetch
        self._rng = rng
        self._by_partition = by_partition
        self.sessions: dict[int, FetchSession] = {}

    def handle(self, request: FetchRequest, respond: Responder) -> None:
        """Serve ``request`` within its session, or without one."""
        if request.session_id == 0 and request.session_epoch == FINAL_SESSION_EPOCH:
            self._fetch(request, respond, None)
            return
        if request.session_epoch == FINAL_SESSION_EPOCH:
            self._close(request.session_id)
            self._fetch(request, lambda response: respond(replace(response, session_id=0)), None)
            return
        if request.session_epoch == INITIAL_SESSION_EPOCH:
            self._close(request.session_id)
            opened = self._create(dict(request.partitions), request.replica_id)
            if opened is None:  # the cache is full of sessions used recently: a fetch without one
                self._fetch(request, respond, None)
            else:
                self._fetch(request, lambda response: respond(opened.response(response.partitions, full=True)), None)
            return
        session = self.sessions.get(request.session_id)
        if session is None:
            respond(FetchResponse({}, Errors.FETCH_SESSION_ID_NOT_FOUND))
            return
        if request.session_epoch != session.next_epoch:
            respond(FetchResponse({}, Errors.INVALID_FETCH_SESSION_EPOCH, session.session_id))
            return
        joined, left = session.update(request.partitions, request.forgotten)
        if session.follower and (joined or left):
            self._by_partition.remove(session, left)
            self._by_partition.add(session, joined)
        session.next_epoch = 1 if session.next_epoch >= _INT32_MAX else session.next_epoch + 1
        session.last_used_ms = self.ctx.scheduler.now_ms
        if not session.follower or session.replica_id != request.replica_id:
            # A consumer's session is read whole; so is a follower's used by another fetcher (a client's
            # mistake), which then reads whole its next fetch too.
            session.dirty.update(session.partitions if session.follower else ())
            request = replace(request, partitions=dict(session.partitions), forgotten=())
        self._fetch(request, respond, session)

    def overlooked(self, hosted: Mapping[TopicPartition, Partition], broker_id: int) -> list[tuple[int, TopicPartition]]:
        """(session id, partition) of follower sessions' partitions left alone although a read would answer them.

        A partition is left alone only while it is led here at the fetch's epoch, the follower's
        fetch offset is the log end and it was told the offsets the partition has now: every
        change to those marks it. Always empty unless a bug; the invariant checks call it after every step.
        """
        out = []
        for session in self.sessions.values():
            if not session.follower:
                continue
            for tp, fetch in session.partitions.items():
                if tp in session.dirty:
                    continue
                partition = hosted.get(tp)
                if partition is None or partition.leader_id != broker_id \
                        or fetch.current_leader_epoch not in (-1, partition.leader_epoch) \
                        or fetch.fetch_offset != partition.log_end_offset \
                        or session.sent.get(tp) != (partition.high_watermark, -1, partition.log.log_start_offset):
                    out.append((session.session_id, tp))
        return out

    def _create(self, partitions: dict[TopicPartition, FetchPartition], replica_id: int) -> FetchSession | None:
        """A new session, or None when the cache is full of sessions used recently (the client fetches without)."""
        now = self.ctx.scheduler.now_ms
        if len(self.sessions) >= MAX_SESSIONS:
            oldest = min(self.sessions.values(), key=lambda s: s.last_used_ms)
            if now - oldest.last_used_ms < MIN_EVICTION_MS:
                return None
            self._close(oldest.session_id)
        session_id = 0
        while session_id == 0 or session_id in self.sessions:
            session_id = self._rng.randint(1, _INT32_MAX)
        session = FetchSession(session_id, 1, partitions, now, replica_id=max(-1, replica_id))
        if session.follower:
            session.dirty.update(partitions)  # the full fetch updated them outside the session
            self._by_partition.add(session, partitions)
        self.sessions[session_id] = session
        return session

    def _close(self, session_id: int) -> None:
        session = self.sessions.pop(session_id, None)
        if session is not None and session.follower:
            self._by_partition.remove(session, session.partitions)
