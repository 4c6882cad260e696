"""Pilot tests of the event lists: repeats collapse, high-watermark moves leave the election visible,
internal topics' routine events fold under a line that opens; the journal keeps every event."""

from __future__ import annotations

import re
from collections.abc import Callable

from tui_helpers import shown

from kafkalab.actions.client_actions import Produce, StartConsumer, StartProducer
from kafkalab.events.clients import ProduceRetried
from kafkalab.events.cluster import HighWatermarkAdvanced, IsrShrunk, LeaderElected
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.screenshots import SIZE, kill_selected_leader, populate
from kafkalab.tui.widgets.event_list import EventList, event_line

MakeApp = Callable[..., KafkaLabApp]


async def _failover_under_load(app: KafkaLabApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """A consumer group (so __consumer_offsets exists) and a steady acks=1 producer, then the leader of orders-0 dies."""
    await populate(app)
    app.submit(StartConsumer("billing", "reader", ("orders",)))
    app.submit(StartProducer("steady", "orders", rate=200, key="customer-{i}", acks=1))
    await app.settle(step_ms=3000)
    await kill_selected_leader(app, pilot)
    await pilot.pause()


async def test_a_retrying_producer_is_a_few_lines_on_the_dashboard(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _failover_under_load(app, pilot)
        journal = [event for event in app.events.newest_first() if isinstance(event, ProduceRetried)]
        rows = app.screen.query_one("#recent-events", EventList).rows
        retry_rows = [row for row in rows if isinstance(row.newest, ProduceRetried)]
        assert len(journal) > len(retry_rows) >= 1
        assert sum(row.count for row in retry_rows) == len(journal)  # none lost, only grouped
        collapsed = [event_line(row).plain for row in retry_rows if row.count > 1]
        assert collapsed and all(re.search(r"produce +× \d+ over \d+ ms: Producer producer-\d+ retries a batch", line)
                                 for line in collapsed), collapsed


async def test_internal_topics_isr_shrinks_fold_into_one_line_that_enter_opens(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _failover_under_load(app, pilot)
        shrunk = [e for e in app.events.newest_first() if isinstance(e, IsrShrunk) and e.topic == "__consumer_offsets"]
        assert len(shrunk) > 10
        await pilot.press("5")
        await app.settle()
        await pilot.pause()
        timeline = app.screen.query_one(EventList)
        folds = [index for index, row in enumerate(timeline.rows) if row.is_fold and "IsrShrunk" in dict(
            row.fold_counts())]
        assert folds, "the ISR shrinks of __consumer_offsets are folded"
        lines_before = timeline.virtual_size.height
        await pilot.press(*["down"] * folds[0])
        assert "▸ __consumer_offsets: IsrShrunk × " in shown(app, "#timeline")
        await pilot.press("enter")
        fold = timeline.rows[folds[0]]
        assert timeline.virtual_size.height == lines_before + len(fold.members)
        assert "▾ __consumer_offsets" in shown(app, "#timeline")
        assert "enter shows them" in str(app.screen.query_one("#explanation").render())
        await pilot.press("enter")
        assert timeline.virtual_size.height == lines_before


async def _produce_one_by_one(app: KafkaLabApp, records: int) -> None:
    """Records to orders-0 one produce at a time: a high-watermark move each."""
    for _ in range(records):
        app.submit(Produce("orders", key="customer-1", partition=0))
        await app.settle(step_ms=50)


async def test_high_watermark_moves_collapse_so_the_election_stays_in_view(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await populate(app)
        await _produce_one_by_one(app, 12)
        await kill_selected_leader(app, pilot)
        await _produce_one_by_one(app, 12)
        await pilot.press("2")
        await app.settle()
        await pilot.pause()
        rows = app.screen.query_one("#replication-events", EventList).rows
        moves = [event for row in rows for event in row.events if isinstance(event, HighWatermarkAdvanced)]
        elected = [index for index, row in enumerate(rows) if isinstance(row.newest, LeaderElected)]
        assert len(moves) >= 24 and len(rows) <= 10
        assert elected and elected[0] <= 5  # the failover is in view, between the moves before and after it
        assert "leads orders-0" in shown(app, "#replication-events")
