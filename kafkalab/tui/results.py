"""How the TUI tells what an action did, chosen by the type of its result.

``result_text`` is the line a notification (and the scenario panel) shows; ``focus`` is
the partition the views should turn to afterwards ("see where it went"). Results without
a rule of their own show their fields and move nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

from kafkalab.actions.results import (
    ActionResult,
    ConsumeResult,
    CreateTopicResult,
    ExpectResult,
    NoteResult,
    ProduceResult,
    SeekResult,
)
from kafkalab.tui.flow import flow

#: Records a notification lists one by one; the rest are counted.
RECORDS_LISTED = 8


@dataclass(frozen=True)
class Focus:
    """Where the views turn after an action: a topic, and a partition of it (None: its first)."""

    topic: str
    partition: int | None = None


def _more(shown: list[str], total: int) -> str:
    return ", ".join(shown) + (f" and {total - len(shown)} more" if total > len(shown) else "")


@singledispatch
def result_text(result: ActionResult) -> str:
    """One line saying what the action did: by default its fields, as a form would show them."""
    return flow(result.as_json()) or "done"


@result_text.register
def _(result: ProduceResult) -> str:
    landed = result.landed
    text = "went to " + _more([f"{r.topic}-{r.partition} @ {r.offset}" for r in landed[:RECORDS_LISTED]],
                              len(landed))
    failed = [record.error for record in result.records if record.error is not None]
    if failed:
        text += f"; {len(failed)} failed ({failed[0]})"
    return text


@result_text.register
def _(result: ConsumeResult) -> str:
    records = result.records
    if not records:
        return "got no records before the timeout"
    listed = [f"{r.topic}-{r.partition} @ {r.offset}: {r.key if r.key is not None else '∅'} → "
              f"{r.value if r.value is not None else '∅'}" for r in records[:RECORDS_LISTED]]
    return f"got {len(records)} record(s): " + _more(listed, len(records))


@result_text.register
def _(result: ExpectResult) -> str:
    failed = result.failed
    if not failed:
        return f"all {len(result.checks)} expectation(s) hold"
    return f"{len(failed)} of {len(result.checks)} expectation(s) failed: " + ", ".join(c.check for c in failed)


@result_text.register
def _(result: NoteResult) -> str:
    return result.text


@singledispatch
def focus(result: ActionResult) -> Focus | None:
    """The topic and partition to select after ``result``, if the action was about one."""
    return None


@focus.register
def _(result: ProduceResult) -> Focus | None:
    landed = result.landed
    return Focus(landed[0].topic, landed[0].partition) if landed else None


@focus.register
def _(result: SeekResult) -> Focus | None:
    return Focus(result.topic, result.partition)


@focus.register
def _(result: CreateTopicResult) -> Focus | None:
    return Focus(result.topic)
