"""The ``quorum-state`` file: a voter's epoch, leader and vote, kept across restarts (Kafka's ``FileQuorumStateStore``).

Raft is safe only if a voter never votes twice in one epoch, even across a crash, so
the file is written and fsynced before a vote is answered (``durableTransitionTo``):
one JSON line written to ``quorum-state.tmp``, fsynced, renamed over the old file and
the directory fsynced. The format is Kafka's ``QuorumStateData`` version 0, which Kafka
4.1 writes for a quorum with static voters (``controller.quorum.voters``, kraft.version 0)::

    {"clusterId":"","leaderId":1,"leaderEpoch":7,"votedId":1,"appliedOffset":0,
     "currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.files import fsync_directory

QUORUM_STATE_FILE = "quorum-state"
DATA_VERSION = 0
#: ``leaderId`` / ``votedId`` when there is none.
NOT_SET = -1


@dataclass(frozen=True)
class ElectionState:
    """What a replica persists about its epoch: the leader it knows and the candidate it voted for (``ElectionState``)."""

    epoch: int
    leader_id: int | None = None
    voted_id: int | None = None


def _storage_error(path: Path, what: str) -> KafkaError:
    return KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Error while {what} the quorum state file {path}.")


class QuorumStateStore:
    """Reads and durably writes one replica's ``quorum-state`` file."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / QUORUM_STATE_FILE

    def read(self) -> ElectionState | None:
        """The stored election state, or None when there is no file yet.

        Raises KAFKA_STORAGE_ERROR when the file cannot be read or parsed: as in Kafka 4.1,
        a replica must not start from a vote it cannot read (it might vote twice).
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Cannot read the quorum state file {self.path}: "
                                                         f"{exc.strerror}.") from None
        try:
            data = json.loads(text.splitlines()[0] if text else "")
            version = data["data_version"]
            epoch, leader_id, voted_id = data["leaderEpoch"], data["leaderId"], data["votedId"]
        except (ValueError, KeyError, TypeError, IndexError):
            raise _storage_error(self.path, "parsing") from None
        if version not in (0, 1) or not all(isinstance(v, int) for v in (epoch, leader_id, voted_id)) or epoch < 0:
            raise _storage_error(self.path, f"reading (data_version {version!r}, epoch {epoch!r})")
        return ElectionState(epoch, None if leader_id < 0 else leader_id, None if voted_id < 0 else voted_id)

    def write(self, election: ElectionState, voters: Iterable[int]) -> None:
        """Replace the file with ``election`` and fsync it (and its directory) before returning."""
        data = {"clusterId": "", "leaderId": NOT_SET if election.leader_id is None else election.leader_id,
                "leaderEpoch": election.epoch, "votedId": NOT_SET if election.voted_id is None else election.voted_id,
                "appliedOffset": 0, "currentVoters": [{"voterId": voter} for voter in sorted(voters)],
                "data_version": DATA_VERSION}
        temp = self.path.with_name(self.path.name + ".tmp")
        try:
            with open(temp, "w", encoding="utf-8") as file:
                file.write(json.dumps(data, separators=(",", ":")))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.path)
            fsync_directory(self.path.parent)
        except OSError as exc:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Error while writing the quorum state file {self.path}: "
                                                         f"{exc.strerror}.") from None
