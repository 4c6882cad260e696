"""``kafkalab serve`` as users run it (a process, steps on its standard input) and kafkalab attached to it: after
each step the attached describe_topic and describe_group answers equal serve's own, and the observed timeline
names the leader changes serve narrates when a broker is killed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("confluent_kafka")

from kafkalab.actions.client_actions import DescribeGroup
from kafkalab.actions.cluster_actions import DescribeTopic
from kafkalab.attach.actions import RealClientActions
from kafkalab.attach.client import client_config
from kafkalab.attach.observe import Observer
from kafkalab.attach.source import AttachSource
from kafkalab.events.observed import ObservedLeaderMoved
from tests.wire.serve_process import ServeProcess

#: serve's narration of an election: "Broker 3 leads orders-1 (was 2): ...".
ELECTED = re.compile(r"^Broker (\d+) leads (\S+)-(\d+) \(was (\d+)\)")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    process = ServeProcess(tmp_path / "data", extra=("--config", "zookeeper.session.timeout.ms=4000"))
    yield process
    assert process.stop() == 0


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without what DescribeGroups does not return (the generation): the rest must be equal."""
    return {key: value for key, value in answer.items() if key != "generation"}


def _answer(serve: ServeProcess, step: str) -> dict[str, Any]:
    answer = serve.act(step)
    assert answer.get("ok"), answer
    return answer["result"]


def test_attached_answers_equal_serves_own(serve: ServeProcess) -> None:
    source = AttachSource(Observer(client_config(serve.bootstrap), timeout_s=5.0), 1.0)
    actions = RealClientActions(client_config(serve.bootstrap), lambda: source.poll_once().view, allow_writes=False)

    def agree(step: str, action: DescribeTopic | DescribeGroup, until: Any = lambda result: True) -> dict[str, Any]:
        """serve's answer once the attached one equals it (the cluster moves on the live clock meanwhile)."""
        def agreed() -> dict[str, Any] | None:
            own = serve.act(step)
            if not own.get("ok") or not until(own["result"]):
                return None  # not there yet (a group whose coordinator is still loading)
            outcome = actions.run(action)
            return own["result"] if outcome.result is not None and _comparable(outcome.result.as_json()) == \
                _comparable(own["result"]) else None

        return serve.wait_for(agreed, timeout=45, what=f"the attached answer to {step!r}")

    _answer(serve, "create_topic: {name: orders, partitions: 3, replication_factor: 3}")
    _answer(serve, "produce: {topic: orders, count: 45, key: 'k{i}'}")
    _answer(serve, "start_consumer: {group: billing, client_id: c1, topics: [orders], auto_offset_reset: earliest, "
                   "enable_auto_commit: false}")
    topic = agree("describe_topic: orders", DescribeTopic("orders"))
    assert sum(p["high_watermark"] for p in topic["partitions"]) == 45
    group = agree("describe_group: billing", DescribeGroup("billing"), lambda g: g["state"] == "Stable")
    assert [m["client_id"] for m in group["members"]] == ["c1"]

    source.poll_once()
    seen = source.latest
    assert seen is not None
    killed = next(p["leader"] for p in topic["partitions"] if p["partition"] == 0)
    _answer(serve, f"kill_broker: {killed}")
    after = agree("describe_topic: orders", DescribeTopic("orders"),
                  lambda t: all(killed not in p["isr"] and p["leader"] != killed for p in t["partitions"]))
    assert all(p["leader_epoch"] >= 1 for p in after["partitions"] if p["replicas"][0] == killed)
    narrated = {(m[2], int(m[3]), int(m[1])) for line in serve.narration if (m := ELECTED.match(line))
                and int(m[4]) == killed and m[2] == "orders"}
    observed = {(e.topic, e.partition, e.leader) for e in source.events_since(seen.view.last_event_seq)
                if isinstance(e, ObservedLeaderMoved) and e.topic == "orders"}
    assert observed == narrated and observed
