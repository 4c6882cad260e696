"""Damaged bytes in a partition log are found, narrated and never delivered as records."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster_helpers import FAST, events_since, open_cluster, partition, run_checked
from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import PollFailed
from kafkalab.events.cluster import LeaderElected, LogTruncated
from kafkalab.events.failures import ReplicaFetchFailed
from kafkalab.events.storage import CorruptDataFound, LogRecovered
from kafkalab.protocol.types import TopicPartition
from kafkalab.session.session import Session
from kafkalab.storage.log import PartitionLog
from kafkalab.storage.records import iter_batch_headers

FIRST_SEGMENT = "00000000000000000000.log"


def segment_file(cluster: Cluster, broker_id: int, topic: str, number: int) -> Path:
    return cluster.data_dir.broker_dir(broker_id) / f"{topic}-{number}" / FIRST_SEGMENT


def damage(path: Path, position: int, mask: int = 0x01) -> None:
    """Flip bits of one byte in place, as a failing disk would (the broker's open descriptors see it)."""
    with open(path, "r+b") as file:
        file.seek(position)
        byte = file.read(1)[0]
        file.seek(position)
        file.write(bytes([byte ^ mask]))


def batch_positions(path: Path) -> list[tuple[int, int]]:
    """(position, base offset) of each batch in a segment file."""
    return [(position, header.base_offset) for position, header in iter_batch_headers(path.read_bytes())]


def produce_batches(cluster: Cluster, topic: str, number: int, batches: int, records: int = 3) -> None:
    for b in range(batches):
        cluster.wait(cluster.produce(topic, number, [(b"k", b"value-%d-%d" % (b, r)) for r in range(records)]))


def poll_until_error(cluster: Cluster, consumer, polls: int = 20) -> tuple[list, KafkaError | None]:
    records = []
    for _ in range(polls):
        try:
            records += cluster.wait(consumer.poll(200))
        except KafkaError as exc:
            return records, exc
    return records, None


def test_a_flipped_byte_on_the_leader_fails_the_poll_naming_partition_and_offset(clusters: Clusters, tmp_path: Path) -> None:
    cluster = open_cluster(clusters, brokers=1)
    cluster.wait(cluster.create_topic("t", 1, 1))
    produce_batches(cluster, "t", 0, 3)
    path = segment_file(cluster, 1, "t", 0)
    cluster.close()
    (_, _), (second, second_offset), _ = batch_positions(path)
    damage(path, second + 70)

    cluster = Cluster.open(tmp_path / "data")
    cluster.wait(cluster.start())
    seq = cluster.journal.last_seq
    consumer = cluster.consumer(auto_offset_reset="earliest")
    consumer.assign([TopicPartition("t", 0)])
    records, error = poll_until_error(cluster, consumer)
    assert [r.value for r in records] == [b"value-0-0", b"value-0-1", b"value-0-2"]
    assert error is not None and error.error is Errors.CORRUPT_MESSAGE
    assert f"offset {second_offset} for topic-partition t-0" in error.message
    with pytest.raises(KafkaError):
        cluster.wait(consumer.poll(200))  # the position stays at the damage: every poll fails alike
    found = events_since(cluster, seq, CorruptDataFound)
    assert len(found) == 1
    assert (found[0].file, found[0].position, found[0].offset) == (str(path), second, second_offset)
    assert "CRC32C" in found[0].describe() and "t-0" in found[0].describe()
    consumer.seek(TopicPartition("t", 0), second_offset + 3)
    assert [r.offset for r in poll_until_error(cluster, consumer, polls=3)[0]] == [6, 7, 8]


def test_zeroed_bytes_on_the_leader_end_in_an_event_and_a_clear_poll_error(clusters: Clusters) -> None:
    cluster = open_cluster(clusters, brokers=1)
    cluster.wait(cluster.create_topic("t", 1, 1))
    produce_batches(cluster, "t", 0, 3)
    path = segment_file(cluster, 1, "t", 0)
    (_, _), (second, _), (third, _) = batch_positions(path)
    with open(path, "r+b") as file:  # zeroed under the running broker, as a failing disk would
        file.seek(second)
        file.write(bytes(third - second))
    session_consumer = cluster.consumer(auto_offset_reset="earliest")
    session_consumer.assign([TopicPartition("t", 0)])
    records, error = poll_until_error(cluster, session_consumer)
    assert len(records) == 3 and error is not None and error.error is Errors.CORRUPT_MESSAGE
    (found,) = cluster.journal.of_type(CorruptDataFound)
    assert found.position == second and "size 12" in found.problem


def _two_partitions_with_one_leader(cluster: Cluster, topic: str, count: int) -> tuple[int, int, int, int]:
    """(leader, follower, p, q): partitions p and q both led by ``leader`` and followed by ``follower``."""
    views = [partition(cluster, topic, n) for n in range(count)]
    for p in views:
        for q in views:
            if p.partition < q.partition and p.leader == q.leader:
                follower = next(r for r in p.replicas if r != p.leader and r in q.replicas)
                return p.leader, follower, p.partition, q.partition
    raise AssertionError("no two partitions share a leader")


def test_a_follower_refuses_damaged_bytes_and_keeps_replicating_its_other_partitions(
        clusters: Clusters, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = open_cluster(clusters, **FAST)
    cluster.wait(cluster.create_topic("t", 6, 3))
    leader, follower, damaged, healthy = _two_partitions_with_one_leader(cluster, "t", 6)
    produce_batches(cluster, "t", damaged, 1)
    log = cluster.brokers[leader].replicas.partitions[TopicPartition("t", damaged)].log
    read = PartitionLog.read

    def unchecked_read(self: PartitionLog, *args, **kwargs) -> bytes:
        # What Kafka's zero-copy leader does: send the stored bytes unchecked, here with one bit flipped.
        data = bytearray(read(self, *args, **kwargs))
        if self is log and len(data) > 80:
            data[80] ^= 0x01
        return bytes(data)

    monkeypatch.setattr(PartitionLog, "read", unchecked_read)
    produce_batches(cluster, "t", damaged, 1)
    cluster.wait(cluster.produce("t", healthy, [(b"k", b"still flowing")], acks=1))
    run_checked(cluster, 2000)
    refused = [e for e in clusters.acknowledge(cluster) if isinstance(e, ReplicaFetchFailed) and e.partition == damaged]
    assert refused and refused[0].broker_id == follower and refused[0].error == "CORRUPT_MESSAGE"
    assert "Record is corrupt" in refused[0].message and len(refused) <= 2  # once per follower, not per retry
    replicas = cluster.brokers[follower].replicas.partitions
    assert replicas[TopicPartition("t", damaged)].log_end_offset == 3
    assert replicas[TopicPartition("t", healthy)].log_end_offset == partition(cluster, "t", healthy).log_end_offset


def test_a_damaged_tail_on_a_running_leader_stops_its_followers_with_an_event(clusters: Clusters) -> None:
    cluster = open_cluster(clusters, **FAST)
    cluster.wait(cluster.create_topic("t", 1, 3))
    view = partition(cluster, "t", 0)
    produce_batches(cluster, "t", 0, 1)
    for other in view.replicas:
        if other != view.leader:
            cluster.cut_link(view.leader, other)
    seq = cluster.journal.last_seq
    cluster.wait(cluster.produce("t", 0, [(b"k", b"unreplicated")], acks=1))
    path = segment_file(cluster, view.leader, "t", 0)
    damage(path, path.stat().st_size - 4)
    for other in view.replicas:
        if other != view.leader:
            cluster.heal_link(view.leader, other)
    run_checked(cluster, 40_000)  # the fetches lost with the links time out first
    (found,) = events_since(cluster, seq, CorruptDataFound)
    assert found.broker_id == view.leader and found.offset == 3
    stuck = [e for e in clusters.acknowledge(cluster) if isinstance(e, ReplicaFetchFailed)]
    assert {e.broker_id for e in stuck} == set(view.replicas) - {view.leader}
    assert all(e.fetch_offset == 3 and e.error == "CORRUPT_MESSAGE" for e in stuck)
    assert all(r.log_end_offset == 3 for r in partition(cluster, "t", 0).replica_views if r.broker_id != view.leader)


def test_the_session_poll_loop_reports_a_failing_poll_once(clusters: Clusters) -> None:
    cluster = open_cluster(clusters, brokers=1)
    cluster.wait(cluster.create_topic("t", 1, 1))
    produce_batches(cluster, "t", 0, 1)
    path = segment_file(cluster, 1, "t", 0)
    damage(path, 70)
    session = Session(cluster)
    session.clients.start_consumer("g", "reader", ("t",), {"auto.offset.reset": "earliest"}, background=True)
    cluster.run_for(15_000)
    failed = cluster.journal.of_type(PollFailed)
    assert len(failed) == 1 and failed[0].client_id == "reader" and "t-0" in failed[0].reason


@pytest.mark.parametrize("replica", ["follower", "leader"])
def test_a_torn_tail_under_a_clean_shutdown_marker_is_recovered_and_the_partition_stays_writable(clusters: Clusters,
        tmp_path: Path, replica: str) -> None:
    cluster = open_cluster(clusters, **FAST)
    cluster.wait(cluster.create_topic("t", 1, 3, {"min.insync.replicas": 2}))
    produce_batches(cluster, "t", 0, 3)
    run_checked(cluster, 1000)  # the followers learn the high watermark: every record is acknowledged everywhere
    view = partition(cluster, "t", 0)
    torn = view.leader if replica == "leader" else next(r for r in view.replicas if r != view.leader)
    path = segment_file(cluster, torn, "t", 0)
    cluster.close()
    path.write_bytes(path.read_bytes()[:-9])  # the marker is there, the last batch is not whole

    cluster = Cluster.open(tmp_path / "data")
    cluster.wait(cluster.start())
    (recovered,) = [e for e in cluster.journal.of_type(LogRecovered) if e.broker_id == torn]
    assert "does not end on a whole batch" in recovered.describe()
    run_checked(cluster, 3000)
    if replica == "leader":
        # No election was unclean: the leader's own recovery lost the batch, and the timeline says so.
        assert recovered.committed_lost == 3 and "DATA LOSS" in recovered.describe()
        assert not [e for e in cluster.journal.of_type(LeaderElected) if e.unclean]
        cut = cluster.journal.of_type(LogTruncated)
        assert {e.committed_lost for e in cut} == {3} and all("log recovery" in e.describe() for e in cut)
    cluster.wait(cluster.produce("t", 0, [(b"k", b"after")]))
    run_checked(cluster, 3000)
    # The leader's copy of the last batch is gone, as in Kafka, which reads the same end offset from the torn file.
    end = 7 if replica == "leader" else 10
    view = partition(cluster, "t", 0)
    assert {r.log_end_offset for r in view.replica_views} == {end} and len(view.isr) == 3
    consumer = cluster.consumer(auto_offset_reset="earliest")
    consumer.assign([TopicPartition("t", 0)])
    records, error = poll_until_error(cluster, consumer, polls=5)
    assert error is None and [r.offset for r in records] == list(range(end)) and records[-1].value == b"after"


def test_a_damaged_batch_does_not_stop_idempotent_producers_from_writing(clusters: Clusters, tmp_path: Path) -> None:
    cluster = open_cluster(clusters, brokers=1)
    cluster.wait(cluster.create_topic("t", 1, 1))
    producer = cluster.producer()
    for n in range(3):
        producer.send("t", b"v%d" % n, partition=0)
    cluster.wait(producer.close())
    path = segment_file(cluster, 1, "t", 0)
    cluster.close()
    damage(path, 70)  # the producer state is rebuilt from the batches on the first idempotent write

    cluster = Cluster.open(tmp_path / "data")
    cluster.wait(cluster.start())
    producer = cluster.producer()
    result = cluster.wait(producer.send("t", b"after", partition=0))
    assert result.offset == 3
