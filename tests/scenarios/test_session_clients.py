"""The user's clients: a producer (steady or one-off) to a missing topic is refused at once; a stopped consumer's id is
free."""

from __future__ import annotations

from typing import Any

from lab_clusters import Clusters

from kafkalab.actions.base import Action
from kafkalab.actions.client_actions import Produce, StartConsumer, StartProducer, StopConsumer, StopProducer
from kafkalab.actions.cluster_actions import CreateTopic
from kafkalab.actions.execute import ActionOutcome, execute
from kafkalab.errors import Errors
from kafkalab.session.session import Session


def _session(clusters: Clusters, **broker_config: Any) -> Session:
    return Session(clusters.open(broker_config=broker_config))


def _run(session: Session, action: Action) -> ActionOutcome[Any]:
    return session.cluster.wait(execute(session, action))


class TestSteadyProducerToAMissingTopic:
    def test_is_refused_at_once_with_kafkas_error_and_nothing_keeps_sending(self, clusters: Clusters) -> None:
        session = _session(clusters)
        started = session.scheduler.now_ms
        outcome = _run(session, StartProducer("p1", "ordres", rate=100))
        assert outcome.error is not None and outcome.error.error == Errors.UNKNOWN_TOPIC_OR_PARTITION
        assert "'ordres' does not exist" in outcome.error.message
        assert "auto.create.topics.enable=false" in outcome.error.message
        assert session.scheduler.now_ms - started < 1000  # one Metadata round trip, not max.block.ms
        assert "p1" not in session.clients.steady
        stopped = _run(session, StopProducer("p1"))
        assert stopped.error is not None and stopped.error.error == Errors.INVALID_ARGUMENT

    def test_creates_the_topic_where_the_brokers_auto_create_topics(self, clusters: Clusters) -> None:
        session = _session(clusters, **{"auto.create.topics.enable": True, "num.partitions": 2})
        assert _run(session, StartProducer("p1", "fresh", rate=100)).error is None
        session.cluster.run_for(2000)
        stopped = _run(session, StopProducer("p1")).result
        assert stopped.failed == 0 and stopped.acknowledged > 100
        topic = session.cluster.snapshot().topic("fresh")
        assert topic is not None and len(topic.partitions) == 2

    def test_to_an_existing_topic_still_starts(self, clusters: Clusters) -> None:
        session = _session(clusters)
        _run(session, CreateTopic("orders", 3, 3))
        assert _run(session, StartProducer("p1", "orders", rate=100)).error is None
        again = _run(session, StartProducer("p1", "orders", rate=100))
        assert again.error is not None and "already running" in again.error.message


class TestOneOffProduceToAMissingTopic:
    def test_is_refused_at_once_with_the_steady_producers_sentence(self, clusters: Clusters) -> None:
        session = _session(clusters)
        started = session.scheduler.now_ms
        outcome = _run(session, Produce("ordres", count=3))
        assert outcome.error is not None and outcome.error.error == Errors.UNKNOWN_TOPIC_OR_PARTITION
        assert outcome.error.message.startswith("Topic 'ordres' does not exist, and the brokers do not create topics")
        assert session.scheduler.now_ms - started < 1000  # one Metadata round trip, not max.block.ms (60 s)

    def test_an_invalid_name_says_so(self, clusters: Clusters) -> None:
        outcome = _run(_session(clusters), Produce("bad topic!"))
        assert outcome.error is not None and outcome.error.error == Errors.INVALID_TOPIC_EXCEPTION
        assert "is not a valid topic name" in outcome.error.message

    def test_creates_the_topic_where_the_brokers_auto_create_topics(self, clusters: Clusters) -> None:
        session = _session(clusters, **{"auto.create.topics.enable": True})
        outcome = _run(session, Produce("fresh", count=2))
        assert outcome.error is None and len(outcome.result.landed) == 2


class TestConsumerIds:
    def test_a_stopped_consumers_id_is_free_again(self, clusters: Clusters) -> None:
        session = _session(clusters)
        _run(session, CreateTopic("orders", 3, 3))
        for _ in range(2):
            assert _run(session, StartConsumer("g", "c2", ("orders",))).error is None
            session.cluster.run_for(5000)
            group = session.cluster.snapshot().group("g")
            assert group is not None and [m.client_id for m in group.members] == ["c2"]
            assert _run(session, StopConsumer("g", "c2")).error is None

    def test_a_running_consumers_id_is_refused_naming_where_it_runs(self, clusters: Clusters) -> None:
        session = _session(clusters)
        _run(session, CreateTopic("orders", 3, 3))
        _run(session, StartConsumer("g", "c2", ("orders",)))
        for group in ("g", "other"):
            outcome = _run(session, StartConsumer(group, "c2", ("orders",)))
            assert outcome.error is not None and outcome.error.error == Errors.ILLEGAL_STATE
            assert "c2" in outcome.error.message and "running in group 'g'" in outcome.error.message
