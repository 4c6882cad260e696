"""How the active controller changes a partition: Kafka 4.1's ``PartitionChangeBuilder``.

Given a partition's registration and a target ISR, it elects a leader if the current one
is no longer acceptable and writes the smallest ``PartitionChangeRecord`` that says what
changed, or nothing when nothing did. The rules where 4.1 differs from 3.9's ZooKeeper
controller:

* a follower leaving the ISR does not bump the leader epoch (metadata.version 3.6+, once
  KAFKA-15021 made the bump unnecessary); only a new leader does;
* with eligible leader replicas (KIP-966, on by default for clusters made by 4.1), an ISR
  shrinking below ``min.insync.replicas`` keeps the replicas it lost as ELR (those that did
  not shut down uncleanly), the ISR may become empty, and when it is, an ELR member may be
  elected (its ISR becomes itself) without an unclean election;
* the leader is the first acceptable replica in assignment order that is in the ISR;
* when the ISR and the ELR are both empty (every replica crashed, so none is eligible), the
  last known leader, remembered when the ISR emptied, is elected once it is back
  (``canElectLastKnownLeader``, "balanced" recovery): as an unclean election, its ISR just
  itself. Kafka's code of this time elects it even while it is fenced; kafkalab waits until
  it may lead.

Not modelled: reassignments (adding/removing replicas) and directories.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from kafkalab.metadata.image import PartitionRegistration
from kafkalab.metadata.records import NO_LEADER, NO_LEADER_CHANGE, PartitionChangeRecord

#: ``LeaderRecoveryState.RECOVERING``: a leader elected uncleanly is still recovering.
RECOVERING = 1


class Election(Enum):
    """``PartitionChangeBuilder.Election``."""

    #: Keep the partition online; elect the preferred replica if it is in the ISR.
    PREFERRED = "preferred"
    #: Elect from the ISR to keep the partition online.
    ONLINE = "online"
    #: Like ONLINE, but a replica outside the ISR may lead rather than none (unclean.leader.election.enable).
    UNCLEAN = "unclean"


@dataclass(frozen=True)
class ElectionResult:
    node: int
    unclean: bool


@dataclass
class PartitionChangeBuilder:
    """One partition's change; set the targets, then ``build()``."""

    partition: PartitionRegistration
    topic_id: str
    partition_id: int
    is_acceptable_leader: Callable[[int], bool]
    min_isr: int
    elr_enabled: bool = True
    election: Election = Election.ONLINE
    target_isr: tuple[int, ...] | None = None
    unclean_shutdown_replicas: Sequence[int] = ()
    _target_elr: list[int] = field(default_factory=list)
    _target_last_known_elr: list[int] = field(default_factory=list)

    def build(self) -> PartitionChangeRecord | None:
        """The change record, or None when it would change nothing (``changeRecordIsNoOp``)."""
        partition = self.partition
        isr = list(partition.isr if self.target_isr is None else self.target_isr)
        self._target_elr = list(partition.elr)
        self._target_last_known_elr = list(partition.last_known_elr)
        self._populate_elr(isr)
        leader = NO_LEADER_CHANGE
        record_isr: tuple[int, ...] | None = None
        recovery = -1
        result = self._elect(isr)
        if result.node != partition.leader:
            leader = result.node
            if result.node in self._target_elr:
                # Elected from the ELR: it becomes the ISR (KIP-966).
                isr = [result.node]
                self._target_elr = [r for r in self._target_elr if r != result.node]
            if result.unclean:
                # An unclean leader may lack acknowledged records: the ISR is just itself.
                record_isr = (result.node,)
                if partition.leader_recovery_state != RECOVERING:
                    recovery = RECOVERING
        # maybeUpdateRecordElr: an unclean election or disabled ELR clears both lists.
        if record_isr is not None or not self.elr_enabled:
            self._target_elr, self._target_last_known_elr = [], []
        elr = tuple(self._target_elr) if self._target_elr != list(partition.elr) else None
        if record_isr is None and (isr or self.elr_enabled) and isr != list(partition.isr):
            record_isr = tuple(isr)
        last_known = self._last_known_leader(record_isr, leader)
        record = PartitionChangeRecord(self.partition_id, self.topic_id, isr=record_isr, leader=leader,
                                       leader_recovery_state=recovery, eligible_leader_replicas=elr,
                                       last_known_elr=last_known)
        if record_isr is None and leader == NO_LEADER_CHANGE and elr is None and last_known is None and recovery == -1:
            return None
        return record

    # -- the steps, in Kafka's order ---------------------------------------------------

    def _populate_elr(self, isr: list[int]) -> None:
        """``maybePopulateTargetElr``: below min ISR, replicas leaving the ISR join the ELR."""
        if not self.elr_enabled:
            return
        if len(isr) >= self.min_isr:
            self._target_elr, self._target_last_known_elr = [], []
            return
        candidates = set(self._target_elr) | set(self.partition.isr)
        self._target_elr = sorted(r for r in candidates if r not in isr and r not in self.unclean_shutdown_replicas)
        candidates |= set(self._target_last_known_elr)
        self._target_last_known_elr = sorted(r for r in candidates if r not in isr and r not in self._target_elr)

    def _valid_new_leader(self, replica: int, isr: list[int]) -> bool:
        """In the ISR, or in the ELR while the ISR is empty; and acceptable (unfenced, not shutting down)."""
        return (replica in isr or (not isr and replica in self._target_elr)) and self.is_acceptable_leader(replica)

    def _elect(self, isr: list[int]) -> ElectionResult:
        replicas = self.partition.replicas
        current = self.partition.leader
        if self.election is Election.PREFERRED:
            if replicas and self._valid_new_leader(replicas[0], isr):
                return ElectionResult(replicas[0], False)
            if self._valid_new_leader(current, isr):
                return ElectionResult(current, False)
            candidates: Sequence[int] = replicas[1:]
        else:
            if self._valid_new_leader(current, isr):
                return ElectionResult(current, False)
            candidates = replicas
        for replica in candidates:
            if self._valid_new_leader(replica, isr):
                return ElectionResult(replica, False)
        last_known = self.partition.last_known_elr
        if self.elr_enabled and not isr and not self._target_elr and len(last_known) == 1 \
                and self.is_acceptable_leader(last_known[0]):
            return ElectionResult(last_known[0], True)
        if self.election is Election.UNCLEAN:
            for replica in replicas:
                if self.is_acceptable_leader(replica):
                    return ElectionResult(replica, True)
        return ElectionResult(NO_LEADER, False)

    def _last_known_leader(self, record_isr: tuple[int, ...] | None, leader: int) -> tuple[int, ...] | None:
        """``maybeUpdateLastKnownLeader``: remember the leader when the ISR first becomes empty; forget it once led."""
        if not self.elr_enabled:
            return None
        partition = self.partition
        if record_isr is not None and not record_isr and partition.last_known_elr != (partition.leader,):
            return (partition.leader,)
        has_leader = leader >= 0 or NO_LEADER not in (partition.leader, leader)
        if has_leader and partition.last_known_elr:
            return ()
        return None
