"""Snapshot tests of every screen and of key moments, on a fixed seed with virtual time stepped by the test.

``pytest --snapshot-update`` accepts a changed picture after a human looked at it.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from kafkalab.actions.client_actions import Produce
from kafkalab.tui.app import THEMES, KafkaLabApp
from kafkalab.tui.lesson_control import LessonLibrary
from kafkalab.tui.screenshots import (
    SIZE,
    broker_fenced_by_the_quorum,
    consumer_group,
    failover_with_truncation,
    kill_selected_leader,
    lesson_key,
    populate,
    ready_to_shoot,
    run_steady_load,
    start_lesson,
    third_member_joins,
    transactions,
)

MakeApp = Callable[..., KafkaLabApp]
#: Where the records snapshot's cluster lives (lessons' progress beside it), the same on every machine.
SNAPSHOT_DATA_DIR = Path("/tmp/kafkalab-snapshot/data")
Scene = Callable[[KafkaLabApp, Pilot], Awaitable[None]]


def shot(snap_compare: Callable[..., bool], app: KafkaLabApp, scene: Scene, size: tuple[int, int] = SIZE) -> bool:
    """Play ``scene`` on ``app`` and compare the screen with the stored snapshot."""

    async def run_before(pilot: Pilot) -> None:
        await scene(app, pilot)
        await ready_to_shoot(app, pilot)

    return snap_compare(app, terminal_size=size, run_before=run_before)


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
            await app.settle()  # the tree fills from the first frame the screen asked for
            await pilot.press("down", "down", "down", "down", "down")

        assert shot(snap_compare, make_app(), scene)

    def test_kraft_quorum_after_a_broker_was_fenced(self, snap_compare, make_app: MakeApp) -> None:
        assert shot(snap_compare, make_app(mode="kraft"), broker_fenced_by_the_quorum)

    def test_event_timeline_explains_the_highlighted_event(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await leader_killed(app, pilot)
            await pilot.press("5")
            await app.settle()
            await pilot.press("down", "down")

        assert shot(snap_compare, make_app(), scene)

    def test_records_and_segment_files(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            app.select(partition=2)
            await pilot.press("6")

        # The screen names the replica's directory: a data dir of the same path every run keeps the picture.
        shutil.rmtree(SNAPSHOT_DATA_DIR.parent, ignore_errors=True)
        assert shot(snap_compare, make_app(data_dir=SNAPSHOT_DATA_DIR), scene)

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

    def test_transactions_and_the_lso_an_open_one_holds_back(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            await transactions(app)
            await pilot.press("9")

        assert shot(snap_compare, make_app(), scene)

    def test_configs_of_the_selected_topic_and_the_brokers(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            await pilot.press("0")

        assert shot(snap_compare, make_app(), scene)

    def test_lanes_mark_the_lso_of_an_open_transaction(self, snap_compare, make_app: MakeApp) -> None:
        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await populate(app)
            await transactions(app)

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


#: A small terminal and a large one: everything a newcomer needs fits both.
TERMINALS = [pytest.param((80, 24), id="80x24"), pytest.param((160, 45), id="160x45")]


class TestTerminalSizes:
    @pytest.mark.parametrize("size", TERMINALS)
    def test_the_dashboard(self, snap_compare, make_app: MakeApp, size: tuple[int, int]) -> None:
        assert shot(snap_compare, make_app(), populated, size)

    def test_the_kraft_quorum_on_a_small_terminal(self, snap_compare, make_app: MakeApp) -> None:
        """Both tables keep a share of the width (they scroll sideways) rather than one squeezing the other out."""
        assert shot(snap_compare, make_app(mode="kraft"), broker_fenced_by_the_quorum, (80, 24))

    @pytest.mark.parametrize("size", TERMINALS)
    def test_a_lesson(self, snap_compare, make_app: MakeApp, lessons: LessonLibrary, size: tuple[int, int]) -> None:
        """Beside the views on a large terminal, a strip under them on a small one."""

        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await start_lesson(app, "tui-failover")
            await lesson_key(app, pilot, "h")

        assert shot(snap_compare, make_app(lessons=lessons), scene, size)

    @pytest.mark.parametrize("size", TERMINALS)
    def test_a_form_during_a_lesson(self, snap_compare, make_app: MakeApp, lessons: LessonLibrary,
                                    size: tuple[int, int]) -> None:
        """The form opens at its top with its buttons in sight, clear of the lesson."""

        async def scene(app: KafkaLabApp, pilot: Pilot) -> None:
            await start_lesson(app, "tui-failover")
            app.clear_notifications()  # a dialog shows the toasts there were when it opened
            await pilot.press("p")

        assert shot(snap_compare, make_app(lessons=lessons), scene, size)
