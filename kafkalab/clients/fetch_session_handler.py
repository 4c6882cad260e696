"""The fetching side of an incremental fetch session (KIP-227, Kafka's ``FetchSessionHandler``).

Kafka's followers (``RemoteLeaderEndPoint.buildFetch``) and consumers keep one per broker
they fetch from. The first request is full (epoch 0) and the broker answers with a session
id; later requests name only partitions whose fetch position changed and the partitions
that leave the session, and the broker answers only partitions with something new. Any
error, or a request that got no answer, makes the next request full again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from kafkalab.errors import Errors
from kafkalab.protocol.fetch import INITIAL_SESSION_EPOCH, FetchPartition, FetchResponse
from kafkalab.protocol.types import TopicPartition

#: Kafka's ``FetchMetadata.INVALID_SESSION_ID``: no session.
NO_SESSION = 0
_INT32_MAX = 2**31 - 1


class SessionFetch(NamedTuple):
    """What one request carries: its session id and epoch, the partitions to send and those to forget.

    A named tuple, as immutable as a frozen dataclass and built without a Python call per field: a follower
    builds one per fetch.
    """

    session_id: int
    epoch: int
    partitions: dict[TopicPartition, FetchPartition]
    forgotten: tuple[TopicPartition, ...]

    @property
    def full(self) -> bool:
        """True for a full fetch, which opens a session (or fetches without one)."""
        return self.epoch == INITIAL_SESSION_EPOCH


@dataclass
class FetchSessionHandler:
    """One fetch session with one broker, from the fetching side."""

    session_id: int = NO_SESSION
    next_epoch: int = INITIAL_SESSION_EPOCH
    #: The session's partitions as the broker knows them after the last request built.
    session_partitions: dict[TopicPartition, FetchPartition] = field(default_factory=dict)

    def build(self, wanted: dict[TopicPartition, FetchPartition]) -> SessionFetch:
        """The next request for ``wanted``: everything when full, else only what changed (``Builder.build``)."""
        previous, self.session_partitions = self.session_partitions, dict(wanted)
        if self.next_epoch == INITIAL_SESSION_EPOCH:
            return SessionFetch(self.session_id, INITIAL_SESSION_EPOCH, dict(wanted), ())
        changed = {tp: fetch for tp, fetch in wanted.items() if previous.get(tp) != fetch}
        forgotten = tuple(tp for tp in previous if tp not in wanted)
        return SessionFetch(self.session_id, self.next_epoch, changed, forgotten)

    @property
    def full_due(self) -> bool:
        """True when the next request is a full one (no session yet, or it broke)."""
        return self.next_epoch == INITIAL_SESSION_EPOCH

    def build_changed(self, changed: Mapping[TopicPartition, FetchPartition | None]) -> SessionFetch:
        """The next incremental request when only ``changed`` may differ from the session (None: not wanted now).

        What ``build`` makes from every wanted partition, for a fetcher that knows which may
        have changed since its last request (a follower's, ``broker/fetcher.py``). Not when ``full_due``.
        """
        assert self.next_epoch != INITIAL_SESSION_EPOCH  # not ``full_due``: a property's call for every fetch
        partitions = self.session_partitions
        sent: dict[TopicPartition, FetchPartition] = {}
        forgotten = []
        for tp, fetch in changed.items():
            if fetch is None:
                if partitions.pop(tp, None) is not None:
                    forgotten.append(tp)
            elif partitions.get(tp) != fetch:
                partitions[tp] = sent[tp] = fetch
        return SessionFetch(self.session_id, self.next_epoch, sent, tuple(forgotten))

    def handle_response(self, sent: SessionFetch, response: FetchResponse) -> bool:
        """Move the session on after ``response``; False when its partitions must not be used.

        As Kafka's ``handleResponse``: FETCH_SESSION_ID_NOT_FOUND starts over without a
        session; another error closes the session and asks for a new one.
        """
        if response.error != Errors.NONE:
            if response.error == Errors.FETCH_SESSION_ID_NOT_FOUND:
                self.session_id = NO_SESSION
            self.next_epoch = INITIAL_SESSION_EPOCH
            return False
        if response.session_id == NO_SESSION:
            # A full fetch the broker kept no session for, or a session it closed: full again next.
            self.session_id, self.next_epoch = NO_SESSION, INITIAL_SESSION_EPOCH
        elif sent.epoch == INITIAL_SESSION_EPOCH:  # ``sent.full``, without a property's call for every fetch
            self.session_id, self.next_epoch = response.session_id, 1
        else:
            self.next_epoch = 1 if self.next_epoch >= _INT32_MAX else self.next_epoch + 1
        return True

    def handle_error(self) -> None:
        """A request that got no answer: close the session and open a new one next (``handleError``)."""
        self.next_epoch = INITIAL_SESSION_EPOCH
