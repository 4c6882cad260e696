"""Actions on KRaft's controller quorum: kill or restart a controller, describe the quorum.

A ZooKeeper-mode cluster refuses them with INVALID_ARGUMENT (its controller is a broker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafkalab.actions.base import Action, doc, register
from kafkalab.actions.results import ControllerResult, DescribeQuorumResult, QuorumReplica
from kafkalab.session.session import Session

if TYPE_CHECKING:
    from kafkalab.raft.views import ReplicaProgress


@register
@dataclass(frozen=True)
class KillController(Action[ControllerResult]):
    step = "kill_controller"
    summary = "KRaft: crash a controller; if it was the active one, the quorum elects another."
    shorthand = "controller"

    controller: int = doc("Controller id (101, 102 ...).", examples=[101])

    def run(self, session: Session) -> ControllerResult:
        session.cluster.kill_controller(self.controller)
        return ControllerResult(self.controller)


@register
@dataclass(frozen=True)
class RestartController(Action[ControllerResult]):
    step = "restart_controller"
    summary = "KRaft: start a stopped controller; it replays its metadata log and rejoins the quorum."
    shorthand = "controller"

    controller: int = doc("Controller id (101, 102 ...).", examples=[101])

    def run(self, session: Session) -> ControllerResult:
        session.cluster.restart_controller(self.controller)
        return ControllerResult(self.controller)


@register
@dataclass(frozen=True)
class DescribeQuorum(Action[DescribeQuorumResult]):
    step = "describe_quorum"
    summary = "KRaft: the quorum's leader, epoch, high watermark, and each voter's and observer's lag."

    def run(self, session: Session) -> DescribeQuorumResult:
        quorum = session.cluster.describe_quorum()

        def replicas(progress: tuple[ReplicaProgress, ...]) -> tuple[QuorumReplica, ...]:
            return tuple(QuorumReplica(r.node_id, r.log_end_offset, quorum.lag(r)) for r in progress)

        return DescribeQuorumResult(quorum.leader_id, quorum.leader_epoch, quorum.high_watermark,
                                    replicas(quorum.voters), replicas(quorum.observers))
