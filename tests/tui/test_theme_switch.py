"""Switching the theme redraws every line in the new colours, including the lines a widget keeps between frames."""

from __future__ import annotations

from collections.abc import Callable

from rich.color import Color
from textual.widget import Widget

from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.screenshots import SIZE, populate
from kafkalab.tui.widgets.broker_cards import BrokerCard
from kafkalab.tui.widgets.clock_bar import ClockBar
from kafkalab.tui.widgets.event_list import EventList
from kafkalab.tui.widgets.kept_lines import Box
from kafkalab.tui.widgets.lab_footer import LabFooter
from kafkalab.tui.widgets.partition_lanes import PartitionLanes
from kafkalab.tui.widgets.topic_list import TopicList

MakeApp = Callable[..., KafkaLabApp]
#: The dashboard's widgets that draw their own lines and keep them while their data is unchanged.
LINE_WIDGETS: tuple[type[Widget], ...] = (TopicList, PartitionLanes, ClockBar, LabFooter, BrokerCard, EventList, Box)


def backgrounds(widget: Widget) -> set[Color]:
    """Every background colour in the widget's drawn lines, as the compositor would ask for them."""
    return {segment.style.bgcolor for strip in widget.render_lines(widget.outer_size.region)
            for segment in strip if segment.style is not None and segment.style.bgcolor is not None}


async def test_a_theme_switch_leaves_no_line_in_the_old_themes_colours(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await populate(app)
        await pilot.pause()
        widgets = [widget for kind in LINE_WIDGETS for widget in app.screen.query(kind)]
        before = {id(widget): backgrounds(widget) for widget in widgets}
        old_panel = {app.screen.query_one(kind).rich_style.bgcolor for kind in LINE_WIDGETS}
        await pilot.press("T")
        await pilot.pause()
        for widget in widgets:
            after = backgrounds(widget)
            assert after, type(widget).__name__
            assert after != before[id(widget)], f"{type(widget).__name__} kept the old theme's lines"
            assert not after & old_panel, f"{type(widget).__name__} still draws the old theme's background"
