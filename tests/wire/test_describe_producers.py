"""DescribeProducers (API 61, KIP-664) as ``kafka-transactions.sh describe-producers`` sends it: through the adapter
to a broker's replicas and back as Kafka's response bytes."""

from __future__ import annotations

from kio.serial import entity_reader

import kafkalab.wire.gateway  # noqa: F401  (importing the gateway registers every adapter)
from kafkalab.wire.adapters.base import ADAPTERS, RequestContext
from kafkalab.wire.apis import DESCRIBE_PRODUCERS, request_schema, response_schema
from kafkalab.wire.build import materialize
from kafkalab.wire.frames import encode_response


def _describe(cluster, broker: int, partitions: dict[str, list[int]]):
    body = materialize(request_schema(DESCRIBE_PRODUCERS, 0),
                       {"topics": [{"name": t, "partition_indexes": p} for t, p in partitions.items()]})
    plan = ADAPTERS[DESCRIBE_PRODUCERS](body, RequestContext(0, "admin", "/127.0.0.1", broker, {}))
    results = [cluster.wait(cluster.brokers[broker].request(f"broker-{broker}", request)) for request in plan.calls]
    frame = encode_response(DESCRIBE_PRODUCERS, 0, 9, plan.finish(results))
    schema = response_schema(DESCRIBE_PRODUCERS, 0)
    _, header_size = entity_reader(schema.__header_schema__)(frame, 4)
    response, _ = entity_reader(schema)(frame, 4 + header_size)
    return {(topic.name, p.partition_index): p for topic in response.topics for p in topic.partitions}


def test_describe_producers_reports_each_producer_and_its_open_transaction(clusters) -> None:
    cluster = clusters.open(brokers=3, seed=7, broker_config={"group.initial.rebalance.delay.ms": 0})
    cluster.wait(cluster.create_topic("orders", 2, 3))
    producer = cluster.producer(transactional_id="shop", client_id="shop-1")
    cluster.wait(producer.init_transactions())
    producer.begin_transaction()
    producer.send("orders", "committed", partition=0)
    cluster.wait(producer.commit_transaction())
    producer.begin_transaction()
    producer.send("orders", "open-1", partition=0)
    producer.send("orders", "open-2", partition=0)
    cluster.wait(producer.flush())
    cluster.run_for(500)
    view = cluster.snapshot().partition("orders", 0)
    follower = next(r for r in view.replicas if r != view.leader)
    for broker in (view.leader, follower):  # any replica answers from its own state, as in Kafka
        answers = _describe(cluster, broker, {"orders": [0, 1], "missing": [0]})
        (state,) = answers[("orders", 0)].active_producers
        assert answers[("orders", 0)].error_code.value == 0
        assert (state.producer_id, state.producer_epoch) == (producer.transaction_manager.producer_id,
                                                             producer.transaction_manager.producer_epoch)
        assert state.last_sequence == 2 and state.current_txn_start_offset == 2  # after the data and COMMIT marker
        assert state.last_timestamp > 0 and state.coordinator_epoch >= 0
        assert answers[("orders", 1)].active_producers == ()
        assert answers[("missing", 0)].error_code.value == 3  # UNKNOWN_TOPIC_OR_PARTITION
