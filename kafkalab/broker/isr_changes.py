"""A leader's ISR changes (KIP-497): proposed by the leader, committed by the controller.

Kafka 3.9's ``Partition.maybeExpandIsr`` / ``maybeShrinkIsr`` decide; its
``AlterPartitionManager`` sends the proposal and retries until the controller answers.
One change per partition is in flight at a time (``Partition.pending_isr``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.broker.partition import Partition
from kafkalab.errors import Errors
from kafkalab.events.cluster import IsrExpanded, IsrShrunk
from kafkalab.protocol.controller_api import AlterPartitionRequest

#: How long a leader waits before resending an unanswered AlterPartition (Kafka's retry backoff).
ALTER_PARTITION_RETRY_BACKOFF_MS = 100


class IsrChanges:
    """Proposes ISR expansions and shrinks for the partitions a broker leads."""

    def __init__(self, ctx: BrokerContext, leader_partitions: Callable[[], list[Partition]],
                 after_commit: Callable[[Partition], None]) -> None:
        self.ctx = ctx
        self._leader_partitions = leader_partitions
        self._after_commit = after_commit

    def eligible(self, replica: int) -> bool:
        """ZooKeeper mode's ``isReplicaIsrEligible``: the broker is alive in this broker's metadata (Kafka 3.9)."""
        return replica in self.ctx.metadata.brokers

    def maybe_expand(self, partition: Partition, replica: int) -> None:
        """Propose adding ``replica`` once it has caught up with the leader (``maybeExpandIsr``)."""
        if partition.pending_isr is None and partition.follower_can_join_isr(replica, self.eligible):
            self._propose(partition, tuple(sorted((*partition.isr, replica))), reason="")

    def shrink_if_needed(self) -> None:
        """Propose dropping followers that lag more than ``replica.lag.time.max.ms`` (``maybeShrinkIsr``)."""
        lag = self.ctx.config["replica.lag.time.max.ms"]
        for partition in self._leader_partitions():
            if partition.pending_isr is not None:
                continue
            out = partition.out_of_sync_followers(self.ctx.now_ms, lag)
            if out:
                new_isr = tuple(r for r in partition.isr if r not in out)
                self._propose(partition, new_isr, reason=f"not caught up for more than replica.lag.time.max.ms={lag}")

    def _propose(self, partition: Partition, new_isr: tuple[int, ...], reason: str) -> None:
        if self.ctx.metadata.controller_node() is None:
            return
        partition.pending_isr = new_isr
        self._send(partition, new_isr, partition.isr, reason)

    def _send(self, partition: Partition, new_isr: tuple[int, ...], old_isr: tuple[int, ...], reason: str) -> None:
        """Send the pending ISR change; like Kafka's AlterPartitionManager, retry until the controller answers.

        A lost answer must not strand the change: the controller may have committed it,
        and only a retry (which it answers idempotently) tells the leader so.
        """
        if partition.pending_isr != new_isr or not partition.is_leader:
            return  # superseded by a LeaderAndIsr or another proposal
        controller = self.ctx.metadata.controller_node()
        request = AlterPartitionRequest(self.ctx.broker_id, self.ctx.broker_epoch, partition.tp,
                                        partition.leader_epoch, new_isr, partition.partition_epoch)

        def on_response(response: Any, error: Errors | None) -> None:
            if partition.pending_isr != new_isr:
                return
            if controller is None or error is not None or response.error == Errors.NOT_CONTROLLER:
                self.ctx.group.call_later(ALTER_PARTITION_RETRY_BACKOFF_MS, self._send, partition, new_isr, old_isr,
                                          reason)
                return
            partition.pending_isr = None
            if response.error != Errors.NONE or response.state is None:
                return
            if response.state.leader_epoch != partition.leader_epoch:
                return
            partition.commit_isr(response.state)
            self._narrate(partition, old_isr, reason)
            self._after_commit(partition)

        if controller is None:
            on_response(None, Errors.NOT_CONTROLLER)
            return
        self.ctx.network.request(self.ctx.node, controller, request, on_response, self.ctx.config["request.timeout.ms"])

    def _narrate(self, partition: Partition, old_isr: tuple[int, ...], reason: str) -> None:
        tp = partition.tp
        added = tuple(r for r in partition.isr if r not in old_isr)
        removed = tuple(r for r in old_isr if r not in partition.isr)
        if added:
            self.ctx.journal.emit(IsrExpanded, topic=tp.topic, partition=tp.partition, leader=self.ctx.broker_id,
                                  added=added, isr=partition.isr)
        if removed:
            self.ctx.journal.emit(IsrShrunk, topic=tp.topic, partition=tp.partition, leader=self.ctx.broker_id,
                                  removed=removed, isr=partition.isr, reason=reason)
