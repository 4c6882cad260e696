"""Topics created on first use: ``auto.create.topics.enable`` (Kafka 3.9's ``AutoTopicCreationManager``).

A Metadata request that names a topic nobody created, from a client that allows it
(``allowAutoTopicCreation``, which Kafka's producer always sets and its consumer sets from
``allow.auto.create.topics``), creates the topic with the receiving broker's ``num.partitions``
and ``default.replication.factor``. The answer names the topic with LEADER_NOT_AVAILABLE, so the
client asks again until the new partitions have leaders.

In Kafka 3.9's ZooKeeper mode the receiving broker writes the topic to ZooKeeper itself
(``createTopicsInZk``). kafkalab's brokers ask the controller instead, as they do for
``__consumer_offsets`` (``CreateTopicsRequest``, the path Kafka takes when it forwards to a
controller); the client sees the same answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kafkalab.broker.context import BrokerContext
from kafkalab.errors import Errors
from kafkalab.events.cluster import TopicAutoCreationRequested
from kafkalab.protocol.admin import CreatableTopic, CreateTopicsRequest, CreateTopicsResponse
from kafkalab.protocol.metadata import MetadataRequest
from kafkalab.sim.network import Responder
from kafkalab.validation import is_internal, topic_name_problem

#: What the controller may answer about a topic that nonetheless exists in ZooKeeper now: as Kafka's
#: ``createTopicsInZk`` does, the client hears LEADER_NOT_AVAILABLE and asks again.
_CREATED = frozenset({Errors.NONE, Errors.TOPIC_ALREADY_EXISTS, Errors.REQUEST_TIMED_OUT})


class AutoTopicCreation:
    """Creates the unknown topics a Metadata request names, one request per topic at a time."""

    def __init__(self, ctx: BrokerContext) -> None:
        self.ctx = ctx
        #: Topics whose creation this broker has asked for and not heard back about (Kafka's ``inflightTopics``).
        self._inflight: set[str] = set()

    def handle_metadata(self, request: MetadataRequest, respond: Responder) -> None:
        """Answer from the metadata cache, creating unknown topics first where allowed (``KafkaApis.getTopicMetadata``)."""
        response = self.ctx.metadata.response(request.topics)
        unknown = [t.name for t in response.topics if t.error == Errors.UNKNOWN_TOPIC_OR_PARTITION]
        # A request for every topic never creates one (Kafka: ``!metadataRequest.isAllTopics``).
        if not unknown or request.topics is None or not request.allow_auto_topic_creation \
                or not self.ctx.config["auto.create.topics.enable"]:
            respond(response)
            return

        def created(errors: dict[str, Errors]) -> None:
            respond(replace(response, topics=tuple(replace(t, error=errors.get(t.name, t.error))
                                                   for t in response.topics)))

        self.create(unknown, request.client_id, created)

    def create(self, topics: list[str], client_id: str, done: Callable[[dict[str, Errors]], None]) -> None:
        """Create ``topics``; ``done`` gets the error each is answered with in the Metadata response."""
        errors: dict[str, Errors] = {}
        creatable: list[CreatableTopic] = []
        config = self.ctx.config
        for name in topics:
            if topic_name_problem(name) is not None:
                errors[name] = Errors.INVALID_TOPIC_EXCEPTION
            elif is_internal(name) or name in self._inflight:
                # Internal topics are created by their own coordinators here (__consumer_offsets on
                # FindCoordinator); a topic already being created is answered as Kafka's filterCreatableTopics does.
                errors[name] = Errors.UNKNOWN_TOPIC_OR_PARTITION
            else:
                creatable.append(CreatableTopic(name, config["num.partitions"], config["default.replication.factor"]))
        controller = self.ctx.metadata.controller_node()
        if not creatable or controller is None:
            errors.update((topic.name, Errors.UNKNOWN_TOPIC_OR_PARTITION) for topic in creatable)
            done(errors)
            return
        self._inflight.update(topic.name for topic in creatable)

        def answered(response: Any, error: Errors | None) -> None:
            for topic in creatable:
                self._inflight.discard(topic.name)
                result = (error if error is not None
                          else response.results[topic.name].error if isinstance(response, CreateTopicsResponse)
                          else Errors.UNKNOWN_SERVER_ERROR)
                if result in _CREATED:
                    errors[topic.name] = Errors.LEADER_NOT_AVAILABLE
                elif result in (Errors.NETWORK_EXCEPTION, Errors.NOT_CONTROLLER):
                    errors[topic.name] = Errors.UNKNOWN_TOPIC_OR_PARTITION  # the client asks again
                else:
                    errors[topic.name] = result
                if result == Errors.NONE:
                    self.ctx.journal.emit(TopicAutoCreationRequested, broker_id=self.ctx.broker_id, topic=topic.name,
                                          client_id=client_id, partitions=topic.num_partitions,
                                          replication_factor=topic.replication_factor)
            done(errors)

        self.ctx.network.request(self.ctx.node, controller, CreateTopicsRequest(tuple(creatable)), answered,
                                 config["request.timeout.ms"])
