"""The TUI attached to a real cluster: the lab's screens on views built from describe rounds, the header saying
which cluster and how old the data is, and what needs the lab shown disabled with its reason.

The rounds come from a scripted observer and the wall clock is frozen, so the pictures are the same every run
(``tests/attach`` proves the rounds against a cluster).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_helpers import lines, record_notes, screen_text

from kafkalab.attach.observe import Observation, SeenGroup, SeenOffsets, SeenPartition, SeenTopic
from kafkalab.protocol.types import TopicPartition
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.attach_bridge import SWITCH_INTERVAL_S, AttachBridge
from kafkalab.tui.commands import spec_for
from kafkalab.tui.screenshots import SIZE, lesson_library, ready_to_shoot
from kafkalab.views import ConfigEntry, GroupMemberView

#: 2026-01-01T00:00:00Z, the frozen wall clock's start.
T0 = 1_767_225_600.0


#: DescribeConfigs of orders, for the keys kafkalab implements: an override, a dynamic cluster-wide default, a
#: setting of server.properties and Kafka's defaults (local.retention.ms, overridden too, is not one of them).
ORDERS_CONFIGS = (ConfigEntry("cleanup.policy", "delete", "DEFAULT_CONFIG"),
                  ConfigEntry("min.insync.replicas", "2", "STATIC_BROKER_CONFIG"),
                  ConfigEntry("retention.ms", "86400000", "DYNAMIC_TOPIC_CONFIG"),
                  ConfigEntry("segment.bytes", "536870912", "DYNAMIC_DEFAULT_BROKER_CONFIG"))
BROKER_SETTINGS = (ConfigEntry("log.segment.bytes", "536870912", "DYNAMIC_DEFAULT_BROKER_CONFIG"),
                   ConfigEntry("min.insync.replicas", "2", "STATIC_BROKER_CONFIG"))


def _round(now_ms: float, broker_2_up: bool) -> Observation:
    """orders (3 partitions, RF 3) with a group of two; without broker 2, its partition moved to broker 3."""
    isr = (1, 2, 3) if broker_2_up else (1, 3)
    partitions = (SeenPartition(0, 1, (1, 2, 3), isr), SeenPartition(1, 2 if broker_2_up else 3, (2, 3, 1), isr),
                  SeenPartition(2, 3, (3, 1, 2), isr))
    members = (GroupMemberView("c1-0001", "c1", "/10.0.0.7", None, ("orders-0", "orders-1")),
               GroupMemberView("c2-0002", "c2", "/10.0.0.8", None, ("orders-2",)))
    return Observation(
        now_ms, "4-cGgsIJTKxin2--2CwHzQ", 1, (1, 2, 3) if broker_2_up else (1, 3),
        (SeenTopic("orders", "q0b5Vb7FQ3yVbF3qT8yZ1A", False, partitions,
                   (("local.retention.ms", "3600000"), ("retention.ms", "86400000")), ORDERS_CONFIGS),),
        {TopicPartition("orders", p): SeenOffsets(0, 120 + 10 * p, 120 + 10 * p) for p in range(3)},
        (SeenGroup("billing", "Stable", "consumer", "range", 1, members,
                   {TopicPartition("orders", 0): 100, TopicPartition("orders", 1): 130, TopicPartition("orders", 2): 140}),),
        broker_configs={broker: BROKER_SETTINGS for broker in ((1, 2, 3) if broker_2_up else (1, 3))})


class ScriptedCluster:
    """Answers each round with the cluster as the test last set it, at the frozen clock's time."""

    def __init__(self) -> None:
        self.broker_2_up = True
        self.now_s = T0

    def clock(self) -> float:
        return self.now_s

    def observe(self, now_ms: float) -> Observation:
        return _round(now_ms, self.broker_2_up)


@pytest.fixture
def attached(tmp_path: Path) -> Iterator[Callable[..., tuple[KafkaLabApp, AttachBridge]]]:
    bridges: list[AttachBridge] = []

    def build(allow_writes: bool = False) -> tuple[KafkaLabApp, AttachBridge]:
        cluster = ScriptedCluster()
        # Rounds and ticks an hour apart: only the rounds the test runs happen.
        bridge = AttachBridge("kafka-1:9092", cluster, None, interval_s=3600, allow_writes=allow_writes,
                              clock=cluster.clock, tick_s=3600)
        bridge.poll()
        cluster.broker_2_up = False
        cluster.now_s += 4.0
        bridge.poll()
        cluster.now_s += 1.5  # the data shown is 1.5 s old
        app = KafkaLabApp(bridge, lessons=lesson_library(tmp_path))
        app.animation_level = "none"
        bridges.append(bridge)
        return app, bridge

    yield build
    for bridge in bridges:
        bridge.close()


def test_the_attached_dashboard(snap_compare, attached: Callable[..., tuple[KafkaLabApp, AttachBridge]]) -> None:
    app, _ = attached()

    async def run_before(pilot: Pilot) -> None:
        await ready_to_shoot(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_the_attached_configs(snap_compare, attached: Callable[..., tuple[KafkaLabApp, AttachBridge]]) -> None:
    # The screen reads DescribeConfigs' answers as the views carry them: sources a lab never has included.
    app, _ = attached()

    async def run_before(pilot: Pilot) -> None:
        await pilot.press("0")
        await ready_to_shoot(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_the_header_the_timeline_and_what_needs_the_lab(
        attached: Callable[..., tuple[KafkaLabApp, AttachBridge]]) -> None:
    app, bridge = attached()
    notes = record_notes(app)
    async with app.run_test(size=SIZE) as pilot:
        frame = await app.settle()
        assert frame.attached is not None and frame.attached.age_ms == 1500 and frame.attached.read_only
        assert frame.view.cluster_id == "4-cGgsIJTKxin2--2CwHzQ"
        told = [event.describe() for event in app.events.newest_first()]
        assert "Observed: leader of orders-1 moved from broker 2 to broker 3." in told
        assert "Observed: broker 2 left the cluster's metadata." in told
        # The lab's commands are disabled, with the reason the bridge gives; the cluster's own are not.
        assert app.check_action("toggle_pause", ()) is None
        assert app.check_action("start_action", ("kill_broker",)) is None
        assert "operator" in (bridge.unavailable("start_action", ("kill_broker",)) or "")
        assert "read-only" in (bridge.unavailable("start_action", ("create_topic",)) or "")
        assert app.check_action("show_screen", ("groups",)) is True
        # Reached from the palette, a lab step says why instead of opening its form.
        app.perform(spec_for("kill_broker"), {"broker": 1})
        await pilot.pause()
        assert any(title == "kill_broker: not on this cluster" and "needs the lab" in message
                   for title, message in notes)


async def test_every_screen_draws_an_attached_cluster(attached: Callable[..., tuple[KafkaLabApp, AttachBridge]]) -> None:
    app, _ = attached()
    async with app.run_test(size=SIZE) as pilot:
        await app.settle()
        for mode in app.MODES:
            app.action_show_screen(mode)
            await app.settle()
            await pilot.pause()
            assert app.current_mode == mode and app.is_running
            # Only the transactions screen has nothing to list on a real cluster, and it says why.
            assert (mode == "transactions") == ("cannot be listed" in " ".join(screen_text(app).split()))
        app.action_show_screen("groups")
        await app.settle()
        await pilot.pause()
        row = next(line for line in lines(app, "#groups-table") if "billing" in line)
        # LAG as in the lab: each leader's high watermark minus the committed offset (120 - 100 on orders-0); the
        # generation is not in DescribeGroups' answer.
        assert row.strip("│ ").split()[:7] == ["billing", "Stable", "-1", "range", "2", "20", "broker"]


async def test_an_action_runs_through_the_real_client_and_a_silent_cluster_shows(tmp_path: Path) -> None:
    pytest.importorskip("confluent_kafka")
    from kafkalab.actions.cluster_actions import DescribeTopic
    from kafkalab.attach.actions import RealClientActions
    from kafkalab.attach.client import client_config

    cluster = ScriptedCluster()
    bridge = AttachBridge("kafka-1:9092", cluster, None, interval_s=3600, allow_writes=False, clock=cluster.clock,
                          tick_s=3600)
    # describe_topic reads the attached view: no request leaves the client.
    bridge.actions = RealClientActions(client_config("127.0.0.1:1"), bridge.latest_view, allow_writes=False)
    bridge.poll()
    app = KafkaLabApp(bridge, lessons=lesson_library(tmp_path))
    notes = record_notes(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            app.submit(DescribeTopic("orders"))
            for _ in range(200):
                await pilot.pause(0.01)
                if any(title == "describe_topic: ok" for title, _ in notes):
                    break
            assert any(title == "describe_topic: ok" and "orders" in message for title, message in notes)

            def silent(now_ms: float) -> Observation:
                raise TimeoutError
            cluster.observe = silent  # type: ignore[method-assign]
            cluster.now_s += 12.0
            bridge.poll()
            frame = await app.settle()
            assert frame.attached is not None and frame.attached.failing and frame.attached.age_ms == 12_000
            assert frame.attached.problems == ("no answer: no answer in time",)
    finally:
        bridge.close()


def test_rounds_give_the_interpreter_lock_back_to_the_ui_sooner_while_attached() -> None:
    # The round thread's hold on the interpreter lock is what slows keys while a round runs (benchmarks/README.md).
    cluster = ScriptedCluster()
    before = sys.getswitchinterval()
    bridge = AttachBridge("kafka-1:9092", cluster, None, interval_s=3600, allow_writes=False, clock=cluster.clock,
                          tick_s=3600)
    bridge.start()
    try:
        assert before > SWITCH_INTERVAL_S and sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
    finally:
        bridge.close()
    assert sys.getswitchinterval() == pytest.approx(before)
