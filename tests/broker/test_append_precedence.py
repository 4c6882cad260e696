"""Which error a leader answers for a batch with more than one problem: Kafka 3.9's order of checks.

``UnifiedLog.append`` runs ``analyzeAndValidateRecords`` (size, CRC, base offset) and ``LogValidator``
(record-level checks) before ``analyzeAndValidateProducerState`` (duplicates, epochs, sequences): a
damaged or malformed batch is refused for that even when its producer fields would also be refused,
or would make it a retry of a batch already written.
"""

from __future__ import annotations

import pytest
from lab_clusters import Clusters

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import DuplicateBatchIgnored
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import spawn
from kafkalab.sim.scheduler import TimerGroup
from kafkalab.storage.records import encode_batch

TP = TopicPartition("orders", 0)
PRODUCER = 77


def _batch(sequence: int, epoch: int = 0, base_offset: int = 0) -> bytes:
    return encode_batch([(None, b"v%d" % sequence, (), 1)], producer_id=PRODUCER, producer_epoch=epoch,
                        base_sequence=sequence, base_offset=base_offset)


def _damaged(batch: bytes) -> bytes:
    """The batch with one bit of its last record flipped: its CRC32C no longer matches."""
    return batch[:-1] + bytes([batch[-1] ^ 1])


def _produce(cluster: Cluster, batch: bytes) -> int:
    future = spawn(TimerGroup(cluster.scheduler), cluster.raw.produce(TP, batch), name="raw produce").claim()
    return cluster.wait(future).base_offset


def _refused(cluster: Cluster, batch: bytes) -> KafkaError:
    with pytest.raises(KafkaError) as refused:
        _produce(cluster, batch)
    return refused.value


@pytest.fixture
def cluster(clusters: Clusters) -> Cluster:
    """A cluster whose ``orders-0`` already holds producer 77's sequences 0 and 1 (epoch 0)."""
    opened = clusters.open(brokers=3, seed=7)
    opened.wait(opened.create_topic("orders", 1, 3))
    assert [_produce(opened, _batch(0)), _produce(opened, _batch(1))] == [0, 1]
    return opened


def test_a_damaged_retry_of_a_written_batch_is_corrupt_not_a_duplicate(cluster: Cluster) -> None:
    mark = cluster.journal.last_seq
    assert _refused(cluster, _damaged(_batch(1))).error == Errors.CORRUPT_MESSAGE
    assert not [e for e in cluster.journal.since(mark) if isinstance(e, DuplicateBatchIgnored)]
    assert _produce(cluster, _batch(1)) == 1  # the intact retry still is one


def test_a_damaged_batch_out_of_sequence_is_corrupt(cluster: Cluster) -> None:
    assert _refused(cluster, _damaged(_batch(5))).error == Errors.CORRUPT_MESSAGE
    assert _refused(cluster, _batch(5)).error == Errors.OUT_OF_ORDER_SEQUENCE_NUMBER


def test_a_batch_with_a_base_offset_and_a_stale_epoch_is_an_invalid_record(cluster: Cluster) -> None:
    assert _produce(cluster, _batch(0, epoch=1)) == 2
    refused = _refused(cluster, _batch(2, epoch=0, base_offset=9))
    assert refused.error == Errors.INVALID_RECORD and "should be 0" in (refused.message or "")
    assert _refused(cluster, _batch(2, epoch=0)).error == Errors.INVALID_PRODUCER_EPOCH
    assert _produce(cluster, _batch(1, epoch=1)) == 3
