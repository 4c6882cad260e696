"""Topic deletion the way Kafka's ZooKeeper-mode controller does it (``TopicDeletionManager``).

Kafka 3.9, ``core/src/main/scala/kafka/controller/TopicDeletionManager.scala``: a deletion
is first persisted as ``/admin/delete_topics/<topic>``, so whichever controller is active
(or takes over after a failover) carries it out. Brokers are told to stop serving the
topic, every replica is asked to delete itself (StopReplica with delete), and only once
every replica has confirmed are ``/brokers/topics/<topic>``, the topic's config and the
marker removed, in that order. A replica on a broker that is down halts the deletion
until the broker is back; until the end, no election, ISR change or LeaderAndIsr touches
the topic, because its partition states are dropped from the controller's context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkalab.controller.channel import ResponseCallback
from kafkalab.controller.context import ControllerContext
from kafkalab.coordination import paths
from kafkalab.coordination.protocol import WatchEvent, ZkResponse
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import TopicDeleted, TopicMarkedForDeletion
from kafkalab.protocol.controller_api import StopReplicaResponse
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Future, Process

if TYPE_CHECKING:
    from kafkalab.controller.controller import Controller

Replica = tuple[TopicPartition, int]


class TopicDeletionManager:
    """Deletes the topics marked in ``/admin/delete_topics``; every method runs on the controller's serial queue."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        #: DeleteTopics requests waiting for their topics to be gone: (topics still there, future).
        self._waiters: list[tuple[set[str], Future[set[str]]]] = []

    @property
    def context(self) -> ControllerContext:
        return self.controller.context

    # -- what starts a deletion ------------------------------------------------------------

    def read_marked(self) -> Future[ZkResponse]:
        """List ``/admin/delete_topics``, watching it for new markers."""
        return self.controller.zk.get_children(paths.DELETE_TOPICS, self._on_marked_watch)

    def load_marked(self, marked: list[str]) -> Process[None]:
        """Queue the topics marked for deletion (at failover: after loading topics, before any election)."""
        for topic in sorted(marked):
            if topic in self.context.topics:
                self._queue(topic)
            else:
                # Kafka drops markers of topics that no longer exist; the previous controller died
                # after removing /brokers/topics/<topic>, so its config is left over too.
                yield from self.controller.writer.delete(paths.topic_config_path(topic))
                yield from self.controller.writer.delete(paths.delete_topic_path(topic))

    def _on_marked_watch(self, event: WatchEvent) -> None:
        self.controller.submit(self._on_marked_change, "TopicDeletion")

    def _on_marked_change(self) -> Process[None]:
        marked = yield self.read_marked()
        yield from self.load_marked(marked.children)
        yield from self.resume()

    def _queue(self, topic: str) -> None:
        if topic in self.context.topics_to_delete:
            return
        self.context.topics_to_delete.add(topic)
        for tp in self.context.partitions_of(topic):
            self.context.states.pop(tp, None)
        offline = sorted({broker for _, broker in self._replicas(topic)} - self.context.live())
        self.controller.journal.emit(TopicMarkedForDeletion, topic=topic, offline_replica_brokers=tuple(offline))

    # -- carrying it out -----------------------------------------------------------------

    def resume(self) -> Process[None]:
        """Ask live replicas not yet deleted to delete themselves; finish topics whose replicas all did."""
        for topic in sorted(self.context.topics_to_delete):
            replicas = self._replicas(topic)
            if replicas <= self.context.replicas_deleted:
                yield from self._complete(topic)
                continue
            to_ask = sorted(replica for replica in replicas - self.context.replicas_deleted - self.context.replicas_deleting
                            if replica[1] in self.context.live_brokers)
            if not to_ask:
                continue
            self.controller.writer.send_update_metadata(states=())
            per_broker: dict[int, list[TopicPartition]] = {}
            for tp, broker_id in to_ask:
                per_broker.setdefault(broker_id, []).append(tp)
                self.context.replicas_deleting.add((tp, broker_id))
            for broker_id, tps in sorted(per_broker.items()):
                self.controller.writer.send_stop_replica(broker_id, tps, delete=True,
                                                         on_response=self._response_handler(broker_id, tps))

    def _response_handler(self, broker_id: int, tps: list[TopicPartition]) -> ResponseCallback:
        context = self.context

        def on_response(response: object) -> None:
            self.controller.submit(lambda: self._on_deleted(context, broker_id, tps, response),
                                   "TopicDeletionStopReplicaResponseReceived")

        return on_response

    def _on_deleted(self, context: ControllerContext, broker_id: int, tps: list[TopicPartition],
                    response: object) -> Process[None]:
        if context is not self.context:
            return
        replicas = {(tp, broker_id) for tp in tps}
        context.replicas_deleting -= replicas
        # An error (a stale epoch) halts these replicas until the broker re-registers or a new
        # controller takes over, as Kafka marks them ReplicaDeletionIneligible.
        if isinstance(response, StopReplicaResponse) and response.error == Errors.NONE:
            context.replicas_deleted |= replicas
            yield from self.resume()

    def on_brokers_failed(self, dead: list[int]) -> None:
        """Replicas asked on a broker that died will never answer: ask again when it is back (``failReplicaDeletion``)."""
        self.context.replicas_deleting = {r for r in self.context.replicas_deleting if r[1] not in dead}

    def _complete(self, topic: str) -> Process[None]:
        """Every replica is gone: remove the topic from ZooKeeper (Kafka's ``completeDeleteTopic``)."""
        writer = self.controller.writer
        for path in (paths.topic_path(topic), paths.topic_config_path(topic), paths.delete_topic_path(topic)):
            yield from writer.delete(path)
        replicas = self._replicas(topic)
        del self.context.topics[topic]
        self.context.topics_to_delete.discard(topic)
        self.context.replicas_deleted -= replicas
        writer.send_update_metadata(states=(), deleted_topics=(topic,))
        self.controller.journal.emit(TopicDeleted, topic=topic)
        for remaining, done in self._waiters:
            remaining.discard(topic)
            if not remaining:
                done.set_result(set())
        self._waiters = [(remaining, done) for remaining, done in self._waiters if not done.done]

    def brokers_holding_replicas(self, topic: str) -> list[int]:
        """The brokers whose replica of ``topic`` is not deleted yet."""
        return sorted({broker_id for _, broker_id in self._replicas(topic) - self.context.replicas_deleted})

    def _replicas(self, topic: str) -> set[Replica]:
        return {(tp, broker_id) for tp in self.context.partitions_of(topic) for broker_id in self.context.replicas(tp)}

    # -- DeleteTopics requests waiting for the end -------------------------------------------

    def wait_deleted(self, topics: list[str], timeout_ms: float) -> Future[set[str]]:
        """Completes once every topic is deleted, or after ``timeout_ms`` with those that are not (``DelayedDeleteTopics``)."""
        done: Future[set[str]] = Future()
        remaining = {topic for topic in topics if topic in self.context.topics}
        if not remaining:
            done.set_result(set())
            return done
        self._waiters.append((remaining, done))
        timer = self.controller.group.call_later(timeout_ms, lambda: done.set_result(set(remaining)))
        done.add_done_callback(lambda _: timer.cancel())
        return done

    def abandon_waiters(self) -> None:
        """The controller resigned: waiting requests answer NOT_CONTROLLER, so clients ask the new one."""
        waiters, self._waiters = self._waiters, []
        for _, done in waiters:
            done.set_error(KafkaError(Errors.NOT_CONTROLLER, "The controller moved while the topic was being deleted."))
