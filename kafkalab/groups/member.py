"""One member of a consumer group as the coordinator sees it (Kafka's ``MemberMetadata``)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from kafkalab.protocol.groups import JoinGroupProtocol, JoinGroupResponse, SyncGroupResponse
from kafkalab.sim.scheduler import Timer

JoinCallback = Callable[[JoinGroupResponse], None]
SyncCallback = Callable[[SyncGroupResponse], None]


@dataclass(eq=False)
class MemberMetadata:
    """A member's identity, timeouts, supported protocols, assignment and parked requests."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: tuple[JoinGroupProtocol, ...]
    assignment: bytes = b""
    #: The parked JoinGroup's responder while the rebalance gathers members.
    awaiting_join: JoinCallback | None = None
    #: The parked SyncGroup's responder while the leader's assignment is awaited.
    awaiting_sync: SyncCallback | None = None
    #: Joined but not yet through a rebalance: its JoinGroup expires after 5 minutes (KIP-394).
    is_new: bool = False
    heartbeat_timer: Timer | None = field(default=None, repr=False)

    @property
    def is_static(self) -> bool:
        """True for a member with ``group.instance.id`` (KIP-345)."""
        return self.group_instance_id is not None

    @property
    def is_awaiting_join(self) -> bool:
        return self.awaiting_join is not None

    @property
    def is_awaiting_sync(self) -> bool:
        return self.awaiting_sync is not None

    @property
    def protocol_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.protocols)

    def metadata(self, protocol: str) -> bytes:
        """The subscription bytes this member sent for ``protocol``."""
        for candidate in self.protocols:
            if candidate.name == protocol:
                return candidate.metadata
        return b""

    def matches(self, protocols: tuple[JoinGroupProtocol, ...]) -> bool:
        """True when a rejoin carries exactly the same protocols and metadata (no rebalance needed)."""
        return protocols == self.protocols

    def vote(self, candidates: Collection[str]) -> str:
        """This member's most preferred protocol among those every member supports."""
        return next(p.name for p in self.protocols if p.name in candidates)

    def invoke_join(self, response: JoinGroupResponse) -> bool:
        """Answer the parked JoinGroup, if any; returns whether there was one."""
        callback, self.awaiting_join = self.awaiting_join, None
        if callback is None:
            return False
        callback(response)
        return True

    def invoke_sync(self, response: SyncGroupResponse) -> bool:
        """Answer the parked SyncGroup, if any; returns whether there was one."""
        callback, self.awaiting_sync = self.awaiting_sync, None
        if callback is None:
            return False
        callback(response)
        return True
