"""KIP-98 idempotence: a retry after a lost acknowledgement duplicates a record only without it."""

from __future__ import annotations

from clients_helpers import events, lose_next_ack, open_cluster

from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import DuplicateBatchIgnored, ProduceRetried, ProducerIdAssigned
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import spawn
from kafkalab.sim.scheduler import TimerGroup
from kafkalab.storage.records import encode_batch

TP = TopicPartition("orders", 0)


def _values(cluster):
    return [r.value for r in cluster.wait(cluster.fetch("orders", 0, 0))]


def _send_with_lost_ack(cluster, producer):
    lose_next_ack(cluster, producer.client_id, "orders", 0, heal_after_ms=1000)
    future = producer.send("orders", "payment-42", partition=0)
    cluster.wait(future, timeout_ms=60_000)
    return future.result()


def test_with_idempotence_the_retry_is_recognised_and_written_once(clusters):
    cluster = open_cluster(clusters, partitions=1)
    producer = cluster.producer(request_timeout_ms=5000)
    assert producer.idempotent
    mark = cluster.journal.last_seq
    result = _send_with_lost_ack(cluster, producer)
    assert result.offset == 0
    assert [e.error for e in events(cluster, mark, ProduceRetried)] == ["REQUEST_TIMED_OUT"]
    duplicates = events(cluster, mark, DuplicateBatchIgnored)
    assert [(d.producer_id, d.first_sequence, d.base_offset) for d in duplicates] == [(producer.producer_id, 0, 0)]
    assert _values(cluster) == [b"payment-42"]


def test_without_idempotence_the_retry_really_duplicates_the_record(clusters):
    cluster = open_cluster(clusters, partitions=1)
    producer = cluster.producer(request_timeout_ms=5000, enable_idempotence=False)
    mark = cluster.journal.last_seq
    result = _send_with_lost_ack(cluster, producer)
    assert result.offset == 1  # the retry's own, second copy
    assert events(cluster, mark, DuplicateBatchIgnored) == []
    assert _values(cluster) == [b"payment-42", b"payment-42"]


def test_producer_ids_come_from_zookeeper_blocks_and_never_repeat(clusters):
    cluster = open_cluster(clusters, partitions=1)
    mark = cluster.journal.last_seq
    producers = [cluster.producer() for _ in range(3)]
    for producer in producers:
        cluster.wait(producer.send("orders", "hello"))
    ids = [e.producer_id for e in events(cluster, mark, ProducerIdAssigned)]
    assert len(set(ids)) == 3 and sorted(ids) == sorted(p.producer_id for p in producers)
    block = cluster.coordinator.tree.nodes["/latest_producer_id_block"].data
    assert '"block_start":"0"' in block and '"block_end":"999"' in block


def _raw_produce(cluster, batch):
    return cluster.wait(spawn(TimerGroup(cluster.scheduler), cluster.raw.produce(TP, batch), name="raw produce").claim())


def test_sequence_state_is_rebuilt_from_the_log_after_a_restart(clusters):
    cluster = open_cluster(clusters, partitions=1)
    first = encode_batch([(None, b"a", (), 1), (None, b"b", (), 1)], producer_id=77, producer_epoch=0, base_sequence=0)
    assert _raw_produce(cluster, first).base_offset == 0
    cluster.close()
    reopened = clusters.open(cluster.data_dir.path)
    mark = reopened.journal.last_seq
    assert _raw_produce(reopened, first).base_offset == 0  # recognised from the batch headers on disk
    assert len(events(reopened, mark, DuplicateBatchIgnored)) == 1
    gap = encode_batch([(None, b"d", (), 1)], producer_id=77, producer_epoch=0, base_sequence=5)
    try:
        _raw_produce(reopened, gap)
        raise AssertionError("a sequence gap must be refused")
    except KafkaError as error:
        assert error.error == Errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    following = encode_batch([(None, b"c", (), 1)], producer_id=77, producer_epoch=0, base_sequence=2)
    assert _raw_produce(reopened, following).base_offset == 2
    assert [r.value for r in reopened.wait(reopened.fetch("orders", 0, 0))] == [b"a", b"b", b"c"]
