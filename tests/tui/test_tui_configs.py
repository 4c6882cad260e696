"""The configs screen (key 0): the selected topic's configs with their sources and each broker's settings, from the
frozen views, so the same screen shows the lab and an attached cluster."""

from __future__ import annotations

from collections.abc import Callable

from tui_helpers import lines

from kafkalab.actions.cluster_actions import CreateTopic
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.screens.configs import NOT_MODELLED, topic_config_rows
from kafkalab.tui.screenshots import SIZE
from kafkalab.views import ConfigEntry, TopicView

MakeApp = Callable[..., KafkaLabApp]


def _row(app: KafkaLabApp, config: str) -> list[str]:
    """The cells of ``config``'s row in the topic's table, as the screen draws them."""
    return next(line.strip("│ ").split() for line in lines(app, "#topic-configs")
                if f" {config} " in line)


async def test_a_config_changed_with_the_configure_action_shows_with_its_source(make_app: MakeApp) -> None:
    app = make_app(broker_config={"log.retention.ms": 3_600_000})
    async with app.run_test(size=SIZE) as pilot:
        await app.settle()
        app.submit(CreateTopic("orders", 3, 3, {"min.insync.replicas": 2}))
        await app.settle(step_ms=500)
        app.select(topic="orders")
        await pilot.press("0")
        await app.settle()
        await pilot.pause()
        assert app.current_mode == "configs"
        assert "orders: configs (1 override, marked *)" in lines(app, "#topic-configs")[0]
        assert _row(app, "min.insync.replicas") == ["*", "min.insync.replicas", "2", "DYNAMIC_TOPIC_CONFIG"]
        # Inherited from the broker setting the cluster sets (log.retention.ms), and a Kafka default.
        assert _row(app, "retention.ms") == ["retention.ms", "3600000", "STATIC_BROKER_CONFIG"]
        assert _row(app, "segment.bytes") == ["segment.bytes", "1073741824", "DEFAULT_CONFIG"]
        settings = [line.strip("│ ").split() for line in lines(app, "#broker-settings")]
        assert ["1", "log.retention.ms", "3600000", "STATIC_BROKER_CONFIG"] in settings
        assert ["3", "log.retention.ms", "3600000", "STATIC_BROKER_CONFIG"] in settings

        # topic: configure (C) offers retention.ms=60000 for the selected topic; the screen follows the change.
        await pilot.press("C")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await app.settle(step_ms=500)
        await pilot.pause()
        assert _row(app, "retention.ms") == ["*", "retention.ms", "60000", "DYNAMIC_TOPIC_CONFIG"]
        assert "orders: configs (2 overrides, marked *)" in lines(app, "#topic-configs")[0]


async def test_choosing_another_topic_shows_its_configs(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.settle()
        app.submit(CreateTopic("audit", 1, 1, {"cleanup.policy": "compact"}))
        app.submit(CreateTopic("orders", 1, 1))
        await app.settle(step_ms=500)
        app.select(topic="orders")
        await pilot.press("0")
        await app.settle()
        await pilot.pause()
        assert _row(app, "cleanup.policy") == ["cleanup.policy", "delete", "DEFAULT_CONFIG"]
        await pilot.press("left_curly_bracket")  # select: previous topic
        await app.settle()
        await pilot.pause()
        assert app.selection.topic == "audit"
        assert _row(app, "cleanup.policy") == ["*", "cleanup.policy", "compact", "DYNAMIC_TOPIC_CONFIG"]


def test_an_override_kafkalab_does_not_model_is_listed_and_marked() -> None:
    # A real cluster's topic may override a key kafkalab lacks: it is shown as the override it is, not dropped.
    topic = TopicView("events", "id", False, (), (("local.retention.ms", "1000"), ("retention.ms", "5000")),
                      (ConfigEntry("retention.ms", "5000", "DYNAMIC_TOPIC_CONFIG"),
                       ConfigEntry("segment.ms", "3600000", "DYNAMIC_BROKER_CONFIG")))
    rows = topic_config_rows(topic)
    assert list(rows) == ["retention.ms", "segment.ms", "local.retention.ms"]
    mark, name, value, source = rows["local.retention.ms"]
    assert (mark, str(name), value, source) == ("*", f"local.retention.ms{NOT_MODELLED}", "1000",
                                                "DYNAMIC_TOPIC_CONFIG")
    assert rows["segment.ms"][0] == "" and rows["segment.ms"][3] == "DYNAMIC_BROKER_CONFIG"
