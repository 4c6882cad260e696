"""The ``describe_*`` results, shaped as the scenario report documents them."""

from __future__ import annotations

from typing import Any

from kafkalab.cluster.views import ClusterView
from kafkalab.errors import Errors, KafkaError


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
