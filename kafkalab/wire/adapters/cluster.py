"""Metadata and DescribeCluster: the brokers (with their real listeners), topics, leaders and controller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kafkalab.errors import Errors
from kafkalab.protocol.metadata import DescribeClusterRequest, DescribeClusterResponse, MetadataRequest, MetadataResponse
from kafkalab.wire.adapters.base import Plan, RequestContext, Tree, adapts
from kafkalab.wire.apis import DESCRIBE_CLUSTER, METADATA
from kafkalab.wire.build import topic_id_of

#: Metadata v0 asked for every topic with an empty list; v1 made that null (Kafka's MetadataRequest).
METADATA_NULL_MEANS_ALL_VERSION = 1


@adapts(METADATA)
def metadata(body: Any, ctx: RequestContext) -> Plan:
    """The receiving broker's metadata cache, as Kafka answers from its own."""
    names: list[str] = []
    unknown_ids: list[str] = []
    if body.topics is not None:
        for topic in body.topics:
            name = getattr(topic, "name", None)
            if name is None:
                topic_id = topic_id_of(getattr(topic, "topic_id", None))
                name = ctx.topic_named(topic_id)
                if name is None:
                    unknown_ids.append(topic_id)
                    continue
            names.append(name)
    everything = body.topics is None or (not body.topics and ctx.api_version < METADATA_NULL_MEANS_ALL_VERSION)
    # Versions before 4 have no allow_auto_topic_creation field: they always allowed it.
    request = MetadataRequest(None if everything else tuple(names), bool(getattr(body, "allow_auto_topic_creation", True)),
                              ctx.client_id)

    def finish(results: Sequence[Any]) -> Tree:
        response: MetadataResponse = results[0]
        topics = [{"error_code": t.error, "name": t.name, "topic_id": t.topic_id, "is_internal": t.is_internal,
                   "partitions": [{"error_code": p.error, "partition_index": p.partition, "leader_id": p.leader,
                                   "leader_epoch": p.leader_epoch, "replica_nodes": p.replicas, "isr_nodes": p.isr,
                                   "offline_replicas": p.offline_replicas} for p in t.partitions]}
                  for t in response.topics]
        topics += [{"error_code": Errors.UNKNOWN_TOPIC_ID, "name": None, "topic_id": topic_id, "partitions": []}
                   for topic_id in unknown_ids]
        return {"brokers": [{"node_id": b.broker_id, "host": b.host, "port": b.port, "rack": b.rack}
                            for b in response.brokers],
                "cluster_id": response.cluster_id, "controller_id": response.controller_id, "topics": topics}

    return Plan((request,), finish)


@adapts(DESCRIBE_CLUSTER)
def describe_cluster(body: Any, ctx: RequestContext) -> Plan:
    """The brokers and the controller, as an admin client's ``describeCluster`` shows them."""

    def finish(results: Sequence[Any]) -> Tree:
        response: DescribeClusterResponse = results[0]
        return {"error_code": response.error, "cluster_id": response.cluster_id,
                "controller_id": response.controller_id,
                "brokers": [{"broker_id": b.broker_id, "host": b.host, "port": b.port, "rack": b.rack}
                            for b in response.brokers]}

    return Plan((DescribeClusterRequest(),), finish)
