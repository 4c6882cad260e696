"""Events of the KRaft controller quorum: elections, votes, leaders, truncation and snapshots (KIP-595, KIP-996, KIP-630)."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.journal import Event


def replica_label(node_id: int, voter: bool) -> str:
    """``Controller 2`` for a voter, ``Observer 7`` for a replica that only follows the metadata log."""
    return f"Controller {node_id}" if voter else f"Observer {node_id}"


@dataclass(frozen=True)
class QuorumReplicaStarted(Event):
    """A metadata log replica started from its data directory: it re-validated the whole
    ``__cluster_metadata-0`` log (Kafka always does, for this log) and read its epoch, leader
    and vote from the ``quorum-state`` file. A controller that led an epoch before it stopped
    starts Resigned in that epoch: it may not vote in it again, nor lead it again."""

    kind = "quorum"
    node_id: int
    voter: bool
    role: str
    epoch: int
    log_end_offset: int

    def describe(self) -> str:
        return (f"{replica_label(self.node_id, self.voter)} started as {self.role} in epoch {self.epoch} with its "
                f"metadata log ending at offset {self.log_end_offset}.")


@dataclass(frozen=True)
class QuorumReplicaStopped(Event):
    """A metadata log replica stopped. After a crash it keeps only what it had fsynced: the
    ``quorum-state`` file (always written before a vote or a new epoch is acted on) and the
    log a voter flushes before it fetches on."""

    kind = "quorum"
    node_id: int
    voter: bool
    clean: bool

    def describe(self) -> str:
        how = "shut down cleanly" if self.clean else "crashed"
        return f"{replica_label(self.node_id, self.voter)} {how}."


@dataclass(frozen=True)
class QuorumReplicaFailed(Event):
    """A metadata log replica hit an error it cannot recover from (a disk error, corrupt
    data from its leader) and stopped, as Kafka's Raft thread does through its fatal fault
    handler. The rest of the quorum carries on without it."""

    kind = "quorum"
    node_id: int
    voter: bool
    error: str

    def describe(self) -> str:
        return f"{replica_label(self.node_id, self.voter)} stopped after an error: {self.error}"


@dataclass(frozen=True)
class QuorumElectionStarted(Event):
    """A voter wants a new leader. First it asks for pre-votes (KIP-996) without changing its
    epoch: the others grant one only if its log is at least as up to date as theirs and
    they no longer hear from a leader. Only with a majority of pre-votes does it become a
    candidate, bump the epoch, write its own vote to ``quorum-state`` and ask for real
    votes. A voter cut off from the others therefore never raises the epoch and never
    unseats a leader that is working fine."""

    kind = "quorum"
    node_id: int
    epoch: int
    pre_vote: bool
    reason: str

    def describe(self) -> str:
        if self.pre_vote:
            return (f"Controller {self.node_id} asked for pre-votes in epoch {self.epoch} ({self.reason}); it becomes "
                    f"a candidate only if a majority would vote for it.")
        return (f"Controller {self.node_id} became a candidate for epoch {self.epoch} ({self.reason}), voted for "
                f"itself and asked the other voters for their votes.")


@dataclass(frozen=True)
class QuorumVoteGranted(Event):
    """A voter granted a (pre-)vote. A real vote is written to ``quorum-state`` and fsynced
    before the answer leaves, so a voter can never vote twice in one epoch, not even across
    a crash: that is what allows at most one leader per epoch."""

    kind = "quorum"
    voter_id: int
    candidate_id: int
    epoch: int
    pre_vote: bool

    def describe(self) -> str:
        what = "a pre-vote" if self.pre_vote else "its vote"
        return f"Controller {self.voter_id} granted {what} to controller {self.candidate_id} in epoch {self.epoch}."


@dataclass(frozen=True)
class QuorumVoteRejected(Event):
    """A voter refused a (pre-)vote. Raft's rules: one vote per epoch; never for a candidate
    whose log is behind (it could be missing committed records); never for an older epoch;
    and, with pre-vote, not while the voter still hears from a leader."""

    kind = "quorum"
    voter_id: int
    candidate_id: int
    epoch: int
    pre_vote: bool
    reason: str

    def describe(self) -> str:
        what = "a pre-vote" if self.pre_vote else "a vote"
        return (f"Controller {self.voter_id} refused {what} to controller {self.candidate_id} in epoch {self.epoch}: "
                f"{self.reason}.")


@dataclass(frozen=True)
class QuorumLeaderElected(Event):
    """A candidate won a majority of votes and leads the epoch. Its first act is to append a
    LeaderChange control record; the high watermark starts moving only once a majority
    holds that record, so records of earlier epochs are committed only through one of its
    own (Raft's commitment rule)."""

    kind = "quorum"
    leader_id: int
    epoch: int
    granting_voters: tuple[int, ...]
    epoch_start_offset: int

    def describe(self) -> str:
        votes = ", ".join(str(voter) for voter in self.granting_voters)
        return (f"Controller {self.leader_id} was elected leader of epoch {self.epoch} with the votes of {votes}; "
                f"its epoch starts at offset {self.epoch_start_offset}.")


@dataclass(frozen=True)
class QuorumEpochBegun(Event):
    """A voter learned of a new leader from its BeginQuorumEpoch (``handleBeginQuorumEpochRequest``): it
    moves to that epoch as a follower and fetches from the leader. A new leader sends it to every
    voter at once and again every half ``controller.quorum.fetch.timeout.ms`` until they fetch; only
    the one that changes a voter's mind is narrated, the repeats change nothing."""

    kind = "quorum"
    voter_id: int
    leader_id: int
    epoch: int
    #: The epoch the voter was in before.
    old_epoch: int

    def describe(self) -> str:
        return (f"Controller {self.voter_id} received BeginQuorumEpoch from controller {self.leader_id}: it follows "
                f"the leader of epoch {self.epoch} (it was in epoch {self.old_epoch}).")


@dataclass(frozen=True)
class QuorumLeaderResigned(Event):
    """A leader stepped down: on shutdown, or because it stopped hearing from a majority of
    voters for 1.5 x ``controller.quorum.fetch.timeout.ms`` (check quorum, KIP-835). It
    sends EndQuorumEpoch so the voters elect a successor at once, the most caught-up first."""

    kind = "quorum"
    leader_id: int
    epoch: int
    reason: str

    def describe(self) -> str:
        return f"Controller {self.leader_id} resigned as leader of epoch {self.epoch}: {self.reason}."


@dataclass(frozen=True)
class QuorumFollowerTruncated(Event):
    """The leader answered a fetch with a diverging epoch: this replica's log holds records
    the leader never had (written by an earlier leader, never committed). It truncates to
    where the epochs agree and fetches again; committed records are never truncated."""

    kind = "quorum"
    node_id: int
    voter: bool
    leader_id: int
    epoch: int
    diverging_epoch: int
    diverging_end_offset: int
    old_log_end_offset: int
    new_log_end_offset: int

    def describe(self) -> str:
        return (f"{replica_label(self.node_id, self.voter)} truncated its metadata log from offset "
                f"{self.old_log_end_offset} to {self.new_log_end_offset}: leader {self.leader_id} (epoch {self.epoch}) "
                f"said epoch {self.diverging_epoch} ends at offset {self.diverging_end_offset}.")


@dataclass(frozen=True)
class QuorumHighWatermarkAdvanced(Event):
    """The leader's metadata high watermark moved: a majority of voters has the records below it,
    so they are committed and the controllers and brokers may apply them. The first move of
    an epoch commits the new leader's LeaderChange record and everything before it.
    Announced once per epoch and then at most once per second of cluster time."""

    kind = "quorum"
    leader_id: int
    epoch: int
    old_high_watermark: int
    new_high_watermark: int

    def describe(self) -> str:
        return (f"Controller {self.leader_id} (epoch {self.epoch}) moved the metadata high watermark from "
                f"{self.old_high_watermark} to {self.new_high_watermark}.")


@dataclass(frozen=True)
class MetadataSnapshotTaken(Event):
    """A replica wrote a snapshot of the metadata state up to an offset (KIP-630): a header
    control record, the state's records, a footer. Followers far behind load it instead of
    replaying the log, and once retention allows, the log before it can be deleted."""

    kind = "quorum"
    node_id: int
    voter: bool
    end_offset: int
    epoch: int
    size_bytes: int
    records: int

    def describe(self) -> str:
        return (f"{replica_label(self.node_id, self.voter)} took metadata snapshot {self.end_offset}-{self.epoch} "
                f"({self.records} records, {self.size_bytes} bytes).")


@dataclass(frozen=True)
class MetadataSnapshotLoaded(Event):
    """A replica's state was loaded from a snapshot: at start, or because its log was behind the
    leader's log start and it fetched the leader's snapshot (FetchSnapshot) and dropped its
    own log up to it."""

    kind = "quorum"
    node_id: int
    voter: bool
    end_offset: int
    epoch: int
    #: The leader it was fetched from, or -1 when it was read from the replica's own disk.
    fetched_from: int

    def describe(self) -> str:
        where = "from its disk" if self.fetched_from < 0 else f"fetched from leader {self.fetched_from}"
        return (f"{replica_label(self.node_id, self.voter)} loaded metadata snapshot {self.end_offset}-{self.epoch} "
                f"({where}).")


@dataclass(frozen=True)
class MetadataLogCleaned(Event):
    """A replica deleted an old snapshot and the metadata log before the next one, because the
    log and snapshots exceeded ``metadata.max.retention.bytes`` or the snapshot was older than
    ``metadata.max.retention.ms``. The newest snapshot always stays."""

    kind = "quorum"
    node_id: int
    voter: bool
    snapshot_end_offset: int
    snapshot_epoch: int
    log_start_offset: int
    reason: str

    def describe(self) -> str:
        return (f"{replica_label(self.node_id, self.voter)} deleted metadata snapshot {self.snapshot_end_offset}-"
                f"{self.snapshot_epoch} and the log before offset {self.log_start_offset}: {self.reason}.")
