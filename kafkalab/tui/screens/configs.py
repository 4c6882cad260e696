"""Configs: the selected topic's configs and each broker's own settings, as ``kafka-configs.sh --describe`` shows them.

The topic's table is DescribeConfigs of the topic (``kafka-configs.sh --describe --all
--entity-type topics``): for every topic config kafkalab implements, the value in effect and
where it comes from (``DYNAMIC_TOPIC_CONFIG`` for the topic's own override, else the broker
setting it inherits, ``STATIC_BROKER_CONFIG`` or ``DEFAULT_CONFIG`` ...), its overrides
marked. An override of a key kafkalab does not model (a real cluster's topic may have one)
is listed too, marked as such. Below, what each broker sets rather than Kafka's default.
Everything comes from the frozen views, so the screen is the same in the lab and attached.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from kafkalab.tui.frames import Frame
from kafkalab.tui.screens.base import LabScreen, retitle
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.backdrop import Column, Row
from kafkalab.tui.widgets.keyed_table import Cell, KeyedTable
from kafkalab.tui.widgets.topic_list import TopicList
from kafkalab.views import TOPIC_OVERRIDE, BrokerView, TopicView

ABOUT = ("The selected topic's configs as kafka-configs.sh --describe --all shows them: for each key kafkalab models, "
         "the value in effect and where it comes from; the topic's own overrides are marked * (C changes them). "
         "Below, what each broker sets rather than Kafka's default.")
OVERRIDE_MARK = "*"
NOT_MODELLED = " (kafkalab does not model it)"


class TopicConfigTable(KeyedTable):
    """One row per config of the selected topic."""

    COLUMNS = (OVERRIDE_MARK, "CONFIG", "VALUE", "SOURCE")


class BrokerSettingsTable(KeyedTable):
    """One row per broker and setting."""

    COLUMNS = ("BROKER", "CONFIG", "VALUE", "SOURCE")


def topic_config_rows(topic: TopicView) -> dict[str, tuple[Cell, ...]]:
    """The topic's effective configs by name, its overrides marked, then overrides of keys kafkalab lacks."""
    rows: dict[str, tuple[Cell, ...]] = {}
    for entry in topic.configs:
        override = entry.source == TOPIC_OVERRIDE
        rows[entry.name] = (OVERRIDE_MARK if override else "", Text(entry.name, "bold" if override else ""),
                            entry.value, entry.source)
    for name, value in topic.config_overrides:
        if name not in rows:
            rows[name] = (OVERRIDE_MARK, Text.assemble((name, "bold"), (NOT_MODELLED, "dim")), value, TOPIC_OVERRIDE)
    return rows


def broker_setting_rows(brokers: tuple[BrokerView, ...]) -> dict[str, tuple[Cell, ...]]:
    """Each broker's settings, keyed ``broker/name``."""
    return {f"{broker.broker_id}/{entry.name}": (str(broker.broker_id), entry.name, entry.value, entry.source)
            for broker in brokers for entry in broker.settings}


def topic_title(topic: TopicView | None) -> str:
    if topic is None:
        return "no topic selected"
    overrides = len(topic.config_overrides)
    return f"{topic.name}: configs ({overrides} override{'' if overrides == 1 else 's'}, marked *)"


class ConfigsScreen(LabScreen):
    """Which configs a topic runs with and why, and what the brokers set."""

    VIEW_TITLE = "configs"

    def compose_body(self) -> ComposeResult:
        yield Static(ABOUT, id="configs-about")
        with Row(id="configs-main"):
            yield TopicList()
            with Column(id="configs-right"):
                table = TopicConfigTable(id="topic-configs")
                table.border_title = "configs"
                yield table
                settings = BrokerSettingsTable(id="broker-settings")
                settings.border_title = "broker settings (not Kafka's defaults)"
                yield settings

    def on_mount(self) -> None:
        self.query_one(TopicConfigTable).focus()

    def draw(self, frame: Frame, selection: Selection) -> None:
        view = frame.view
        self.query_one(TopicList).show(view.topics, selection.topic)
        topic = selection.topic_view(view)
        table = self.query_one(TopicConfigTable)
        retitle(table, topic_title(topic))
        table.sync(topic_config_rows(topic) if topic is not None else {}, sort_key="CONFIG")
        self.query_one(BrokerSettingsTable).sync(broker_setting_rows(view.brokers), sort_key="BROKER")

    def on_topic_list_topic_chosen(self, message: TopicList.TopicChosen) -> None:
        self.lab.select(topic=message.topic)
