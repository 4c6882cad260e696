"""The ``describe_*`` results, shaped as the scenario report documents them."""

from __future__ import annotations

from typing import Any

from kafkalab.errors import Errors, KafkaError
from kafkalab.views import ClusterView


def describe_topic(view: ClusterView, topic: str) -> dict[str, Any]:
    """Each partition's leader (None when offline), replicas, ISR, epoch and offsets."""
    topic_view = view.topic(topic)
    if topic_view is None:
        raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{topic}' does not exist.")
    return {"topic": topic, "partitions": [
        {"partition": p.partition, "leader": p.leader, "replicas": list(p.replicas), "isr": list(p.isr),
         "leader_epoch": p.leader_epoch, "log_start_offset": p.log_start_offset,
         "high_watermark": p.high_watermark, "log_end_offset": p.log_end_offset}
        for p in topic_view.partitions]}


def split_partition_name(name: str) -> dict[str, Any]:
    """``orders-0`` as ``{"topic": "orders", "partition": 0}`` (topics may contain '-')."""
    topic, partition = name.rsplit("-", 1)
    return {"topic": topic, "partition": int(partition)}


def describe_group(view: ClusterView, group_id: str) -> dict[str, Any]:
    """A group's state, generation, strategy and each member's assignment."""
    group = view.group(group_id)
    if group is None:
        raise KafkaError(Errors.GROUP_ID_NOT_FOUND, f"Group '{group_id}' does not exist (or its coordinator is down).")
    return {"group": group_id, "state": group.state, "generation": group.generation, "strategy": group.protocol,
            "members": [{"client_id": member.client_id,
                         "assignment": [split_partition_name(name) for name in member.assignment]}
                        for member in sorted(group.members, key=lambda m: (m.client_id, m.member_id))]}
