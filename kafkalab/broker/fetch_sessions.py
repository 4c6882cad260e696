"""Incremental fetch sessions (KIP-227, Kafka's ``FetchSession.scala``).

A consumer or a follower fetching many partitions opens a session with a full fetch
(epoch 0); the broker remembers the partitions and what it last told the client about each. Later
requests name only partitions whose fetch offset changed, and the response carries only
partitions with records or a changed high watermark, log start offset or error. A
request with epoch -1 fetches without a session (and closes one it names).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kafkalab.broker.context import BrokerContext
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
#: The replica manager's fetch: a request, where to answer, and for an incremental session what
#: the fetcher was last told, so caught-up partitions with nothing new are left out of the answer.
FetchHandler = Callable[[FetchRequest, Responder, Told | None], None]

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

    def update(self, partitions: dict[TopicPartition, FetchPartition], forgotten: tuple[TopicPartition, ...]) -> None:
        """Apply an incremental request: new or moved partitions, and those the client no longer wants."""
        for tp in forgotten:
            self.partitions.pop(tp, None)
            self.sent.pop(tp, None)
        self.partitions.update(partitions)

    def changed(self, response: FetchResponse, full: bool) -> dict[TopicPartition, FetchPartitionData]:
        """What to send: everything on a full fetch, else partitions with news (``maybeUpdateResponseData``)."""
        kept: dict[TopicPartition, FetchPartitionData] = {}
        for tp, data in response.partitions.items():
            state = (data.high_watermark, data.last_stable_offset, data.log_start_offset)
            if full or data.records or data.error != Errors.NONE or self.sent.get(tp) != state:
                kept[tp] = data
            self.sent[tp] = state
        return kept


class FetchSessionCache:
    """One broker's fetch sessions, in front of its replica manager's fetch handler."""

    def __init__(self, ctx: BrokerContext, fetch: FetchHandler, rng: random.Random) -> None:
        self.ctx = ctx
        self._fetch = fetch
        self._rng = rng
        self.sessions: dict[int, FetchSession] = {}

    def handle(self, request: FetchRequest, respond: Responder) -> None:
        """Serve ``request`` within its session, or without one."""
        if request.session_id == 0 and request.session_epoch == FINAL_SESSION_EPOCH:
            self._fetch(request, respond, None)
            return
        if request.session_epoch == FINAL_SESSION_EPOCH:
            self.sessions.pop(request.session_id, None)
            self._fetch(request, lambda response: respond(replace(response, session_id=0)), None)
            return
        if request.session_epoch == INITIAL_SESSION_EPOCH:
            self.sessions.pop(request.session_id, None)
            session = self._create(dict(request.partitions))
            self._fetch(request, lambda response: respond(self._answer(session, response, full=True)), None)
            return
        session = self.sessions.get(request.session_id)
        if session is None:
            respond(FetchResponse({}, Errors.FETCH_SESSION_ID_NOT_FOUND))
            return
        if request.session_epoch != session.next_epoch:
            respond(FetchResponse({}, Errors.INVALID_FETCH_SESSION_EPOCH, session.session_id))
            return
        session.update(request.partitions, request.forgotten)
        session.next_epoch = 1 if session.next_epoch >= _INT32_MAX else session.next_epoch + 1
        session.last_used_ms = self.ctx.now_ms
        whole = replace(request, partitions=dict(session.partitions), forgotten=())
        self._fetch(whole, lambda response: respond(self._answer(session, response, full=False)), session.sent)

    @staticmethod
    def _answer(session: FetchSession | None, response: FetchResponse, full: bool) -> FetchResponse:
        if session is None or response.error != Errors.NONE:
            return response
        return FetchResponse(session.changed(response, full), Errors.NONE, session.session_id)

    def _create(self, partitions: dict[TopicPartition, FetchPartition]) -> FetchSession | None:
        """A new session, or None when the cache is full of sessions used recently (the client fetches without)."""
        now = self.ctx.now_ms
        if len(self.sessions) >= MAX_SESSIONS:
            oldest = min(self.sessions.values(), key=lambda s: s.last_used_ms)
            if now - oldest.last_used_ms < MIN_EVICTION_MS:
                return None
            del self.sessions[oldest.session_id]
        session_id = 0
        while session_id == 0 or session_id in self.sessions:
            session_id = self._rng.randint(1, _INT32_MAX)
        session = FetchSession(session_id, 1, partitions, now)
        self.sessions[session_id] = session
        return session
