"""Stream processors: consume, transform, produce, and commit at least once, as Kafka Streams does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kafkalab.cli import main
from kafkalab.clients.partitioners import partition_for_key
from kafkalab.scenarios.model import parse_scenario
from kafkalab.scenarios.runner import ScenarioRunner

SETUP = """
cluster: {brokers: 3, seed: 4}
steps:
  - create_topic: {name: orders, partitions: 3, replication_factor: 3}
  - create_topic: {name: orders-upper, partitions: 3, replication_factor: 3}
  - produce: {topic: orders, key: "customer-{i}", value: "order {i}", count: 30}
"""


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], steps: str) -> list[dict]:
    path = tmp_path / "s.yaml"
    path.write_text("name: processor\n" + SETUP + steps)
    code = main(["run", str(path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == (0 if report["ok"] else 1)
    return report["steps"]


def test_uppercase_keeps_keys_and_partitions_and_commits_what_it_forwarded(tmp_path, capsys) -> None:
    partition = partition_for_key(b"customer-7", 3)
    steps = run(tmp_path, capsys, f"""
  - start_processor: {{group: upper, client_id: p1, source: orders, sink: orders-upper, transform: uppercase,
                       commit_interval_ms: 1000}}
  - wait: {{ms: 5000}}
  - expect:
      topic: {{topic: orders-upper, records: 30}}
      records: {{topic: orders-upper, partition: {partition}, key: customer-7, value: ORDER 7, count: 1}}
      group: {{group: upper, state: Stable, lag: {{orders-{partition}: 0}}}}
""")
    assert all(step["ok"] for step in steps), steps


def test_a_crash_between_commits_sends_the_outputs_again(tmp_path, capsys) -> None:
    steps = run(tmp_path, capsys, """
  - start_processor: {group: upper, client_id: p1, source: orders, sink: orders-upper, transform: uppercase}
  - wait: {ms: 5000}
  - expect: {topic: {topic: orders-upper, records: 30}}
  - kill_consumer: {group: upper, client_id: p1}
  - wait: {ms: 50000}
  - start_processor: {group: upper, client_id: p2, source: orders, sink: orders-upper, transform: uppercase}
  - wait: {ms: 10000}
  - expect: {topic: {topic: orders-upper, records: 60}}
  - stop_consumer: {group: upper, client_id: p2}
  - expect: {group: {group: upper, total_lag: 0}}
""")
    # Nothing was committed in the 5 s before the crash (commit.interval.ms is 30 s), so the
    # second processor starts from the beginning and writes every output a second time.
    assert all(step["ok"] for step in steps), steps


def test_a_clean_stop_commits_so_a_restart_sends_nothing_twice(tmp_path, capsys) -> None:
    steps = run(tmp_path, capsys, """
  - start_processor: {group: upper, client_id: p1, source: orders, sink: orders-upper}
  - wait: {ms: 5000}
  - stop_consumer: {group: upper, client_id: p1}
  - start_processor: {group: upper, client_id: p2, source: orders, sink: orders-upper}
  - produce: {topic: orders, key: "customer-{i}", value: "late {i}", count: 3}
  - wait: {ms: 10000}
  - expect: {topic: {topic: orders-upper, records: 33}}
""")
    assert all(step["ok"] for step in steps), steps


def test_key_by_value_moves_records_to_the_partition_of_their_new_key(tmp_path, capsys) -> None:
    partition = partition_for_key(b"order 7", 3)
    steps = run(tmp_path, capsys, f"""
  - start_processor: {{group: rekey, client_id: p1, source: orders, sink: orders-upper, transform: key_by_value,
                       contains: "7"}}
  - wait: {{ms: 5000}}
  - expect:
      topic: {{topic: orders-upper, records: 3}}
      records: {{topic: orders-upper, partition: {partition}, key: order 7, value: order 7, count: 1}}
""")
    assert all(step["ok"] for step in steps), steps


def test_bad_processors_get_kafka_errors_and_start_nothing(tmp_path, capsys) -> None:
    steps = run(tmp_path, capsys, """
  - start_processor: {group: g, client_id: p1, source: orders, sink: orders, expect_error: INVALID_ARGUMENT}
  - delete_topic: orders-upper
  - wait: {ms: 2000}
  - start_processor: {group: g, client_id: p1, source: orders, sink: orders-upper,
                      expect_error: UNKNOWN_TOPIC_OR_PARTITION}
  - start_consumer: {group: g, client_id: p1, topics: [orders]}
""")
    # The refused processors registered nothing: a consumer of the same name starts.
    assert all(step["ok"] for step in steps), steps


def test_a_lost_output_stops_the_processor_without_committing(tmp_path, capsys) -> None:
    steps = run(tmp_path, capsys, """
  - create_topic: {name: out, partitions: 1, replication_factor: 3}
  - start_processor: {group: up, client_id: p1, source: orders, sink: out, commit_interval_ms: 1000}
  - wait: {ms: 8000}
  - expect: {group: {group: up, committed: {orders-0: 10, orders-1: 13, orders-2: 7}}}
  - delete_topic: out
  - produce: {topic: orders, key: "customer-{i}", value: "late {i}", count: 3}
  - wait: {until: {group: {group: up, members: 0}}, timeout_ms: 300000}
  - expect:
      event: {type: ProcessorFailed, where: {client_id: p1, sink: out, failed: 3, error: REQUEST_TIMED_OUT}}
      group: {group: up, committed: {orders-0: 10, orders-1: 13, orders-2: 7}}
""")
    # The three late orders were read but their outputs were lost: nothing past them was committed.
    assert all(step["ok"] for step in steps), steps


def test_exactly_once_v2_a_crash_between_commits_leaves_no_duplicate_for_read_committed(tmp_path, capsys) -> None:
    steps = run(tmp_path, capsys, """
  - start_processor: {group: upper, client_id: p1, source: orders, sink: orders-upper, transform: uppercase,
                      processing_guarantee: exactly_once_v2, commit_interval_ms: 30000}
  - wait: {ms: 5000}
  - kill_consumer: {group: upper, client_id: p1}
  - wait: {ms: 50000}
  - start_processor: {group: upper, client_id: p2, source: orders, sink: orders-upper, transform: uppercase,
                      processing_guarantee: exactly_once_v2}
  - wait: {ms: 10000}
  - stop_consumer: {group: upper, client_id: p2}
  - expect: {group: {group: upper, total_lag: 0}, event: {type: TransactionTimedOut, where: {transactional_id: upper-p1}}}
  - consume: {group: readers, client_id: committed, topics: [orders-upper], isolation_level: read_committed}
  - consume: {group: readers2, client_id: everything, topics: [orders-upper]}
""")
    assert all(step["ok"] for step in steps), steps
    committed = [r["value"] for r in steps[-2]["result"]["records"]]
    everything = [r["value"] for r in steps[-1]["result"]["records"]]
    # The crashed processor's outputs are in the log but aborted: only read_uncommitted readers see them twice.
    assert sorted(committed) == sorted(f"ORDER {i}" for i in range(30))
    assert len(everything) == 60


def events_of(steps: str) -> list[list[tuple[str, str]]]:
    """The events each step caused (the JSON report leaves them out)."""
    report = ScenarioRunner(parse_scenario("name: processor\n" + SETUP + steps, "s.yaml")).run()
    assert report.ok, [step.as_json() for step in report.steps if not step.ok]
    return [step.events for step in report.steps]


@pytest.mark.parametrize("guarantee", ["exactly_once_v2", "at_least_once"])
def test_an_idle_processor_commits_nothing(guarantee: str) -> None:
    steps = events_of(f"""
  - start_processor: {{group: upper, client_id: p1, source: orders, sink: orders-upper,
                      processing_guarantee: {guarantee}, commit_interval_ms: 100}}
  - wait: {{ms: 5000}}
  - expect: {{group: {{group: upper, total_lag: 0}}}}
  - wait: {{ms: 5000}}
""")
    # As Kafka Streams commits only tasks with commitNeeded(): nothing read since the last commit, no
    # empty transaction (no markers) and no offset commit (no __consumer_offsets record, not even one
    # repeating the offsets), however often commit.interval.ms comes round.
    idle = steps[-1]
    assert not [text for kind, text in idle if kind in ("transaction", "commit") or "__consumer_offsets" in text], idle
    # While it had work, it did commit.
    assert any(kind == "commit" and "Group upper" in text for kind, text in steps[-3])


@pytest.mark.parametrize("protocol", ["range", "cooperative-sticky"])
def test_exactly_once_v2_a_rebalance_leaves_no_duplicate_for_read_committed(tmp_path, capsys, protocol: str) -> None:
    steps = run(tmp_path, capsys, f"""
  - start_processor: {{group: upper, client_id: p1, source: orders, sink: orders-upper, transform: uppercase,
                      processing_guarantee: exactly_once_v2, commit_interval_ms: 60000, strategy: {protocol}}}
  - wait: {{ms: 5000}}
  - start_processor: {{group: upper, client_id: p2, source: orders, sink: orders-upper, transform: uppercase,
                      processing_guarantee: exactly_once_v2, commit_interval_ms: 60000, strategy: {protocol}}}
  - wait: {{until: {{group: {{group: upper, state: Stable, members: 2}}}}, timeout_ms: 60000}}
  - produce: {{topic: orders, key: "customer-{{i}}", value: "late {{i}}", count: 6}}
  - wait: {{ms: 5000}}
  - stop_consumer: {{group: upper, client_id: p1}}
  - stop_consumer: {{group: upper, client_id: p2}}
  - wait: {{ms: 1000}}
  - expect: {{group: {{group: upper, total_lag: 0}}}}
  - consume: {{group: readers, client_id: committed, topics: [orders-upper], isolation_level: read_committed}}
""")
    assert all(step["ok"] for step in steps), steps
    committed = [r["value"] for r in steps[-1]["result"]["records"]]
    # p1 committed its 30 outputs with their input offsets before giving its partitions up (Streams'
    # handleRevocation), so p2 started after them: every input's output once, nothing aborted twice over.
    assert sorted(committed) == sorted([f"ORDER {i}" for i in range(30)] + [f"LATE {i}" for i in range(6)])


def test_at_least_once_a_rebalance_commits_first_so_nothing_is_sent_twice(tmp_path, capsys) -> None:
    steps = run(tmp_path, capsys, """
  - start_processor: {group: upper, client_id: p1, source: orders, sink: orders-upper}
  - wait: {ms: 5000}
  - start_processor: {group: upper, client_id: p2, source: orders, sink: orders-upper}
  - wait: {until: {group: {group: upper, state: Stable, members: 2}}, timeout_ms: 60000}
  - wait: {ms: 5000}
  - expect:
      topic: {topic: orders-upper, records: 30}
      group: {group: upper, committed: {orders-0: 10, orders-1: 13, orders-2: 7}}
""")
    # Nothing committed in the 5 s before p2 joined (commit.interval.ms is 30 s), yet the rebalance
    # moved no partition from before a commit: p1 flushed and committed when its partitions were revoked.
    assert all(step["ok"] for step in steps), steps


def _each_output_read_once(steps: str) -> list[str]:
    """Run ``steps`` (the last a read_committed consume of orders-upper) and check that every order, late and later
    input's output is read exactly once; the events' texts in order."""
    report = ScenarioRunner(parse_scenario("name: processor\n" + SETUP + steps, "s.yaml")).run()
    assert report.ok, [step.as_json() for step in report.steps if not step.ok]
    committed = [record["value"] for record in report.steps[-1].as_json()["result"]["records"]]
    assert sorted(committed) == sorted([f"ORDER {i}" for i in range(30)] + [f"LATE {i}" for i in range(6)]
                                       + [f"LATER {i}" for i in range(6)])
    return [text for step in report.steps for _, text in step.events]


def test_exactly_once_v2_lost_partitions_abort_the_open_transaction() -> None:
    events = _each_output_read_once("""
  - start_processor: {group: upper, client_id: p1, source: orders, sink: orders-upper, transform: uppercase,
                      processing_guarantee: exactly_once_v2, commit_interval_ms: 9000}
  - wait: {ms: 5000}
  - start_processor: {group: upper, client_id: p2, source: orders, sink: orders-upper, transform: uppercase,
                      processing_guarantee: exactly_once_v2, commit_interval_ms: 9000}
  - wait: {until: {group: {group: upper, state: Stable, members: 2}}, timeout_ms: 60000}
  - wait: {ms: 10000}
  - cut_link: [p1, 1]
  - wait: {ms: 50000}
  - heal_link: [p1, 1]
  - wait: {ms: 15000}
  - produce: {topic: orders, key: "customer-{i}", value: "late {i}", count: 6}
  - wait: {ms: 20000}
  - produce: {topic: orders, key: "customer-{i}", value: "later {i}", count: 6}
  - wait: {ms: 20000}
  - stop_consumer: {group: upper, client_id: p1}
  - stop_consumer: {group: upper, client_id: p2}
  - expect: {group: {group: upper, total_lag: 0}}
  - consume: {group: readers, client_id: committed, topics: [orders-upper], isolation_level: read_committed}
""")
    # As Kafka Streams' handleLostAll: the aborted outputs are p2's to produce, so every input's output is read once.
    # Broker 1 coordinates group upper: cut from it, p1 is removed after session.timeout.ms and p2 gets every
    # partition. p1 has not heard yet: it processes late orders of the partitions it thinks it owns, in a
    # transaction, and then learns it lost them. Left open, that transaction would commit them a second time.
    lost = events.index("Consumer p1 lost orders-0, orders-1: its membership ended (session or generation expired).")
    after = events[lost:]
    assert any(text.startswith("Transaction upper-p1 (producer 1, epoch 0) Ongoing -> PrepareAbort") for text in after)
    # It keeps processing afterwards: a new transaction commits its outputs with their input offsets.
    assert any(text.startswith("Transaction upper-p1 (producer 1, epoch 0) Ongoing -> PrepareCommit on coordinator 1 "
                               "(__consumer_offsets") for text in after), after


def zombie_steps(guarantee: str, coordinator: int, isolation: str) -> str:
    """p1 and p2 process orders; p1 is cut from the group's ``coordinator`` until the group removed it, late orders
    arrive just before the link heals (p1 processes them as a zombie), later orders after; then every output is read
    at ``isolation``."""
    processor = ("  - start_processor: {{group: upper, client_id: {client}, source: orders, sink: orders-upper, "
                 f"transform: uppercase,\n      processing_guarantee: {guarantee}, commit_interval_ms: 9000}}}}\n")
    return (processor.format(client="p1") + "  - wait: {ms: 5000}\n" + processor.format(client="p2") + f"""\
  - wait: {{until: {{group: {{group: upper, state: Stable, members: 2}}}}, timeout_ms: 60000}}
  - wait: {{ms: 10000}}
  - cut_link: [p1, {coordinator}]
  - wait: {{ms: 50000}}
  - produce: {{topic: orders, key: "customer-{{i}}", value: "late {{i}}", count: 6}}
  - wait: {{ms: 1000}}
  - heal_link: [p1, {coordinator}]
  - wait: {{ms: 30000}}
  - produce: {{topic: orders, key: "customer-{{i}}", value: "later {{i}}", count: 6}}
  - wait: {{ms: 20000}}
  - stop_consumer: {{group: upper, client_id: p1}}
  - stop_consumer: {{group: upper, client_id: p2}}
  - expect: {{group: {{group: upper, total_lag: 0}}}}
  - consume: {{group: readers, client_id: all, topics: [orders-upper], isolation_level: {isolation}}}
""")


def test_exactly_once_v2_a_zombie_cannot_commit_offsets_in_its_transaction() -> None:
    events = _each_output_read_once(zombie_steps("exactly_once_v2", coordinator=1, isolation="read_committed"))
    # p1 was removed from the group during the cut (broker 1 coordinates group upper) and p2 took every partition,
    # but p1 has not heard: it processes the late orders of the partitions it thinks it owns, and its commit comes
    # before its next heartbeat. With its group metadata (KIP-447) the coordinator refuses its offsets
    # (ILLEGAL_GENERATION -> CommitFailed -> Streams' TaskMigratedException): it aborts instead of committing outputs
    # p2 produces too. Each input's output is read once.
    healed = events.index("Network link p1 <-> Broker 1 healed.")
    lost = events.index("Consumer p1 lost orders-0, orders-1: its membership ended (session or generation expired).")
    aborted = next(index for index, text in enumerate(events)
                   if text.startswith("Transaction upper-p1 (producer 1, epoch 0) Ongoing -> PrepareAbort"))
    assert healed < aborted < lost  # aborted on the refused commit, before the heartbeat told it
    # After it rejoins it keeps processing: a new transaction commits its outputs with their input offsets.
    assert any(text.startswith("Transaction upper-p1 (producer 1, epoch 0) Ongoing -> PrepareCommit on coordinator 1 "
                               "(__consumer_offsets") for text in events[lost:])


def test_at_least_once_a_zombie_commit_refused_drops_its_tasks_and_rejoins() -> None:
    report = ScenarioRunner(parse_scenario("name: processor\n" + SETUP + zombie_steps(
        "at_least_once", coordinator=3, isolation="read_uncommitted"), "s.yaml")).run()
    assert report.ok, [step.as_json() for step in report.steps if not step.ok]
    events = [text for step in report.steps for _, text in step.events]
    # Broker 3 coordinates group upper here: cut from it, p1 is removed and p2 takes every partition. p1 has not
    # heard: it processes late orders of the partitions it thinks it owns, and its commit comes before its next
    # heartbeat. The coordinator refuses it (ILLEGAL_GENERATION -> CommitFailedException); as Kafka Streams'
    # TaskExecutor turns that into TaskMigratedException, p1 drops its tasks and rejoins instead of stopping.
    healed = events.index("Network link p1 <-> Broker 3 healed.")
    refused = events.index("Processor p1 of group upper could not commit (COMMIT_FAILED): the group moved on without "
                           "it. It drops its tasks uncommitted, rejoins; the outputs it sent stay, and the partitions' "
                           "next owner processes that input again (at least once: duplicates).")
    assert healed < refused
    assert not any(text.startswith("Processor p1 of group upper stops") for text in events)
    assert any(text.startswith("Group upper committed") and text.endswith("(by p1, generation 4).")
               for text in events[refused:])
    outputs = [record["value"] for record in report.steps[-1].as_json()["result"]["records"]]
    expected = [f"ORDER {i}" for i in range(30)] + [f"LATE {i}" for i in range(6)] + [f"LATER {i}" for i in range(6)]
    assert set(outputs) == set(expected)
    # p1's outputs of the late orders stay and p2 produced them too: at least once, not exactly once.
    assert len(outputs) > len(expected)
