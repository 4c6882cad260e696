"""The transaction APIs of KIP-98 and KIP-664, mapped onto the broker's transaction and group coordinators
(DescribeProducers onto its replicas' producer state).

InitProducerId and FindCoordinator (key type 1) are in ``groups.py``; WriteTxnMarkers is
broker-to-broker only and is not served to clients. AddPartitionsToTxn is served up to
v3: v4 and later are the brokers' own batched verification (KIP-890).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kafkalab.protocol.transactions import (
    AddOffsetsToTxnRequest,
    AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse,
    DescribeProducersRequest,
    DescribeProducersResponse,
    DescribeTransactionsRequest,
    DescribeTransactionsResponse,
    EndTxnRequest,
    EndTxnResponse,
    ListTransactionsRequest,
    ListTransactionsResponse,
    TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
)
from kafkalab.protocol.types import TopicPartition
from kafkalab.wire.adapters.base import Plan, RequestContext, Tree, adapts, by_topic
from kafkalab.wire.apis import (
    ADD_OFFSETS_TO_TXN,
    ADD_PARTITIONS_TO_TXN,
    DESCRIBE_PRODUCERS,
    DESCRIBE_TRANSACTIONS,
    END_TXN,
    LIST_TRANSACTIONS,
    TXN_OFFSET_COMMIT,
)


def _single(request: Any, to_tree: Any) -> Plan:
    return Plan((request,), lambda results: to_tree(results[0]))


@adapts(ADD_PARTITIONS_TO_TXN)
def add_partitions_to_txn(body: Any, ctx: RequestContext) -> Plan:
    partitions = tuple(TopicPartition(topic.name, int(p)) for topic in body.v3_and_below_topics
                       for p in topic.partitions)
    request = AddPartitionsToTxnRequest(body.v3_and_below_transactional_id, body.v3_and_below_producer_id,
                                        body.v3_and_below_producer_epoch, partitions)

    def tree(response: AddPartitionsToTxnResponse) -> Tree:
        return {"results_by_topic_v3_and_below": by_topic(
            response.errors.items(), lambda partition, error: {"partition_index": partition,
                                                               "partition_error_code": error},
            lambda topic: {"name": topic}, "results_by_partition")}

    return _single(request, tree)


@adapts(ADD_OFFSETS_TO_TXN)
def add_offsets_to_txn(body: Any, ctx: RequestContext) -> Plan:
    request = AddOffsetsToTxnRequest(body.transactional_id, body.producer_id, body.producer_epoch, body.group_id)
    return _single(request, lambda response: {"error_code": response.error})


@adapts(END_TXN)
def end_txn(body: Any, ctx: RequestContext) -> Plan:
    request = EndTxnRequest(body.transactional_id, body.producer_id, body.producer_epoch, bool(body.committed))

    def tree(response: EndTxnResponse) -> Tree:
        return {"error_code": response.error}

    return _single(request, tree)


@adapts(TXN_OFFSET_COMMIT)
def txn_offset_commit(body: Any, ctx: RequestContext) -> Plan:
    offsets = {TopicPartition(topic.name, p.partition_index): int(p.committed_offset)
               for topic in body.topics for p in topic.partitions}
    request = TxnOffsetCommitRequest(body.transactional_id, body.group_id, body.producer_id, body.producer_epoch,
                                     offsets, getattr(body, "generation_id", -1), getattr(body, "member_id", ""),
                                     ctx.client_id, getattr(body, "group_instance_id", None))

    def tree(response: TxnOffsetCommitResponse) -> Tree:
        return {"topics": by_topic(response.errors.items(),
                                   lambda partition, error: {"partition_index": partition, "error_code": error},
                                   lambda topic: {"name": topic})}

    return _single(request, tree)


@adapts(DESCRIBE_PRODUCERS)
def describe_producers(body: Any, ctx: RequestContext) -> Plan:
    """``kafka-transactions.sh describe-producers``: the producers this broker's replica of each partition knows."""
    request = DescribeProducersRequest(tuple(TopicPartition(topic.name, int(p)) for topic in body.topics
                                             for p in topic.partition_indexes))

    def tree(response: DescribeProducersResponse) -> Tree:
        return {"topics": by_topic(response.partitions.items(), lambda partition, answer: {
            "partition_index": partition, "error_code": answer.error, "error_message": None,
            "active_producers": [{"producer_id": p.producer_id, "producer_epoch": p.producer_epoch,
                                  "last_sequence": p.last_sequence, "last_timestamp": p.last_timestamp,
                                  "coordinator_epoch": p.coordinator_epoch,
                                  "current_txn_start_offset": p.current_txn_start_offset}
                                 for p in answer.producers]},
            lambda topic: {"name": topic}, "partitions")}

    return _single(request, tree)


@adapts(DESCRIBE_TRANSACTIONS)
def describe_transactions(body: Any, ctx: RequestContext) -> Plan:
    """``kafka-transactions.sh describe``: this broker answers for the ids it coordinates."""
    request = DescribeTransactionsRequest(tuple(body.transactional_ids))

    def tree(response: DescribeTransactionsResponse) -> Tree:
        return {"transaction_states": [
            {"error_code": t.error, "transactional_id": t.transactional_id, "transaction_state": t.state,
             "transaction_timeout": t.timeout_ms, "transaction_start_time": t.start_time_ms,
             "producer_id": t.producer_id, "producer_epoch": t.producer_epoch,
             "topics": _topics(t.partitions)}
            for t in response.transactions]}

    return _single(request, tree)


def _topics(partitions: tuple[TopicPartition, ...]) -> list[dict[str, Any]]:
    """DescribeTransactions' ``TopicData``: each topic with its partition numbers."""
    topics: dict[str, list[int]] = {}
    for tp in partitions:
        topics.setdefault(tp.topic, []).append(tp.partition)
    return [{"topic": topic, "partitions": numbers} for topic, numbers in topics.items()]


@adapts(LIST_TRANSACTIONS)
def list_transactions(body: Any, ctx: RequestContext) -> Plan:
    """``kafka-transactions.sh list``: the ids this broker coordinates, filtered by state and producer id."""
    states = set(getattr(body, "state_filters", ()))
    producers = set(getattr(body, "producer_id_filters", ()))

    def finish(results: Sequence[Any]) -> Tree:
        response: ListTransactionsResponse = results[0]
        return {"error_code": response.error, "transaction_states": [
            {"transactional_id": t.transactional_id, "producer_id": t.producer_id, "transaction_state": t.state}
            for t in response.transactions
            if (not states or t.state in states) and (not producers or t.producer_id in producers)]}

    return Plan((ListTransactionsRequest(),), finish)
