"""DescribeConfigs on a broker: each config of a topic or a broker, its value and where it comes from.

Kafka's ``ConfigHelper.describeConfigs``: a topic's entry is its override
(``DYNAMIC_TOPIC_CONFIG``), else the broker setting it inherits (``STATIC_BROKER_CONFIG``
when the cluster overrides it, else ``DEFAULT_CONFIG``); synonyms list those fallbacks in
order. kafkalab's broker configs are fixed when the cluster is created, so they are static.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kafkalab.config import BROKER_CONFIG_KEYS, TOPIC_CONFIG_KEYS, BrokerConfig, ConfigKey, format_config_value
from kafkalab.errors import Errors
from kafkalab.protocol.admin import (
    ApiResult,
    ConfigResourceType,
    ConfigSource,
    DescribeConfigsRequest,
    DescribeConfigsResponse,
    DescribedConfig,
)

#: Kafka's ``ConfigDef.Type`` names, as DescribeConfigs v3+ reports them.
_KAFKA_TYPES = {"int": "INT", "long": "LONG", "double": "DOUBLE", "boolean": "BOOLEAN", "string": "STRING",
                "list": "LIST"}


def _broker_entry(key: ConfigKey, overrides: Mapping[str, Any]) -> tuple[str, str | None, ConfigSource]:
    if key.name in overrides:
        return key.name, format_config_value(overrides[key.name]), ConfigSource.STATIC_BROKER_CONFIG
    return key.name, format_config_value(key.default), ConfigSource.DEFAULT_CONFIG


def _topic_config(key: ConfigKey, topic_overrides: Mapping[str, str], broker: BrokerConfig) -> DescribedConfig:
    synonyms: list[tuple[str, str | None, ConfigSource]] = []
    if key.name in topic_overrides:
        synonyms.append((key.name, topic_overrides[key.name], ConfigSource.DYNAMIC_TOPIC_CONFIG))
    if key.broker_synonym is not None:
        synonyms.append(_broker_entry(BROKER_CONFIG_KEYS[key.broker_synonym], broker.overrides))
    else:
        synonyms.append((key.name, format_config_value(key.default), ConfigSource.DEFAULT_CONFIG))
    _, value, source = synonyms[0]
    return DescribedConfig(key.name, value, source, False, _KAFKA_TYPES[key.type], key.doc, tuple(synonyms))


def _broker_config(key: ConfigKey, broker: BrokerConfig) -> DescribedConfig:
    entry = _broker_entry(key, broker.overrides)
    # Not changeable while the cluster runs (no dynamic broker configs here), as a static server.properties entry.
    return DescribedConfig(key.name, entry[1], entry[2], True, _KAFKA_TYPES[key.type], key.doc, (entry,))


def topic_configs(topic_overrides: Mapping[str, str], broker: BrokerConfig) -> tuple[DescribedConfig, ...]:
    """Every topic config of a topic with ``topic_overrides``, sorted by name (the lab's views show them too)."""
    return tuple(_topic_config(key, topic_overrides, broker) for _, key in sorted(TOPIC_CONFIG_KEYS.items()))


def broker_configs(broker: BrokerConfig) -> tuple[DescribedConfig, ...]:
    """Every broker config, sorted by name."""
    return tuple(_broker_config(key, broker) for _, key in sorted(BROKER_CONFIG_KEYS.items()))


def describe_configs(request: DescribeConfigsRequest, broker_id: int, known_topics: Mapping[str, int],
                     topic_overrides: Mapping[str, str], broker: BrokerConfig) -> DescribeConfigsResponse:
    """The configs ``request`` asks for; ``topic_overrides`` are the named topic's own."""
    if request.resource_type is ConfigResourceType.TOPIC:
        if request.resource_name not in known_topics:
            return DescribeConfigsResponse(ApiResult(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                                                     f"Topic '{request.resource_name}' does not exist."))
        entries = [entry for entry in topic_configs(topic_overrides, broker)
                   if request.keys is None or entry.name in request.keys]
        return DescribeConfigsResponse(ApiResult(Errors.NONE), tuple(entries))
    if request.resource_name not in ("", str(broker_id)):
        # Kafka answers only for itself; an admin client sends a broker resource to that broker.
        return DescribeConfigsResponse(ApiResult(Errors.INVALID_REQUEST,
                                                 f"Unexpected broker id, expected {broker_id} or empty string, but "
                                                 f"received {request.resource_name}"))
    entries = [entry for entry in broker_configs(broker) if request.keys is None or entry.name in request.keys]
    return DescribeConfigsResponse(ApiResult(Errors.NONE), tuple(entries))
