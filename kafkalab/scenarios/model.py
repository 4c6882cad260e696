"""A scenario file: a cluster and the steps to run on it, validated before anything runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import kafkalab.actions  # noqa: F401  (registers every action)
from kafkalab.actions.base import REGISTRY, Action, doc
from kafkalab.actions.checks import Checks
from kafkalab.config import parse_broker_configs
from kafkalab.errors import Errors, KafkaError, quoted
from kafkalab.scenarios.validate import Builder, suggest
from kafkalab.scenarios.yaml_source import Mark, Node, SourceError, load_yaml, read_source

STEP_OPTIONS = ("allow_errors", "expect_error")
ERROR_NAMES = [error.name for error in Errors]


@dataclass(frozen=True)
class ClusterSpec:
    """The cluster a scenario runs on."""

    brokers: int = doc("Number of brokers (1-9).", 3, minimum=1, maximum=9)
    seed: int = doc("Seed for every random choice (replica placement, partitioners ...).", 0)
    config: dict[str, bool | int | float | str] = doc("Broker config overrides with Kafka's names.", {})
    mode: Literal["zookeeper", "kraft"] = doc("zookeeper (Kafka 3.9: a broker is the controller) or kraft (Kafka 4.1: "
                                              "a quorum of controllers keeps a metadata log).", "zookeeper")
    controllers: int | None = doc("KRaft mode: number of controllers (1-5, default 3).", None, minimum=1, maximum=5)


@dataclass(frozen=True)
class Step:
    """One action of a scenario, where it is in the file, and which errors it tolerates."""

    index: int
    action: Action
    mark: Mark
    allow_errors: bool = False
    expect_error: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file."""

    name: str
    description: str
    cluster: ClusterSpec
    steps: tuple[Step, ...]
    file: str


def parse_step(builder: Builder, node: Node, index: int) -> Step | None:
    """One step (an action plus allow_errors / expect_error), or None after recording problems."""
    if not isinstance(node.value, dict):
        builder.fail(node.mark, f"step {index} must be a mapping like `kill_broker: 1`, not {quoted(node.value)}")
        return None
    names = [key for key in node.value if key not in STEP_OPTIONS]
    if len(names) != 1:
        builder.fail(node.mark, f"step {index} must name exactly one action, found {names or 'none'}")
        return None
    name = names[0]
    action_type = REGISTRY.get(name)
    if action_type is None:
        builder.fail(node.key_marks[name], f"unknown step {quoted(name)}{suggest(name, list(REGISTRY))}; "
                                           f"valid steps: {', '.join(sorted(REGISTRY))}")
        return None
    body = node.value[name]
    options = {key: node.value[key] for key in STEP_OPTIONS if key in node.value}
    if isinstance(body.value, dict):
        for key in STEP_OPTIONS:
            if key in body.value:
                options[key] = body.value[key]
        body = Node({k: v for k, v in body.value.items() if k not in STEP_OPTIONS}, body.mark,
                    {k: v for k, v in body.key_marks.items() if k not in STEP_OPTIONS})
    allow = builder.build(options["allow_errors"], bool, f"steps[{index}].allow_errors") \
        if "allow_errors" in options else False
    expect_error = None
    if "expect_error" in options:
        expect_error = builder.build(options["expect_error"], str, f"steps[{index}].expect_error")
        if expect_error is not None and expect_error not in ERROR_NAMES:
            builder.fail(options["expect_error"].mark,
                         f"unknown Kafka error {quoted(expect_error)}{suggest(expect_error, ERROR_NAMES)}")
    action = builder.dataclass(body, action_type, name, inline=action_type.inline)
    if action is None:
        return None
    return Step(index, action, node.mark, bool(allow), expect_error)


def parse_steps(builder: Builder, node: Node, what: str) -> list[Step]:
    """A list of steps; problems are recorded in ``builder``."""
    if not isinstance(node.value, list):
        builder.fail(node.mark, f"{what} must be a list of actions")
        return []
    return [step for index, item in enumerate(node.value) if (step := parse_step(builder, item, index)) is not None]


def topics_used(action: Action) -> list[str]:
    """The topics an action names (its topic, source, sink, topics, or its expectations')."""
    topics: list[str] = []
    for attribute in ("topic", "source", "sink"):
        value = getattr(action, attribute, None)
        if isinstance(value, str):
            topics.append(value)
    topics += [t for t in getattr(action, "topics", ()) or () if isinstance(t, str)]
    checks = getattr(action, "checks", None) or getattr(action, "until", None)
    if isinstance(checks, Checks):
        topics += checks.topics()
    return topics


def check_topic_references(builder: Builder, steps: list[Step], existing: frozenset[str]) -> None:
    """A step may only name a topic that exists by then (unless it expects an error)."""
    known = set(existing)
    for step in steps:
        if step.action.step == "create_topic":
            known.add(step.action.name)  # type: ignore[attr-defined]
            continue
        if step.action.step == "delete_topic":
            known.discard(step.action.topic)  # type: ignore[attr-defined]
            continue
        if step.allow_errors or step.expect_error:
            continue
        for topic in topics_used(step.action):
            if topic not in known:
                builder.fail(step.mark, f"step {step.index} ({step.action.step}) uses topic {quoted(topic)}, which no "
                                        f"earlier step creates{suggest(topic, sorted(known))}")


def parse_scenario(text: str, file: str, existing_topics: frozenset[str] = frozenset()) -> Scenario:
    """Validate a scenario's YAML text; SourceError lists every problem with its position."""
    root = load_yaml(text, file)
    builder = Builder()
    if not isinstance(root.value, dict):
        raise SourceError([(root.mark, "a scenario must be a mapping with name, cluster and steps")])
    allowed = ("name", "description", "cluster", "steps")
    for key in root.value:
        if key not in allowed:
            builder.fail(root.key_marks[key], f"unknown top-level key {quoted(key)}{suggest(key, list(allowed))}; "
                                              f"expected: {', '.join(allowed)}")
    name = builder.build(root.value["name"], str, "name") if "name" in root.value else None
    if name is None and "name" not in root.value:
        builder.fail(root.mark, "the scenario is missing required key 'name'")
    description = builder.build(root.value["description"], str, "description") if "description" in root.value else ""
    cluster = builder.dataclass(root.value["cluster"], ClusterSpec, "cluster") if "cluster" in root.value \
        else ClusterSpec()
    steps: list[Step] = []
    steps_node = root.value.get("steps")
    if steps_node is None:
        builder.fail(root.mark, "the scenario is missing required key 'steps' (a list of actions)")
    else:
        steps = parse_steps(builder, steps_node, "steps")
    if cluster is not None:
        validate_cluster(builder, cluster, root.value.get("cluster"))
    builder.raise_if_failed()
    check_topic_references(builder, steps, existing_topics)
    builder.raise_if_failed()
    return Scenario(name or "", description or "", cluster, tuple(steps), file)


def validate_cluster(builder: Builder, cluster: ClusterSpec, node: Node | None) -> None:
    """The broker config overrides must be Kafka's keys with valid values."""
    mark = node.mark if node is not None else Mark("?", 1, 1)
    try:
        parse_broker_configs(cluster.config)
    except KafkaError as exc:
        builder.fail(mark, f"cluster.config: {exc}")
    if cluster.controllers is not None and cluster.mode != "kraft":
        builder.fail(mark, "cluster.controllers: only a KRaft cluster has controllers (add mode: kraft).")


def load_scenario(path: Path, existing_topics: frozenset[str] = frozenset()) -> Scenario:
    """Read and validate a scenario file."""
    text = read_source(Path(path))
    return parse_scenario(text, str(path), existing_topics)
