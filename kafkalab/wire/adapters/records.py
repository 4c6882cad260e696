"""Produce, Fetch, ListOffsets and OffsetForLeaderEpoch: record batches travel as the client's bytes.

Nothing here decodes a record: a produced batch is appended as sent (the log checks its
CRC and assigns offsets) and a fetch returns the log's bytes as they are on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kafkalab.errors import Errors
from kafkalab.protocol.fetch import (
    CONSUMER_REPLICA_ID,
    FINAL_SESSION_EPOCH,
    READ_UNCOMMITTED,
    EpochRequest,
    FetchPartition,
    FetchPartitionData,
    FetchRequest,
    FetchResponse,
    ListOffsetsRequest,
    ListOffsetsResponse,
    OffsetsForLeaderEpochRequest,
    OffsetsForLeaderEpochResponse,
)
from kafkalab.protocol.produce import PartitionProduceResponse, ProduceRequest, ProduceResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.leader_epoch import UNDEFINED_EPOCH
from kafkalab.wire.adapters.base import Plan, RequestContext, Tree, adapts, by_topic
from kafkalab.wire.apis import FETCH, LIST_OFFSETS, OFFSET_FOR_LEADER_EPOCH, PRODUCE
from kafkalab.wire.build import millis, topic_id_of

#: Fetch v13 (KIP-516) names topics by id instead of by name.
FETCH_TOPIC_IDS_VERSION = 13


@adapts(PRODUCE)
def produce(body: Any, ctx: RequestContext) -> Plan:
    """Each partition's batches to the leader; acks=0 gets no response, as in Kafka."""
    partitions: dict[TopicPartition, bytes] = {}
    for topic in body.topic_data:  # a loop, not a comprehension: one frame less for every produce request
        for p in topic.partition_data:
            partitions[TopicPartition(topic.name, p.index)] = bytes(p.records or b"")
    request = ProduceRequest(int(body.acks), millis(body.timeout), partitions, ctx.client_id,
                             body.transactional_id or None, abortable_errors=ctx.api_version > 10)

    def finish(results: Sequence[Any]) -> Tree | None:
        response: ProduceResponse = results[0]

        def entry(partition: int, result: PartitionProduceResponse) -> dict[str, Any]:
            return {"index": partition, "error_code": result.error, "base_offset": result.base_offset,
                    "log_start_offset": result.log_start_offset,
                    "error_message": result.message if result.error != Errors.NONE else None}

        return {"responses": by_topic(((tp, response.partitions[tp]) for tp in partitions), entry,
                                      lambda topic: {"name": topic}, "partition_responses")}

    return Plan((request,), finish, replies=request.acks != 0)


def _topic_of(topic: Any, ctx: RequestContext) -> str | None:
    """The topic a Fetch entry names: by name before v13, by id (resolved by the broker) from v13."""
    if ctx.api_version >= FETCH_TOPIC_IDS_VERSION:
        return ctx.topic_named(topic_id_of(topic.topic_id))
    return str(topic.topic)


@adapts(FETCH)
def fetch(body: Any, ctx: RequestContext) -> Plan:
    """A consumer's fetch, in its KIP-227 session if it has one; topic ids are resolved here."""
    partitions: dict[TopicPartition, FetchPartition] = {}
    unknown_ids: list[tuple[str, int]] = []
    for topic in body.topics:
        name = _topic_of(topic, ctx)
        for p in topic.partitions:
            if name is None:
                unknown_ids.append((topic_id_of(topic.topic_id), p.partition))
                continue
            # current_leader_epoch came with v9 (KIP-320); before it, -1: the broker does not check the epoch.
            partitions[TopicPartition(name, p.partition)] = FetchPartition(
                p.fetch_offset, getattr(p, "current_leader_epoch", UNDEFINED_EPOCH), p.partition_max_bytes)
    forgotten_topics = getattr(body, "forgotten_topics_data", ())
    # Nearly always empty (librdkafka and every sessionless fetch): no generator to start then.
    forgotten = tuple(
        TopicPartition(name, partition) for topic in forgotten_topics
        if (name := _topic_of(topic, ctx)) is not None for partition in topic.partitions) if forgotten_topics else ()
    # A network client is always a consumer: only brokers fetch as followers (replica_id >= 0).
    # Sessions came with v7 (KIP-227): an older fetch is sessionless, as session 0 at the final epoch says.
    request = FetchRequest(CONSUMER_REPLICA_ID, millis(body.max_wait), body.min_bytes, body.max_bytes, partitions,
                           ctx.client_id, getattr(body, "session_id", 0),
                           getattr(body, "session_epoch", FINAL_SESSION_EPOCH), forgotten,
                           int(getattr(body, "isolation_level", READ_UNCOMMITTED)))
    # The gateway's own copy for this request, taken on the engine thread: no second copy per fetch.
    ids = ctx.topic_ids

    def finish(results: Sequence[Any]) -> Tree:
        response: FetchResponse = results[0]

        def entry(partition: int, data: FetchPartitionData) -> dict[str, Any]:
            aborted = None if data.aborted_transactions is None else [
                {"producer_id": txn.producer_id, "first_offset": txn.first_offset} for txn in data.aborted_transactions]
            return {"partition_index": partition, "error_code": data.error, "high_watermark": data.high_watermark,
                    "last_stable_offset": data.last_stable_offset, "log_start_offset": data.log_start_offset,
                    "aborted_transactions": aborted, "records": data.records}

        responses = by_topic(response.partitions.items(), entry,
                             lambda topic: {"topic": topic, "topic_id": ids.get(topic, "")})
        if unknown_ids:
            responses += by_topic(((TopicPartition(topic_id, partition), None)
                                   for topic_id, partition in unknown_ids),
                                  lambda partition, _: {"partition_index": partition,
                                                        "error_code": Errors.UNKNOWN_TOPIC_ID, "high_watermark": -1},
                                  lambda topic_id: {"topic_id": topic_id})
        return {"error_code": response.error, "session_id": response.session_id, "responses": responses}

    return Plan((request,), finish)


@adapts(LIST_OFFSETS)
def list_offsets(body: Any, ctx: RequestContext) -> Plan:
    """Offsets by timestamp: -2 the log start, -1 the latest (the high watermark)."""
    wanted = {TopicPartition(topic.name, p.partition_index): int(p.timestamp)
              for topic in body.topics for p in topic.partitions}
    request = ListOffsetsRequest(wanted, CONSUMER_REPLICA_ID, int(getattr(body, "isolation_level", READ_UNCOMMITTED)))

    def finish(results: Sequence[Any]) -> Tree:
        response: ListOffsetsResponse = results[0]
        return {"topics": by_topic(response.partitions.items(),
                                   lambda partition, r: {"partition_index": partition, "error_code": r.error,
                                                         "timestamp": r.timestamp, "offset": r.offset,
                                                         "leader_epoch": r.leader_epoch},
                                   lambda topic: {"name": topic})}

    return Plan((request,), finish)


@adapts(OFFSET_FOR_LEADER_EPOCH)
def offset_for_leader_epoch(body: Any, ctx: RequestContext) -> Plan:
    """Where an epoch ended (KIP-320): a consumer checks its position after a leader change."""
    wanted = {TopicPartition(topic.topic, p.partition): EpochRequest(p.current_leader_epoch, p.leader_epoch)
              for topic in body.topics for p in topic.partitions}
    request = OffsetsForLeaderEpochRequest(CONSUMER_REPLICA_ID, wanted)

    def finish(results: Sequence[Any]) -> Tree:
        response: OffsetsForLeaderEpochResponse = results[0]
        return {"topics": by_topic(response.partitions.items(),
                                   lambda partition, r: {"partition": partition, "error_code": r.error,
                                                         "leader_epoch": r.leader_epoch, "end_offset": r.end_offset},
                                   lambda topic: {"topic": topic})}

    return Plan((request,), finish)
