"""``kafkalab run FILE --bootstrap``: a scenario without lab steps gives the lab's report on a real cluster; one
with a lab step, or with writes not allowed, is refused (exit 2) before anything changes."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("confluent_kafka")

from kafkalab.attach.runner import run_on_cluster
from kafkalab.scenarios.model import load_scenario
from kafkalab.scenarios.runner import ScenarioRunner
from tests.attach.lab_server import LabServer

SEED = 7
SCENARIO = f"""\
name: Keys, configs and a describe
cluster: {{brokers: 3, seed: {SEED}}}
steps:
  - create_topic: {{name: orders, partitions: 3, replication_factor: 3, config: {{retention.ms: 3600000}}}}
  - note: Records with the same key land in the same partition.
  - produce: {{topic: orders, key: "customer-{{i}}", count: 40}}
  - describe_topic: orders
  - alter_config: {{topic: orders, set: {{min.insync.replicas: 2}}, delete: [retention.ms]}}
  - create_topic: {{name: orders, partitions: 1, replication_factor: 1}}
    expect_error: TOPIC_ALREADY_EXISTS
  - create_topic: {{name: audit_log.v1, partitions: 1, replication_factor: 1, config: {{min.insync.replicas: 2}}}}
"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[LabServer]:
    # A fresh cluster with the scenario's seed: replica placement is the lab run's own.
    server = LabServer(tmp_path / "serve", seed=SEED)
    yield server
    server.close()


def _run(path: Path, lab: LabServer, *, allow_writes: bool = True, json_report: bool = True) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_on_cluster(path, lab.bootstrap, {}, allow_writes=allow_writes, json_report=json_report,
                          verbose=False, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_same_report_as_in_the_lab(tmp_path: Path, lab: LabServer) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    in_the_lab = ScenarioRunner(load_scenario(path)).run().as_json()
    code, out, err = _run(path, lab)
    assert (code, err) == (0, "")
    attached = json.loads(out)
    assert attached["steps"] == in_the_lab["steps"]
    assert attached["ok"] is in_the_lab["ok"] is True
    described = attached["steps"][3]["result"]["partitions"]
    assert sum(p["high_watermark"] for p in described) == 40
    assert "NOT_ENOUGH_REPLICAS" in attached["steps"][6]["result"]["warning"]


def test_the_text_report_names_what_was_observed(tmp_path: Path, lab: LabServer) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    code, out, _ = _run(path, lab, json_report=False)
    assert code == 0
    assert f"Scenario: Keys, configs and a describe (on {lab.bootstrap})" in out
    assert "      - Observed: topic orders appeared with 3 partition(s), replication factor 3." in out
    assert out.rstrip().endswith("PASSED")


@pytest.mark.parametrize(("extra", "allow_writes", "refused"), [
    ("  - kill_broker: 2\n", True, "step 7 (kill_broker): kill_broker needs the lab: a real broker's process is its "
                                   "operator's to stop and start, not a Kafka client's."),
    ("  - wait: {ms: 1000}\n", True, "step 7 (wait): wait needs the lab: it runs on the lab's virtual clock; a real "
                                     "cluster's time cannot be paused or skipped."),
    ("", False, "step 0 (create_topic): create_topic changes the cluster, which is read-only unless kafkalab "
                "attach is given --allow-writes."),
])
def test_a_step_that_cannot_run_refuses_the_run_before_any_change(tmp_path: Path, lab: LabServer, extra: str,
                                                                  allow_writes: bool, refused: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO + extra)
    code, out, err = _run(path, lab, allow_writes=allow_writes)
    assert code == 2 and out == ""
    assert f"kafkalab: {refused}\n" in err
    assert lab.view().topic("orders") is None  # nothing ran
