"""Pilot tests of the countdowns: while the cluster waits out a timer, the line under the clock says how long."""

from __future__ import annotations

import re
from collections.abc import Callable

from tui_helpers import shown

from kafkalab.actions.client_actions import KillConsumer, StartConsumer
from kafkalab.actions.cluster_actions import AlterConfig, KillBroker
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.screenshots import SIZE, populate
from kafkalab.tui.widgets.wait_banner import WaitBanner

MakeApp = Callable[..., KafkaLabApp]


def _seconds_left(app: KafkaLabApp, what: str) -> float:
    """The seconds the banner gives ``what``, which it must show."""
    banner = app.screen.query_one(WaitBanner)
    assert banner.display, "the countdown line is shown"
    found = re.search(re.escape(what) + r" in (\d+(?:\.\d)?) s", shown(app, "#wait-banner"))
    assert found, shown(app, "#wait-banner")
    return float(found.group(1))


async def test_a_killed_brokers_session_counts_down_until_zookeeper_expires_it(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await populate(app)
        assert not app.screen.query_one(WaitBanner).display  # nothing to wait for
        app.submit(KillBroker(2))
        await app.settle(step_ms=1000)
        await pilot.pause()
        first = _seconds_left(app, "broker 2's ZooKeeper session expires")
        assert 12 <= first <= 18
        assert "(zookeeper.session.timeout.ms)" in shown(app, "#wait-banner")
        await app.settle(step_ms=5000)
        await pilot.pause()
        assert _seconds_left(app, "broker 2's ZooKeeper session expires") == first - 5
        await pilot.press("5")  # every view shows it
        await app.settle()
        await pilot.pause()
        assert _seconds_left(app, "broker 2's ZooKeeper session expires") == first - 5
        await app.settle(step_ms=first * 1000)
        await pilot.pause()
        assert not app.screen.query_one(WaitBanner).display


async def test_a_killed_consumer_counts_down_to_its_removal_and_retention_to_its_check(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await populate(app)
        app.submit(StartConsumer("billing", "reader", ("orders",)))
        await app.settle(step_ms=500)
        await pilot.pause()
        assert _seconds_left(app, "group billing's first rebalance stops waiting for more members") <= 3
        await app.settle(step_ms=5000)
        app.submit(KillConsumer("billing", "reader"))
        app.submit(AlterConfig("audit", {"retention.ms": 60_000}))
        await app.settle(step_ms=100)
        await pilot.pause()
        assert 41 <= _seconds_left(app, "group billing removes reader (no heartbeat)") <= 45  # 45 s after its last heartbeat
        assert re.search(r"broker \d checks retention in [0-4] m \d\d s \(log.retention.check.interval.ms\)",
                         shown(app, "#wait-banner"))
        assert "(session.timeout.ms)" in shown(app, "#wait-banner")
