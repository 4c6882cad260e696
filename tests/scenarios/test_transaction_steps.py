"""Transactions in scenario steps: produce with transactional_id and end, isolation_level, the LSO, fencing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kafkalab.cli import main

SETUP = """
cluster: {brokers: 3, seed: 5}
steps:
  - create_topic: {name: payments, partitions: 1, replication_factor: 3}
"""


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], steps: str) -> list[dict]:
    path = tmp_path / "s.yaml"
    path.write_text("name: transactions\n" + SETUP + steps)
    main(["run", str(path), "--json"])
    return json.loads(capsys.readouterr().out)["steps"]


def values(step: dict) -> list[str]:
    return [record["value"] for record in step["result"]["records"]]


def test_read_committed_skips_aborted_records_and_stops_at_an_open_transaction(tmp_path, capsys) -> None:
    steps = run(tmp_path, capsys, """
  - produce: {topic: payments, value: "paid {i}", count: 3, transactional_id: shop, end: commit}
  - produce: {topic: payments, value: "refund {i}", count: 2, transactional_id: shop, end: abort}
  - produce: {topic: payments, value: "late {i}", count: 2, transactional_id: shop, end: open}
  - describe_topic: payments
  - consume: {group: committed, client_id: c1, topics: [payments], isolation_level: read_committed}
  - consume: {group: everything, client_id: c2, topics: [payments]}
  - produce: {topic: payments, value: "late-end", transactional_id: shop, end: commit}
  - consume: {group: committed2, client_id: c3, topics: [payments], isolation_level: read_committed}
""")
    assert all(step["ok"] for step in steps), steps
    partition = steps[4]["result"]["partitions"][0]
    # paid 0-2 (0-2), COMMIT (3), refund 0-1 (4-5), ABORT (6), late 0-1 (7-8): the open transaction starts at 7.
    assert (partition["high_watermark"], partition["last_stable_offset"]) == (9, 7)
    assert values(steps[5]) == ["paid 0", "paid 1", "paid 2"]
    assert values(steps[6]) == ["paid 0", "paid 1", "paid 2", "refund 0", "refund 1", "late 0", "late 1"]
    assert values(steps[8]) == ["paid 0", "paid 1", "paid 2", "late 0", "late 1", "late-end"]


def test_a_second_instance_fences_the_first_and_its_commit_fails(tmp_path, capsys) -> None:
    steps = run(tmp_path, capsys, """
  - produce: {topic: payments, value: "zombie {i}", count: 2, transactional_id: shop, end: open,
              config: {client.id: first}}
  - produce: {topic: payments, value: "fresh", transactional_id: shop, config: {client.id: second}}
  - wait: 1000  # the commit returned once PrepareCommit was written; the markers follow
  - describe_transaction: shop
  - produce: {topic: payments, value: "zombie again", transactional_id: shop, config: {client.id: first},
              allow_errors: true}
  - expect: {last_error: PRODUCER_FENCED}
  - consume: {group: committed, client_id: c1, topics: [payments], isolation_level: read_committed}
""")
    assert all(step["ok"] for step in steps), steps
    described = steps[4]["result"]
    # The second instance's InitProducerId aborted the open transaction with one bump and took the next epoch.
    assert (described["state"], described["producer_epoch"], described["partitions"]) == ("CompleteCommit", 2, [])
    assert values(steps[7]) == ["fresh"]
