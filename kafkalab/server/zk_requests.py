"""What a ZooKeeper-mode broker serves its controller, and the requests only the active controller serves.

The controller's LeaderAndIsr, UpdateMetadata and StopReplica (Kafka 3.9 ``KafkaApis.handleLeaderAndIsrRequest``
...), and the admin requests a ZooKeeper-mode broker answers only while it is the active controller
(CreateTopics, DeleteTopics, CreatePartitions, ElectLeaders, AlterPartition, ControlledShutdown); a
config change goes through the broker's own ``TopicConfigManager``. KRaft brokers forward these instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kafkalab.controller.requests import ControllerRequests
from kafkalab.coordination.client import expired_session
from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol import admin as admin_api
from kafkalab.protocol import controller_api as ctl
from kafkalab.sim.network import Responder
from kafkalab.sim.process import Future, Process, spawn

if TYPE_CHECKING:
    from kafkalab.server.broker import Broker


class ZkRequests:
    """The ZooKeeper-mode request handlers of one broker, read from the broker as it is when a request comes."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def handlers(self) -> dict[type, Callable[[Any, Responder], None]]:
        """The controller's requests, and those this broker serves when it is the controller."""
        broker = self.broker
        assert broker.replicas is not None
        replicas = broker.replicas
        return {
            ctl.LeaderAndIsrRequest: self._leader_and_isr,
            ctl.UpdateMetadataRequest: self._update_metadata,
            ctl.StopReplicaRequest: lambda r, respond: respond(replicas.handle_stop_replica(r)),
            admin_api.CreateTopicsRequest: self._controller_only(ControllerRequests.create_topics),
            admin_api.DeleteTopicsRequest: self._controller_only(ControllerRequests.delete_topics, on_queue=False),
            admin_api.CreatePartitionsRequest: self._controller_only(ControllerRequests.create_partitions),
            admin_api.ElectLeadersRequest: self._controller_only(ControllerRequests.elect_leaders),
            ctl.AlterPartitionRequest: self._controller_only(ControllerRequests.alter_partition),
            ctl.ControlledShutdownRequest: self._controller_only(ControllerRequests.controlled_shutdown),
            admin_api.IncrementalAlterConfigsRequest: self._alter_configs,
        }

    def _controller_only(self, handler: Callable[[ControllerRequests, Any], Process[Any]],
                         on_queue: bool = True) -> Callable[[Any, Responder], None]:
        """Serve a request only the active controller serves, as an event on its queue unless ``on_queue`` is False."""

        def handle(request: Any, respond: Responder) -> None:
            # The refusal's shapes include KRaft's requests; they load with the first refusal, not with a
            # ZooKeeper-mode broker (issue 18).
            from kafkalab.protocol.kraft import not_controller_response

            controller = self.broker.controller
            if controller is None or not controller.active or self.broker.ctx is None:
                respond(not_controller_response(request))
                return
            requests = ControllerRequests(controller)
            name = type(request).__name__.removesuffix("Request")
            done = (controller.submit(lambda: handler(requests, request), name) if on_queue
                    else spawn(self.broker.ctx.group, handler(requests, request), name=name))

            def answer(finished: Future[Any]) -> None:
                # A handler that finds the controller moved answers NOT_CONTROLLER, as Kafka's does; any
                # other failure is answered NOT_CONTROLLER too but stays unclaimed, so it is journaled.
                if isinstance(finished.error, KafkaError) and finished.error.error == Errors.NOT_CONTROLLER:
                    done.claim()
                respond(finished.result() if finished.error is None and finished.result() is not None
                        else not_controller_response(request))

            done.add_done_callback(answer)
        return handle

    def _leader_and_isr(self, request: ctl.LeaderAndIsrRequest, respond: Responder) -> None:
        assert self.broker.ctx is not None and self.broker.topic_configs is not None

        def process() -> Process[None]:
            assert self.broker.topic_configs is not None and self.broker.replicas is not None
            yield from self.broker.topic_configs.ensure_loaded({s.topic for s in request.partition_states})
            respond(self.broker.replicas.handle_leader_and_isr(request))

        task = spawn(self.broker.ctx.group, process(), name="LeaderAndIsr")

        def failed(_: Future[None]) -> None:
            # Answered as Kafka's request handler answers an exception. An expired session is no failure
            # (the controller sends LeaderAndIsr again once we re-register); anything else is journaled too.
            if task.error is not None:
                if expired_session(task.error):
                    task.claim()
                respond(ctl.LeaderAndIsrResponse(Errors.UNKNOWN_SERVER_ERROR, {}))

        task.add_done_callback(failed)

    def _update_metadata(self, request: ctl.UpdateMetadataRequest, respond: Responder) -> None:
        assert self.broker.ctx is not None and self.broker.replicas is not None
        if request.controller_epoch < self.broker.ctx.metadata.controller_epoch:
            respond(ctl.UpdateMetadataResponse(Errors.STALE_CONTROLLER_EPOCH))
            return
        if 0 <= request.broker_epoch < self.broker.ctx.broker_epoch:
            # Kafka's isBrokerEpochStale: meant for an earlier registration of this broker.
            respond(ctl.UpdateMetadataResponse(Errors.STALE_BROKER_EPOCH))
            return
        self.broker.ctx.metadata.update(request)
        if request.update_type is ctl.ControlRequestType.FULL:
            # Every topic is in a FULL update: local logs of any other topic were deleted meanwhile.
            self.broker.replicas.delete_stray_logs(set(self.broker.ctx.metadata.partition_counts))
        respond(ctl.UpdateMetadataResponse(Errors.NONE))

    def _alter_configs(self, request: admin_api.IncrementalAlterConfigsRequest, respond: Responder) -> None:
        ctx, topic_configs = self.broker.ctx, self.broker.topic_configs
        assert ctx is not None and topic_configs is not None
        spawn(ctx.group, topic_configs.alter(request), name="IncrementalAlterConfigs").claim().add_done_callback(
            lambda f: respond(admin_api.IncrementalAlterConfigsResponse(
                f.result() if f.error is None else admin_api.ApiResult(Errors.UNKNOWN_SERVER_ERROR, str(f.error)))))
