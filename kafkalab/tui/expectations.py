"""Expectations as one line each: a tick or a box, what was expected, and what the cluster shows instead.

Shared by the lesson panel (goals ticking live) and the scenario panel (an ``expect`` step's checks).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from kafkalab.actions.results import CheckResult
from kafkalab.tui.forms import flow

#: Fields that name what a check is about rather than what it expects.
IDENTITY = ("topic", "partition", "broker", "group", "client_id", "path", "key")


def _value(value: Any) -> str:
    return value if isinstance(value, str) else flow(value)


def check_line(result: CheckResult, live: bool = True) -> Text:
    """``✓ partition orders-1: leader 2``; one that does not hold yet (``live``) or failed also says what is found."""
    expected = result.expected
    differs = "now" if live else "found"
    if result.ok:
        line = Text("✓ ", style="bold green")
    else:
        line = Text("☐ ", style="bold yellow") if live else Text("✗ ", style="bold red")
    if result.check == "event":
        where = ", ".join(f"{key}={_value(value)}" for key, value in expected.get("where", {}).items())
        times = f" ×{expected['at_least']}" if expected.get("at_least", 1) != 1 else ""
        line.append(f"event {expected.get('type')}{times}", "bold")
        line.append(f" ({where})" if where else "")
        if not result.ok:
            line.append(f"  seen {result.actual.get('count', 0)}", "dim")
        return line
    subject = "-".join(_value(expected[key]) for key in IDENTITY if key in expected)
    line.append(f"{result.check} {subject}".strip(), "bold")
    wanted = [(key, value) for key, value in expected.items() if key not in IDENTITY]
    if wanted:
        line.append(": " + ", ".join(f"{key} {_value(value)}" for key, value in wanted))
    if not result.ok:
        if result.actual.get("exists") is False and "exists" not in expected:
            line.append(f"\n  {differs}: does not exist", "dim")
        else:
            found = [f"{key} {_value(result.actual.get(key)) or '-'}" for key, value in wanted
                     if result.actual.get(key) != value]
            line.append(f"\n  {differs}: {', '.join(found)}" if found else "", "dim")
    return line
