"""A value as the text a form field, a panel or a notification shows for it: YAML flow style, text as is.

Its own module, apart from the forms, because the dashboard's panels and the result notices use it
while the forms bring the scenario validator; PyYAML and the vocabulary's ``to_plain`` load with the
first value that is not text. They all used to load before the first paint (issue 18).
"""

from __future__ import annotations

from typing import Any


def flow(value: Any) -> str:
    """``value`` in YAML flow style (``[1, zk]``, ``{retention.ms: 1000}``); text as is, None as nothing."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    import yaml

    from kafkalab.actions.base import to_plain

    text = yaml.safe_dump(to_plain(value), default_flow_style=True, width=10_000, sort_keys=False).strip()
    return text.removesuffix("...").strip()
