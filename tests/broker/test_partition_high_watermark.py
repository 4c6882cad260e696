"""The leader's high watermark as Kafka 3.9's ``Partition.maybeIncrementLeaderHW`` moves it.

These drive the ``Partition`` state machine directly: a leader on broker 1 with followers
2 and 3, whose fetches are reported by offset and time.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.broker.partition import Partition
from kafkalab.protocol.controller_api import PartitionState
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log import PartitionLog
from tests.storage.storage_helpers import T0, batch, topic_config

LAG_MAX_MS = 30_000.0
EVERYONE_ALIVE = {1, 2, 3}.__contains__


def leader(tmp_path: Path, isr: tuple[int, ...] = (1, 2, 3), min_isr: int = 1, records: int = 0) -> Partition:
    """Broker 1 leading ``t-0`` (replicas 1, 2, 3) with ``records`` records already in its log."""
    config = topic_config(min_insync_replicas=min_isr)
    log = PartitionLog.open(tmp_path / "t-0", config, 0, 0, False, T0, FileHandles())[0]
    partition = Partition(1, TopicPartition("t", 0), log, config, high_watermark=0)
    partition.make_leader(PartitionState("t", 0, 1, 1, 1, isr, 1, (1, 2, 3)), now_ms=T0)
    append(partition, records)
    return partition


def append(partition: Partition, records: int) -> None:
    if records:
        partition.log.append_as_leader(batch(*[b"v"] * records), partition.leader_epoch, T0)


def advance(partition: Partition, now_ms: float = T0, eligible=EVERYONE_ALIVE) -> int:
    partition.maybe_increment_high_watermark(now_ms, LAG_MAX_MS, eligible)
    return partition.high_watermark


def test_the_high_watermark_is_the_slowest_in_sync_replica(tmp_path):
    partition = leader(tmp_path, records=10)
    partition.update_follower(2, 10, T0)
    partition.update_follower(3, 7, T0)
    assert advance(partition) == 7


def test_under_min_isr_the_high_watermark_stands_still_though_the_leader_alone_has_more(tmp_path):
    # KAFKA-15583 (Kafka 3.7+): an ISR of one below min.insync.replicas=2 commits nothing new.
    partition = leader(tmp_path, isr=(1,), min_isr=2, records=5)
    assert partition.is_under_min_isr
    assert advance(partition) == 0


def test_an_effective_min_isr_capped_at_the_replication_factor_lets_a_full_isr_commit(tmp_path):
    partition = leader(tmp_path, min_isr=5, records=4)
    assert partition.effective_min_isr == 3 and not partition.is_under_min_isr
    for follower in (2, 3):
        partition.update_follower(follower, 4, T0)
    assert advance(partition) == 4


def test_a_caught_up_follower_outside_the_isr_holds_the_high_watermark_back(tmp_path):
    partition = leader(tmp_path, isr=(1, 2), records=10)
    partition.update_follower(2, 10, T0)
    partition.update_follower(3, 10, T0)  # at the leader's end: caught up now
    append(partition, 5)  # 15 on the leader; follower 3 has 10 and may join the ISR
    partition.update_follower(2, 15, T0 + 1)
    assert advance(partition, T0 + 1) == 10, "shouldWaitForReplicaToJoinIsr: wait for follower 3"


def test_a_follower_outside_the_isr_stops_holding_it_back_once_it_lags_or_its_broker_is_gone(tmp_path):
    partition = leader(tmp_path, isr=(1, 2), records=10)
    partition.update_follower(2, 10, T0)
    partition.update_follower(3, 10, T0)
    append(partition, 5)
    partition.update_follower(2, 15, T0 + 1)
    assert advance(partition, T0 + 1, eligible={1, 2}.__contains__) == 15, "a dead broker's replica is not waited for"
    other = leader(tmp_path / "again", isr=(1, 2), records=10)
    other.update_follower(2, 10, T0)
    other.update_follower(3, 10, T0)
    append(other, 5)
    other.update_follower(2, 15, T0 + LAG_MAX_MS + 1)
    assert advance(other, T0 + LAG_MAX_MS + 1) == 15, "past replica.lag.time.max.ms it is no longer caught up"


def test_a_follower_of_a_dead_broker_cannot_join_the_isr(tmp_path):
    partition = leader(tmp_path, isr=(1, 2), records=3)
    partition.update_follower(3, 3, T0)
    assert partition.follower_can_join_isr(3, EVERYONE_ALIVE)
    assert not partition.follower_can_join_isr(3, {1, 2}.__contains__)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_high_watermark_never_passes_an_in_sync_replica_nor_moves_under_min_isr(tmp_path_factory, data):
    isr = data.draw(st.sampled_from([(1,), (1, 2), (1, 3), (1, 2, 3)]))
    min_isr = data.draw(st.integers(1, 4))
    records = data.draw(st.integers(1, 20))
    partition = leader(tmp_path_factory.mktemp("p"), isr=isr, min_isr=min_isr, records=records)
    ends = {f: data.draw(st.integers(0, records)) for f in (2, 3)}
    for follower, end in ends.items():
        partition.update_follower(follower, end, T0)
    high_watermark = advance(partition)
    if len(isr) < min(min_isr, 3):
        assert high_watermark == 0
    else:
        assert high_watermark <= min([records, *(ends[f] for f in isr if f != 1)])


def test_only_a_fetch_that_moves_the_followers_end_asks_for_a_new_high_watermark(tmp_path):
    # Kafka 3.9's updateFollowerFetchState tries maybeIncrementLeaderHW only when the follower's
    # log end offset changed: the replica manager skips the attempt when this returns False.
    partition = leader(tmp_path, records=10)
    assert partition.update_follower(2, 4, T0)
    assert not partition.update_follower(2, 4, T0 + 1)
    assert partition.update_follower(2, 10, T0 + 2)
    assert not partition.update_follower(9, 10, T0 + 3)  # not a replica of the partition
