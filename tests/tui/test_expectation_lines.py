"""How one expectation reads in the lesson and scenario panels: as a sentence, then what the cluster shows."""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass

import pytest

from kafkalab.actions.checks import Checks
from kafkalab.actions.results import CheckResult
from kafkalab.lessons.catalog import load_catalog
from kafkalab.tui.expectations import check_line, sentence


@pytest.mark.parametrize(("result", "line"), [
    (CheckResult("records", {"topic": "greetings", "partition": 0, "key": "alice", "count": 3},
                 {"broker": 1, "count": 1, "offsets": [3]}, False),
     "☐ 3 records with key alice in greetings-0\n  now: 1 record"),
    (CheckResult("records", {"topic": "greetings", "partition": 0, "at_least": 3},
                 {"broker": 1, "count": 0, "offsets": []}, False),
     "☐ at least 3 records in greetings-0\n  now: 0 records"),
    (CheckResult("partition", {"topic": "orders", "partition": 0, "leader": 2, "isr": [2, 3]},
                 {"leader": 3, "isr": [2, 3]}, False),
     "☐ orders-0 has leader 2 and ISR [2, 3]\n  now: leader 3"),
    (CheckResult("consumed", {"group": "readers", "at_least": 4}, {"count": 4}, True),
     "✓ group readers consumed at least 4 records"),
    (CheckResult("event", {"type": "IsrShrunk", "where": {"topic": "ledger", "removed": [4]}, "at_least": 1},
                 {"count": 0}, False),
     "☐ IsrShrunk happened (topic ledger, removed [4])\n  now: seen 0"),
    (CheckResult("broker", {"broker": 3, "state": "not running"}, {"state": "running"}, False),
     "☐ broker 3 is not running\n  now: running"),
    (CheckResult("link", {"between": [2, 3], "up": True}, {"between": [2, 3], "up": False}, False),
     "☐ the link between 2 and 3 is up\n  now: cut"),
    (CheckResult("topic", {"topic": "greetings", "exists": True, "partitions": 1}, {"exists": False}, False),
     "☐ topic greetings exists with 1 partition\n  now: it does not exist"),
])
def test_a_goal_reads_as_a_sentence_and_says_what_the_cluster_shows(result: CheckResult, line: str) -> None:
    assert check_line(result).plain == line


def test_a_failed_expectation_after_the_fact_says_found() -> None:
    result = CheckResult("partition", {"topic": "orders", "partition": 0, "leader": 2}, {"exists": False}, False)
    assert check_line(result, live=False).plain == "✗ orders-0 has leader 2\n  found: it does not exist"


def _expected(goal: Checks) -> list[CheckResult]:
    """A goal's checks with what each expects, as ``evaluate`` would give them (held, so no "now" part)."""
    results = []
    for item in fields(goal):
        value = getattr(goal, item.name)
        for check in value if isinstance(value, tuple) else () if value is None else (value,):
            expected = ({item.name: check} if not is_dataclass(check) else
                        {f.name: getattr(check, f.name) for f in fields(check) if getattr(check, f.name) is not None})
            results.append(CheckResult(item.name, expected, {}, True))
    return results


def test_every_lesson_goal_reads_without_field_names() -> None:
    """No goal of a built-in lesson shows a check's field names (``at_least``, ``high_watermark``)."""
    lines = [sentence(result) for lesson in load_catalog().lessons for step in lesson.steps
             for result in _expected(step.content.goal)]
    assert lines and [line for line in lines if re.search(r"\b[a-z]+_[a-z_]+\b", line.replace("__", ""))] == []
