"""The topic list works a topic's counts out once per topic view: redrawing the same frame (every key that moves the
selection does) does not walk 10,000 partitions again, and a new view of the topic shows its new counts."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from kafkalab.tui.widgets import topic_list
from kafkalab.tui.widgets.topic_list import TopicList
from kafkalab.views import PartitionView, TopicView


def _topic(name: str, high_watermark: int) -> TopicView:
    partitions = tuple(PartitionView(name, p, 1, 0, (1,), (1,), 0, high_watermark, high_watermark, (), high_watermark)
                       for p in range(3))
    return TopicView(name, "id", False, partitions, ())


class _ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TopicList()


async def test_a_topic_view_drawn_again_is_not_counted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    counted: list[str] = []
    count = topic_list.topic_row

    def counting(topic: TopicView) -> topic_list.Row:
        counted.append(topic.name)
        return count(topic)

    monkeypatch.setattr(topic_list, "topic_row", counting)
    app = _ListApp()
    async with app.run_test():
        widget = app.query_one(TopicList)
        frame = (_topic("orders", 10), _topic("payments", 5))
        widget.show(frame, "orders")
        widget.show(frame, "payments")
        assert counted == ["orders", "payments"]
        newer = (_topic("orders", 12), frame[1])
        widget.show(newer, "payments")
        assert counted == ["orders", "payments", "orders"]
        assert [row[5] for row in widget._rows] == [36, 15]  # records: 3 partitions of 12, and of 5
