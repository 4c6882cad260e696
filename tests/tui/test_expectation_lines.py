"""How one expectation reads in the lesson and scenario panels."""

from __future__ import annotations

from kafkalab.actions.results import CheckResult
from kafkalab.tui.expectations import check_line


def test_a_goal_not_met_yet_says_what_the_cluster_shows() -> None:
    result = CheckResult("partition", {"topic": "orders", "partition": 0, "leader": 2},
                         {"exists": True, "leader": 3}, False)
    assert check_line(result).plain == "☐ partition orders-0: leader 2\n  now: leader 3"


def test_a_missing_value_shows_as_a_dash_not_as_nothing() -> None:
    result = CheckResult("topic", {"topic": "greetings", "exists": True, "partitions": 1},
                         {"exists": False, "partitions": None}, False)
    assert check_line(result).plain == "☐ topic greetings: exists true, partitions 1\n  now: exists false, partitions -"


def test_a_failed_expectation_after_the_fact_says_found() -> None:
    result = CheckResult("partition", {"topic": "orders", "partition": 0, "leader": 2}, {"exists": False}, False)
    assert check_line(result, live=False).plain == "✗ partition orders-0: leader 2\n  found: does not exist"
