"""One consumer group's membership, generation, state and committed offsets (Kafka's ``GroupMetadata``).

Pure bookkeeping: who is a member, who leads, which protocol the group uses and
which transitions are legal. The coordinator decides when things happen.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.groups.member import JoinCallback, MemberMetadata
from kafkalab.groups.state import VALID_PREVIOUS_STATES, GroupState
from kafkalab.protocol.groups import JoinGroupMember
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.scheduler import Timer


@dataclass(frozen=True)
class CommittedOffset:
    """A committed offset as stored in ``__consumer_offsets`` (``OffsetAndMetadata``)."""

    offset: int
    leader_epoch: int = -1
    metadata: str = ""
    commit_timestamp_ms: int = -1


class GroupMetadata:
    """A group's state machine and member table; not thread-safe (the broker's loop owns it)."""

    def __init__(self, group_id: str, now_ms: float, state: GroupState = GroupState.EMPTY) -> None:
        self.group_id = group_id
        self.state = state
        self.state_timestamp_ms = now_ms
        self.protocol_type: str | None = None
        self.protocol_name: str | None = None
        self.generation_id = 0
        self.leader_id: str | None = None
        self.members: dict[str, MemberMetadata] = {}
        self.static_members: dict[str, str] = {}
        self.pending_members: set[str] = set()
        self.pending_sync_members: set[str] = set()
        #: A member joined during the first rebalance, so the initial delay may be extended.
        self.new_member_added = False
        self.offsets: dict[TopicPartition, CommittedOffset] = {}
        #: Commits appended but not yet replicated, per partition: these offsets never expire meanwhile.
        self.pending_offset_commits: dict[TopicPartition, int] = {}
        #: Offsets committed inside open transactions, per producer id: they count once its COMMIT marker is
        #: written here (Kafka's ``pendingTransactionalOffsetCommits``).
        self.pending_txn_offsets: dict[int, dict[TopicPartition, CommittedOffset]] = {}
        #: The pending DelayedJoin (or InitialDelayedJoin) and DelayedSync deadlines.
        self.join_timer: Timer | None = None
        self.join_delay_ms = 0
        #: While the initial rebalance delay runs: how much of the rebalance timeout is left to extend it.
        self.initial_join_remaining_ms: int | None = None
        self.sync_timer: Timer | None = None

    # -- membership ----------------------------------------------------------------

    def has(self, member_id: str) -> bool:
        return member_id in self.members

    def get(self, member_id: str) -> MemberMetadata:
        return self.members[member_id]

    def is_leader(self, member_id: str) -> bool:
        return self.leader_id == member_id

    def add(self, member: MemberMetadata, callback: JoinCallback | None) -> None:
        """Add a member (the first one fixes the protocol type and becomes leader)."""
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member.member_id
        if not self.members:
            self.protocol_type = member.protocol_type
        if self.leader_id is None:
            self.leader_id = member.member_id
        self.members[member.member_id] = member
        member.awaiting_join = callback
        self.pending_members.discard(member.member_id)

    def remove(self, member_id: str) -> MemberMetadata | None:
        """Remove a member; if it led, the next member in table order leads (Kafka: its hash-map order)."""
        member = self.members.pop(member_id, None)
        if member is not None and member.group_instance_id is not None:
            self.static_members.pop(member.group_instance_id, None)
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        self.pending_members.discard(member_id)
        self.pending_sync_members.discard(member_id)
        return member

    def replace_static_member(self, group_instance_id: str, old_member_id: str, new_member_id: str) -> MemberMetadata:
        """A static member restarted with a new member id: keep its place, assignment and leadership."""
        member = self.members.pop(old_member_id)
        member.member_id = new_member_id
        self.members[new_member_id] = member
        if self.leader_id == old_member_id:
            self.leader_id = new_member_id
        self.static_members[group_instance_id] = new_member_id
        return member

    def static_member_id(self, group_instance_id: str) -> str | None:
        """The member id currently holding ``group_instance_id``."""
        return self.static_members.get(group_instance_id)

    def is_static_member_fenced(self, member_id: str, group_instance_id: str | None) -> bool:
        """True when ``group_instance_id`` belongs to another member id (KIP-345 fencing)."""
        if group_instance_id is None:
            return False
        current = self.static_members.get(group_instance_id)
        return current is not None and current != member_id

    def update_member(self, member: MemberMetadata, protocols: tuple, rebalance_timeout_ms: int,
                      session_timeout_ms: int, callback: JoinCallback | None) -> None:
        """A known member rejoined: take its new protocols and timeouts and park its JoinGroup."""
        member.protocols = protocols
        member.rebalance_timeout_ms = rebalance_timeout_ms
        member.session_timeout_ms = session_timeout_ms
        member.awaiting_join = callback

    @property
    def rebalance_timeout_ms(self) -> int:
        """The longest ``max.poll.interval.ms`` of the members: how long a rebalance waits for them."""
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    def has_all_members_joined(self) -> bool:
        return all(m.is_awaiting_join for m in self.members.values()) and not self.pending_members

    def not_yet_rejoined(self) -> list[MemberMetadata]:
        return [m for m in self.members.values() if not m.is_awaiting_join]

    def maybe_elect_new_joined_leader(self) -> bool:
        """Keep a leader that rejoined, else pick a member that did; False when nobody rejoined."""
        if self.leader_id is None:
            return False
        if self.members[self.leader_id].is_awaiting_join:
            return True
        joined = next((m for m in self.members.values() if m.is_awaiting_join), None)
        if joined is None:
            return False
        self.leader_id = joined.member_id
        return True

    # -- protocols -----------------------------------------------------------------

    def _candidate_protocols(self) -> set[str]:
        members = list(self.members.values())
        candidates = set(members[0].protocol_names) if members else set()
        for member in members[1:]:
            candidates &= set(member.protocol_names)
        return candidates

    def supports_protocols(self, protocol_type: str, protocols: tuple[str, ...]) -> bool:
        """Can a member with these protocols join? Empty groups take any; others need one in common."""
        if self.state == GroupState.EMPTY or not self.members:
            return bool(protocol_type) and bool(protocols)
        return self.protocol_type == protocol_type and bool(self._candidate_protocols() & set(protocols))

    def select_protocol(self) -> str:
        """Each member votes for its preferred common protocol; most votes wins (ties: first voted)."""
        candidates = self._candidate_protocols()
        votes: dict[str, int] = {}
        for member in self.members.values():
            choice = member.vote(candidates)
            votes[choice] = votes.get(choice, 0) + 1
        return max(votes, key=lambda name: votes[name])

    # -- generations and state -----------------------------------------------------

    def can_rebalance(self) -> bool:
        return self.state in VALID_PREVIOUS_STATES[GroupState.PREPARING_REBALANCE]

    def transition_to(self, state: GroupState, now_ms: float) -> None:
        """Move to ``state``; an illegal transition is a coordinator bug."""
        if self.state not in VALID_PREVIOUS_STATES[state]:
            raise AssertionError(f"group {self.group_id} cannot go from {self.state.value} to {state.value}")
        self.state = state
        self.state_timestamp_ms = now_ms

    def init_next_generation(self, now_ms: float) -> None:
        """Generation N -> N+1: CompletingRebalance with the chosen protocol, or Empty without members."""
        self.generation_id += 1
        if self.members:
            self.protocol_name = self.select_protocol()
            self.transition_to(GroupState.COMPLETING_REBALANCE, now_ms)
        else:
            self.protocol_name = None
            self.transition_to(GroupState.EMPTY, now_ms)
        self.pending_sync_members.clear()

    def member_subscriptions(self) -> tuple[JoinGroupMember, ...]:
        """What the leader's JoinGroup response lists: every member's metadata for the chosen protocol."""
        protocol = self.protocol_name or ""
        return tuple(JoinGroupMember(m.member_id, m.group_instance_id, m.metadata(protocol))
                     for m in self.members.values())
