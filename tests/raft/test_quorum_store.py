"""The ``quorum-state`` file: Kafka's JSON, written atomically, and refused when unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab.errors import Errors, KafkaError
from kafkalab.raft.quorum_store import QUORUM_STATE_FILE, ElectionState, QuorumStateStore


def test_the_file_is_kafkas_quorum_state_data_version_zero(tmp_path: Path) -> None:
    QuorumStateStore(tmp_path).write(ElectionState(7, leader_id=1, voted_id=1), voters=[3, 1, 2])
    assert (tmp_path / QUORUM_STATE_FILE).read_text() == (
        '{"clusterId":"","leaderId":1,"leaderEpoch":7,"votedId":1,"appliedOffset":0,'
        '"currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}')
    assert not (tmp_path / "quorum-state.tmp").exists()


def test_what_is_written_is_read_back_and_no_file_means_nothing_yet(tmp_path: Path) -> None:
    store = QuorumStateStore(tmp_path)
    assert store.read() is None
    for election in (ElectionState(0), ElectionState(3, voted_id=2), ElectionState(4, leader_id=3)):
        store.write(election, voters=[1, 2, 3])
        assert store.read() == election


def test_kafkas_version_one_file_is_read(tmp_path: Path) -> None:
    (tmp_path / QUORUM_STATE_FILE).write_text(
        '{"leaderId":-1,"leaderEpoch":2,"votedId":1,"votedDirectoryId":"J8aAPcfLQt2bqs1JT_rMgQ","data_version":1}')
    assert QuorumStateStore(tmp_path).read() == ElectionState(2, None, 1)


@pytest.mark.parametrize("content", ["", "not json", '{"leaderEpoch": 1}', '{"leaderId":-1,"leaderEpoch":-3,'
                                     '"votedId":-1,"data_version":0}', '{"leaderId":-1,"leaderEpoch":1,"votedId":-1,'
                                     '"data_version":7}', '[1, 2]'])
def test_an_unreadable_file_is_a_storage_error_naming_it(tmp_path: Path, content: str) -> None:
    (tmp_path / QUORUM_STATE_FILE).write_text(content)
    with pytest.raises(KafkaError) as raised:
        QuorumStateStore(tmp_path).read()
    assert raised.value.error is Errors.KAFKA_STORAGE_ERROR
    assert str(tmp_path / QUORUM_STATE_FILE) in raised.value.message
