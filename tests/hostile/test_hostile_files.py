"""Hostile scenario and lesson files end in one line, within seconds, in bounded memory.

Each case runs the real command line in a child process limited to 512 MiB of address space
and 60 s (``hostile_cli``): before these fixes several of them allocated gigabytes, recursed
until Python gave up, or never finished. A file problem is refused at validation with exit
status 2 and ``file:line:column``; a number Kafka limits is refused by Kafka's own rule.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hostile_cli import run_cli

TEN_MB = 10_000_000
MARKED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")

LAUGHS = "\n".join(["name: x", 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
                    *(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)),
                    "steps:", "  - note: *i", ""])
DEEP_BLOCKS = "name: x\nsteps:\n  - expect:\n" + "".join("    " + "  " * depth + "a:\n" for depth in range(200))
STEPS = "name: x\nsteps:\n  - create_topic: {name: t}\n"

#: (case, file contents, line, column, what the one line says)
REFUSED_AT_VALIDATION = [
    ("not UTF-8", b"name: x\nsteps:\n  - note: caf\xe9 au lait\n", 3, 14, "the file is not UTF-8 text"),
    ("a control character", "name: x\nsteps:\n  - note: a\x00b\n", 3, 12, "'\\x00' is not allowed"),
    ("flow lists nested 100,000 deep", "name: x\nsteps:\n  - note: " + "[" * 100_000 + "]" * 100_000 + "\n", 3, None,
     "nest"),
    ("mappings nested 200 deep", DEEP_BLOCKS, None, None, "more than 64 levels deep"),
    ("a billion laughs", LAUGHS, 7, 8, "more than 100,000 values once its aliases are expanded"),
    ("an alias to itself", "name: x\nsteps: &s [*s]\n", 2, 12, "undefined alias 's'"),
    ("a file over 16 MiB", "name: x\nsteps: []\n#" + "x" * (17 * 1024 * 1024) + "\n", 1, 1, "larger than 16 MiB"),
    ("count: 1000000000", STEPS + "  - produce: {topic: t, count: 1000000000}\n", 4, 32,
     "produce.count must be at most 100,000, not 1,000,000,000"),
    ("partitions: 1000000000", "name: x\nsteps:\n  - create_topic: {name: t, partitions: 1000000000}\n", 3, 41,
     "create_topic.partitions must be at most 9,999, not 1,000,000,000"),
    ("a template padded to 2e9 characters", STEPS + "  - produce: {topic: t, value: '{i:>2000000000}'}\n", 4, 32,
     "produce.value: '{i:>2000000000}' pads wider than 1,000,000 characters"),
    ("an attribute lookup in a template", STEPS + "  - produce: {topic: t, key: '{i.__class__}'}\n", 4, 30,
     "produce.key: only {i} (the record's index) may be used, not '{i.__class__}'"),
    ("an index in a header template", STEPS + "  - produce: {topic: t, headers: {h: '{i[0]}'}}\n", 4, 34,
     "produce.headers: header 'h': only {i}"),
    ("a .nan wait", "name: x\nsteps:\n  - wait: .nan\n", 3, 11, "wait.ms must be a finite number, not nan"),
    ("an .inf timeout", "name: x\nsteps:\n  - wait: {ms: 1, timeout_ms: .inf}\n", 3, 31,
     "wait.timeout_ms must be a finite number, not inf"),
    ("a wait of a day", "name: x\nsteps:\n  - wait: 86400000\n", 3, 11, "wait.ms must be at most 3,600,000"),
    ("a .nan latency", "name: x\nsteps:\n  - set_latency: {between: [1, 2], ms: .nan}\n", 3, 40,
     "set_latency.ms must be a finite number"),
    ("a steady producer at 1e12 records/s", STEPS + "  - start_producer: {id: p, topic: t, rate: 1.0e+12}\n", 4, 45,
     "start_producer.rate must be at most 100,000"),
    ("an integer of 5,000 digits", "name: x\nsteps:\n  - kill_broker: " + "9" * 5000 + "\n", 3, 18,
     "(5,000 characters) is not a value kafkalab can read"),
    ("an integer beyond Kafka's long", "name: x\nsteps:\n  - kill_broker: " + "9" * 30 + "\n", 3, 18,
     "kill_broker.broker must lie within Kafka's 64-bit long"),
    ("a broker config of 1e9 offsets partitions",
     "name: x\ncluster: {config: {offsets.topic.num.partitions: 1000000000}}\nsteps: []\n", 2, 10,
     "offsets.topic.num.partitions: value must be at most 9996"),
    ("a .nan config value", STEPS.replace("{name: t}", "{name: t, config: {min.cleanable.dirty.ratio: .nan}}"), 3, 65,
     "must be a finite number, not nan"),
    ("10 MB where a number belongs", "name: x\nsteps:\n  - kill_broker: '" + "x" * TEN_MB + "'\n", 3, 18,
     "kill_broker.broker must be an integer, not 'xxxxxxxx"),
    ("a 10 MB step name", "name: x\nsteps:\n  - ? " + "s" * TEN_MB + "\n    : 1\n", 3, 7, "(10,000,000 characters)"),
]


@pytest.mark.parametrize("case, text, line, column, message", REFUSED_AT_VALIDATION,
                         ids=[case[0] for case in REFUSED_AT_VALIDATION])
def test_run_refuses_a_hostile_file_in_one_line(tmp_path: Path, case: str, text: str | bytes, line: int | None,
                                                column: int | None, message: str) -> None:
    scenario = tmp_path / "hostile.yaml"
    scenario.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = run_cli("run", str(scenario), home=tmp_path)
    assert result.code == 2, result.err[-2000:]
    assert len(result.err_lines) == 1 and len(result.err) < 1000, result.err[:2000]
    marked = MARKED.match(result.err_lines[0])
    assert marked is not None and marked["file"] == str(scenario), result.err
    assert line is None or int(marked["line"]) == line, result.err
    assert column is None or int(marked["column"]) == column, result.err
    assert message in marked["message"], result.err
    assert result.out == ""


def test_play_refuses_a_hostile_file_before_the_tui_starts(tmp_path: Path) -> None:
    scenario = tmp_path / "hostile.yaml"
    scenario.write_text(LAUGHS)
    result = run_cli("play", str(scenario), home=tmp_path)
    assert (result.code, result.err_lines) == (2, [f"{scenario}:7:8: the file holds more than 100,000 values once "
                                                   f"its aliases are expanded"])


def test_hostile_lesson_files_are_named_and_the_rest_still_listed(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "latin1.yaml").write_bytes(b"id: x\ntitle: Caf\xe9\n")
    (lessons / "laughs.yaml").write_text(LAUGHS.replace("name: x", "id: y"))
    result = run_cli("lessons", "--lessons-dir", str(lessons), home=tmp_path)
    assert result.code == 2
    assert result.err_lines == [f"{lessons / 'latin1.yaml'}:2:11: the file is not UTF-8 text (byte 0xe9 cannot be "
                                f"read); save it as UTF-8",
                                f"{lessons / 'laughs.yaml'}:7:8: the file holds more than 100,000 values once its "
                                f"aliases are expanded"]
    assert " 1. " in result.out  # the built-in lessons are still listed


#: (case, steps after creating topic t, what the failed step's one line says)
REFUSED_BY_KAFKA = [
    ("an expectation of a 10 MB key", "  - expect: {records: {topic: t, partition: 0, key: '" + "k" * TEN_MB + "'}}\n",
     "records: expected {'topic': 't', 'partition': 0, 'key': 'kkkk"),
    ("a 10 MB key", "  - produce: {topic: t, key: '" + "k" * TEN_MB + "'}\n",
     "MESSAGE_TOO_LARGE: None of the 1 record(s) was acknowledged: The message is 10000089 bytes when serialized "
     "which is larger than 1048576, which is the value of the max.request.size configuration."),
    ("a topic name ending in a newline", '  - create_topic: {name: "orders\\n"}\n',
     "INVALID_TOPIC_EXCEPTION: Topic name is invalid: 'orders\\n' contains one or more characters other than"),
    ("a 10 MB topic name", "  - create_topic: {name: '" + "n" * TEN_MB + "'}\n",
     "INVALID_TOPIC_EXCEPTION: Topic name is invalid: the length of 'nnnn"),
    ("a record bigger than buffer.memory", "  - produce: {topic: t, value: '{i:>100000}', config: {buffer.memory: 1000}}\n",
     "configured with the buffer.memory configuration"),
]


@pytest.mark.parametrize("case, steps, error", REFUSED_BY_KAFKA, ids=[case[0] for case in REFUSED_BY_KAFKA])
def test_a_step_that_fails_says_so_in_one_short_line(tmp_path: Path, case: str, steps: str, error: str) -> None:
    scenario = tmp_path / "hostile.yaml"
    scenario.write_text(STEPS + steps)
    result = run_cli("run", str(scenario), home=tmp_path)
    assert result.code == 1, result.err[-2000:]
    assert result.err == "" and len(result.out) < 3000, result.out[:3000]
    # A failed step's line starts "!!"; an expect step's failed checks are their "✗" lines, said once.
    failure = [line for line in result.out.splitlines() if line.startswith(("      !! ", "      ✗ "))]
    assert len(failure) == 1 and error in failure[0], result.out
    assert result.out.rstrip().endswith("FAILED")


def test_nothing_a_file_asks_for_wedges_its_data_dir(tmp_path: Path) -> None:
    """Writes to an internal topic and the longest topic name used to leave a data dir that never opened again."""
    first = tmp_path / "first.yaml"
    first.write_text(STEPS + "  - consume: {group: g, client_id: c, topics: [t], timeout_ms: 2000}\n"
                             "  - produce: {topic: __consumer_offsets, key: k, value: garbage}\n"
                             "    expect_error: INVALID_TOPIC_EXCEPTION\n"
                             "  - create_topic: {name: __transaction_state}\n"
                             "    expect_error: INVALID_REQUEST\n"
                             f"  - create_topic: {{name: {'x' * 249}, partitions: 2, replication_factor: 3}}\n"
                             f"  - delete_topic: {'x' * 249}\n")
    again = tmp_path / "again.yaml"
    again.write_text("name: again\nsteps:\n  - consume: {group: g, client_id: c, topics: [t], timeout_ms: 2000}\n"
                     "  - expect: {topic: {topic: t, exists: true}}\n")
    data = tmp_path / "data"
    for scenario in (first, again, again):
        result = run_cli("run", str(scenario), "--data-dir", str(data), home=tmp_path)
        assert result.code == 0, (result.err[-2000:], result.out[-3000:])
