"""What an attached view and the lab's view of the same cluster must agree on.

A client sees leaders, replicas, ISR, log start, high watermark and last stable offset
and the leader epoch (ListOffsets from the leader), groups with their members, assignment, commits and LAG; it
does not see followers' offsets, bytes on disk or generations, so those are
left out of the comparison.
"""

from __future__ import annotations

from typing import Any

from kafkalab.views import ClusterView


def projection(view: ClusterView) -> dict[str, Any]:
    return {
        "cluster_id": view.cluster_id,
        "brokers": [(b.broker_id, b.registered, b.leader_count, b.coordinated_groups)
                    for b in view.brokers if b.registered],
        "topics": [(t.name, t.topic_id, t.internal, t.config_overrides,
                    [(p.partition, p.leader, p.leader_epoch, p.replicas, p.isr, p.log_start_offset, p.high_watermark,
                      p.last_stable_offset) for p in t.partitions])
                   for t in view.topics],
        "groups": [(g.group_id, g.state, g.protocol_type, g.protocol, g.coordinator, g.offsets_partition,
                    [(m.member_id, m.client_id, m.client_host, m.group_instance_id, sorted(m.assignment))
                     for m in g.members],
                    [(p.topic, p.partition, p.current_offset, p.log_end_offset, p.lag, p.member_id, p.client_id)
                     for p in g.partitions], g.total_lag)
                   for g in view.groups],
    }
