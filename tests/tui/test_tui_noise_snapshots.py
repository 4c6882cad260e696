"""Snapshots of signal over noise: grouped events after a failover under load, and the countdown while ZooKeeper
waits out a dead broker's session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from kafkalab.actions.client_actions import StartConsumer, StartProducer
from kafkalab.actions.cluster_actions import KillBroker
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.screenshots import SIZE, kill_selected_leader, populate, ready_to_shoot
from kafkalab.tui.widgets.event_list import EventList

MakeApp = Callable[..., KafkaLabApp]


Scene = Callable[[KafkaLabApp, Pilot], Awaitable[None]]


async def _open_the_first_fold(app: KafkaLabApp, pilot: Pilot) -> None:
    """On the events screen: highlight the first fold, open it and move into what it holds."""
    await pilot.press("5")
    await app.settle()
    await pilot.pause()
    rows = app.screen.query_one(EventList).rows
    fold = next(index for index, row in enumerate(rows) if row.is_fold)
    await pilot.press(*["down"] * fold, "enter", *["down"] * 12)


async def _press(app: KafkaLabApp, pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)


def _shot(snap_compare: Callable[..., bool], app: KafkaLabApp, scene: Scene, failover: bool) -> bool:
    async def run_before(pilot: Pilot) -> None:
        await populate(app)
        app.submit(StartConsumer("billing", "reader", ("orders",)))
        app.submit(StartProducer("steady", "orders", rate=200, key="customer-{i}", acks=1))
        await app.settle(step_ms=3000)
        if failover:
            await kill_selected_leader(app, pilot)
        else:
            app.submit(KillBroker(2))
            await app.settle(step_ms=4000)
        await scene(app, pilot)
        await app.settle()
        await ready_to_shoot(app, pilot)

    return snap_compare(app, terminal_size=SIZE, run_before=run_before)


class TestSignalOverNoise:
    def test_the_timeline_after_a_failover_under_load_collapses_repeats(self, snap_compare,
                                                                        make_app: MakeApp) -> None:
        assert _shot(snap_compare, make_app(), lambda app, pilot: _press(app, pilot, "5", "down"), failover=True)

    def test_the_timeline_opens_a_fold_of_consumer_offsets_events(self, snap_compare, make_app: MakeApp) -> None:
        assert _shot(snap_compare, make_app(), _open_the_first_fold, failover=True)

    def test_the_replication_screen_keeps_the_election_between_high_watermark_moves(
            self, snap_compare, make_app: MakeApp) -> None:
        assert _shot(snap_compare, make_app(), lambda app, pilot: _press(app, pilot, "2"), failover=True)

    def test_the_dashboard_counts_down_while_zookeeper_waits(self, snap_compare, make_app: MakeApp) -> None:
        assert _shot(snap_compare, make_app(), lambda app, pilot: _press(app, pilot, "1"), failover=False)
