"""Issue 4: a scenario producing 100,000 records and killing two brokers runs headless in under 5 s.

Runs ``benchmarks/scenario_100k.yaml`` with the same runner as ``kafkalab run`` and
reports the wall time (best of N) and the records the final describe_topic shows.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kafkalab.actions.results import DescribeTopicResult
from kafkalab.scenarios.model import load_scenario
from kafkalab.scenarios.runner import ScenarioRunner

SCENARIO = Path(__file__).with_name("scenario_100k.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO)
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        report = ScenarioRunner(scenario).run()
        times.append(time.perf_counter() - started)
        assert report.ok, [step.problem for step in report.steps if not step.ok]
    described = report.steps[-1].result
    assert isinstance(described, DescribeTopicResult)
    records = sum(p.high_watermark for p in described.partitions)
    print(f"records committed: {records}; brokers alive at the end: 1 of 3")
    print(f"wall time: best {min(times):.2f} s, runs {', '.join(f'{t:.2f}' for t in times)} (target < 5 s)")


if __name__ == "__main__":
    main()
