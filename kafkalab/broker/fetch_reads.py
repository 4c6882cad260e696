"""What a fetch reads at the leader, and whether a waiting fetch can answer yet.

Kafka 3.9's ``ReplicaManager.readFromLog`` (the records from each partition's fetch offset up to
the end the fetch's isolation allows) and ``DelayedFetch.tryComplete`` (when a fetch waiting in
the purgatory answers). ``fetch_serving.py`` serves fetches through these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from kafkalab.broker.fetch_sessions import Told
from kafkalab.broker.partition import Partition
from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.fetch import (
    READ_COMMITTED,
    AbortedTransaction,
    FetchPartition,
    FetchPartitionData,
    FetchRequest,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.segment import CorruptSegmentError

if TYPE_CHECKING:
    from kafkalab.broker.replica_manager import ReplicaManager

#: What a waiting fetch can do now (``fetch_state``).
NOTHING_NEW, RECORDS, ANSWER = range(3)
#: Looked up once: an enum member read through its class costs about a thousand instructions, per partition answered.
_NO_ERROR = Errors.NONE


def fetch_state(replicas: ReplicaManager, request: FetchRequest, fetched: Mapping[TopicPartition, FetchPartition]) -> int:
    """Whether a waiting fetch must answer, may answer (records past a fetch offset) or has nothing new.

    ``fetched`` are the partitions of the fetch to look at: ``request.partitions``, or a follower
    session's partitions that changed (``fetch_sessions.py``).

    Kafka 3.9's ``DelayedFetch.tryComplete``: it answers when the broker no longer leads a
    partition or does not know it (cases A-C), when the fetch's leader epoch is fenced (E) or
    its offset lies past the end it may read or before the log (F); else when the records
    past the fetch offsets add up to ``min_bytes`` (G), which the caller measures by reading.
    """
    follower = request.replica_id >= 0
    partitions = replicas.partitions
    broker = replicas.ctx.broker_id
    min_bytes = request.min_bytes
    state = NOTHING_NEW
    for tp, fetch in fetched.items():
        partition = partitions.get(tp)
        if partition is None or partition.leader_id != broker:
            return ANSWER
        epoch = fetch.current_leader_epoch
        if epoch >= 0 and epoch != partition.leader_epoch:
            return ANSWER
        offset = fetch.fetch_offset
        log = partition.log
        limit = log.log_end_offset if follower else fetch_limit(replicas, partition, request)
        if offset > limit or offset < log.log_start_offset:
            return ANSWER
        if limit > offset:
            if min_bytes <= 1:
                return RECORDS  # the read answers: with the records, and with any error it meets
            state = RECORDS
    return state


def read(replicas: ReplicaManager, request: FetchRequest, fetched: Mapping[TopicPartition, FetchPartition],
         told: Told | None) -> tuple[dict[TopicPartition, FetchPartitionData], int, bool]:
    """Each of ``fetched``'s records from its fetch offset to the fetch's limit, within ``max_bytes`` (``readFromLog``).

    Returns the answers, the bytes read and whether a partition answered an error.
    """
    follower = request.replica_id >= 0
    read_committed = request.isolation_level == READ_COMMITTED
    partitions = replicas.partitions
    broker = replicas.ctx.broker_id
    results: dict[TopicPartition, FetchPartitionData] = {}
    remaining = request.max_bytes
    has_error = False
    for tp, fetch in fetched.items():
        partition = partitions.get(tp)
        if partition is None or partition.leader_id != broker:
            has_error = True
            results[tp] = FetchPartitionData(replicas.unknown_or_not_leader(tp))
            continue
        epoch = fetch.current_leader_epoch
        if 0 <= epoch < partition.leader_epoch or epoch > partition.leader_epoch:
            has_error = True
            results[tp] = FetchPartitionData(Errors.FENCED_LEADER_EPOCH if epoch < partition.leader_epoch
                                             else Errors.UNKNOWN_LEADER_EPOCH)
            continue
        log = partition.log
        limit = log.log_end_offset if follower else fetch_limit(replicas, partition, request)
        # Followers have no use for the LSO (they rebuild it from the batches): only consumers pay for it.
        lso = limit if read_committed else (-1 if follower else replicas.last_stable_offset(partition))
        aborted: tuple[AbortedTransaction, ...] | None = None
        try:
            if fetch.fetch_offset == limit:
                # Caught up: what the read answers, without going through the log's file guard.
                if told is not None and told.get(tp) == (partition.high_watermark, lso, log.log_start_offset):
                    continue
                records = b""
            else:
                # The partition's max bytes within what the fetch has left, never below 0 (without min/max calls).
                room = fetch.partition_max_bytes if fetch.partition_max_bytes < remaining else remaining
                records = log.read(fetch.fetch_offset, room if room > 0 else 0, None if follower else limit,
                                   remaining == request.max_bytes)
            if read_committed:
                # Kafka's ``UnifiedLog.collectAbortedTransactions`` for the range served (KIP-98).
                txns = log.collect_aborted_txns(fetch.fetch_offset, limit) if records else None
                aborted = tuple(AbortedTransaction(txn.producer_id, txn.first_offset) for txn in txns) if txns else ()
        except KafkaError as exc:
            if isinstance(exc, CorruptSegmentError):
                replicas.report_corruption(tp, exc, fetch.fetch_offset)
            has_error = True
            results[tp] = FetchPartitionData(exc.error, partition.high_watermark, log.log_start_offset,
                                             log.log_end_offset)
            continue
        remaining -= len(records)
        results[tp] = FetchPartitionData(_NO_ERROR, partition.high_watermark, log.log_start_offset,
                                         log.log_end_offset, records, lso, aborted)
    return results, request.max_bytes - remaining, has_error


def fetch_limit(replicas: ReplicaManager, partition: Partition, request: FetchRequest) -> int:
    """Where a fetch must stop: followers read to the log end, consumers to the high watermark,
    read_committed consumers to the last stable offset (Kafka's ``FetchIsolation``)."""
    if request.replica_id >= 0:
        return partition.log_end_offset
    if request.isolation_level == READ_COMMITTED:
        return replicas.last_stable_offset(partition, build=True)
    return partition.high_watermark
