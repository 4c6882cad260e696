"""What an attached view and the lab's view of the same cluster must agree on.

A client sees leaders, replicas, ISR, log start, high watermark and last stable offset
and the leader epoch (ListOffsets from the leader), topic configs with their sources and
brokers' settings (DescribeConfigs), groups with their members, assignment, commits and LAG; it
does not see followers' offsets, bytes on disk or generations, so those are
left out of the comparison.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafkalab.attach.source import AttachSource, Snapshot
from kafkalab.views import ClusterView
from tests.attach.lab_server import LabServer


def projection(view: ClusterView) -> dict[str, Any]:
    return {
        "cluster_id": view.cluster_id,
        "brokers": [(b.broker_id, b.registered, b.leader_count, b.coordinated_groups, b.settings)
                    for b in view.brokers if b.registered],
        "topics": [(t.name, t.topic_id, t.internal, t.config_overrides, t.configs,
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


def agreeing(lab: LabServer, source: AttachSource, timeout_s: float = 45.0,
              until: Callable[[dict[str, Any]], bool] = lambda p: True) -> Snapshot:
    """Poll until a round's projection equals the lab's, with no problem in the round (and ``until`` holds).

    The lab moves on its live clock, so one round may see a step half done; and after a broker dies, the
    client's metadata may still name it for a while, so a round may time out asking it (a problem the round
    reports). What must hold is that a whole round agrees once things settle.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        snapshot = source.poll_once()
        assert snapshot is not None
        attached, own = projection(snapshot.view), projection(lab.view())
        if attached == own and until(own) and not snapshot.problems:
            return snapshot
        if time.monotonic() > deadline:
            assert attached == own, snapshot.problems
            assert snapshot.problems == ()
            raise AssertionError(f"the condition never held: {own}")
        time.sleep(0.2)
