"""Producer and consumer configuration: Kafka's key names and defaults, parsed like broker configs.

A client takes a mapping keyed by Kafka's names (``{"acks": "all"}``) and/or Python
keyword arguments with dots written as underscores (``enable_idempotence=True``); both
are validated with the same rules as topic and broker configs (INVALID_CONFIG with a
"did you mean" hint for a misspelt key). A value of None means "Kafka's default".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kafkalab.config import ConfigKey, parse_configs


def merge_client_configs(config: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """One mapping of Kafka-named settings from a config dict and ``snake_case`` keyword arguments."""
    merged = {str(key): value for key, value in (config or {}).items()}
    merged.update({key.replace("_", "."): value for key, value in kwargs.items()})
    return {key: value for key, value in merged.items() if value is not None}


@dataclass(frozen=True)
class ClientConfig:
    """Effective client settings: Kafka's defaults with the explicit ones over them."""

    keys: Mapping[str, ConfigKey]
    explicit: Mapping[str, Any]

    @classmethod
    def parse(cls, keys: Mapping[str, ConfigKey], values: Mapping[str, Any], what: str) -> ClientConfig:
        """Validate ``values`` against ``keys``; raises INVALID_CONFIG on the first bad one."""
        return cls(keys, parse_configs(values, keys, what))

    def __getitem__(self, name: str) -> Any:
        if name in self.explicit:
            return self.explicit[name]
        return self.keys[name].default

    def is_set(self, name: str) -> bool:
        """True when the user gave this setting (Kafka treats some defaults differently then)."""
        return name in self.explicit
