"""Snapshot tests of every screen and of key moments, on a fixed seed with virtual time stepped by the test.

``pytest --snapshot-update`` accepts a changed picture after a human looked at it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from kafkalab.actions.client_actions import Produce
from kafkalab.tui.app import THEMES, KafkaLabApp
from kafkalab.tui.screenshots import (
    SIZE,
    consumer_group,
    failover_with_truncation,
    kill_selected_leader,
    populate,
    ready_to_shoot,
    run_steady_load,
    third_member_joins,
)

MakeApp = Callable[..., KafkaLabApp]
Scene = Callable[[KafkaLabApp, Pilot], Awaitable[None]]


def shot(snap_compare: Callable[..., bool], app: KafkaLabApp, scene: Scene) -> bool:
    """Play ``scene`` on ``app`` and compare the screen with the stored snapshot."""

    async def run_before(pilot: Pilot) -> None:
        await scene(app, pilot)
        await ready_to_shoot(app, pilot)

    return snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def populated(app: KafkaLabApp, pilot: Pilot) -> None:
    await populate(app)


async def leader_killed(app: KafkaLabApp, pilot: Pilot) -> None:
    await populate(app)
    await kill_selected_leader(app, pilot)


class TestDashboard:
    def test_a_healthy_cluster(self, snap_compare, make_app: MakeApp) -> None:
        assert shot(snap_compare, make_app(), populated)

    def test_after_a_broker_is_killed(self, snap_compare, make_app: MakeApp) -> None:
        assert shot(snap_compare, make_app(), leader_killed)

    def test_an_offline_partition(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await leader_killed(app, pilot)
            app.select(topic="audit")

        assert shot(snap_compare, make_app(), scene)

    def test_group_committed_offsets_on_the_lanes(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            app.submit(Produce("orders", key="customer-{i}", count=24))
            await consumer_group(app)
            app.submit(Produce("orders", key="customer-{i}", count=30))
            await app.settle(step_ms=200)

        assert shot(snap_compare, make_app(), scene)

    def test_an_empty_cluster(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await app.settle()

        assert shot(snap_compare, make_app(), scene)


class TestReplication:
    def test_replicas_in_sync(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            app.select(partition=1)
            await pilot.press("2")

        assert shot(snap_compare, make_app(), scene)

    def test_after_a_failover_the_old_leader_truncated(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            await failover_with_truncation(app, pilot, partition=1)
            await pilot.press("2")

        assert shot(snap_compare, make_app(), scene)


class TestOtherScreens:
    def test_zookeeper_tree_with_ephemeral_znodes(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            await pilot.press("4")
            await pilot.pause()  # the tree is mounted and focused before the cursor moves
            await pilot.press("down", "down", "down", "down", "down")

        assert shot(snap_compare, make_app(), scene)

    def test_event_timeline_explains_the_highlighted_event(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await leader_killed(app, pilot)
            await pilot.press("5")
            await pilot.pause()
            await pilot.press("down", "down")

        assert shot(snap_compare, make_app(), scene)

    def test_records_and_segment_files(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            app.select(partition=2)
            await pilot.press("6")

        assert shot(snap_compare, make_app(), scene)

    def test_throughput_sparklines(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            await run_steady_load(app)
            await pilot.press("7")

        assert shot(snap_compare, make_app(), scene)

    def test_consumer_group_after_a_rebalance(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            await consumer_group(app)
            await pilot.press("3")

        assert shot(snap_compare, make_app(), scene)

    def test_consumer_group_mid_rebalance(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            await consumer_group(app)
            await third_member_joins(app)
            await pilot.press("3")

        assert shot(snap_compare, make_app(), scene)


class TestDialogsAndThemes:
    def test_help_lists_every_key(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            await pilot.press("question_mark")

        assert shot(snap_compare, make_app(), scene)

    def test_kill_form_offers_the_selected_leader(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            await pilot.press("k")

        assert shot(snap_compare, make_app(), scene)

    def test_light_theme(self, snap_compare, make_app: MakeApp) -> None:
        assert shot(snap_compare, make_app(theme=THEMES[1]), populated)
