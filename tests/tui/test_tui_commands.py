"""The command registry feeds bindings, help and palette; forms type input like scenario files do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kafkalab.actions import REGISTRY
from kafkalab.actions.client_actions import Produce
from kafkalab.actions.cluster_actions import AlterConfig, CreateTopic, CutLink, KillBroker
from kafkalab.errors import KafkaError
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.commands import (
    ACTION_SPECS,
    NOT_USER_ACTIONS,
    UI_COMMANDS,
    action_specs,
    action_summary,
    bindings,
    needs_form,
)
from kafkalab.tui.forms import flow, parse_action
from kafkalab.tui.help import help_table

ROOT = Path(__file__).parents[2]
LESSONS_DIR = ROOT / "lessons"
README = ROOT / "README.md"
#: The palette's nouns: a quoted ``noun: verb`` with one of them must be a command that exists.
NOUNS = {spec.title.split(": ")[0] for spec in action_specs()} | {c.title.split(": ")[0] for c in UI_COMMANDS}


class TestRegistry:
    def test_every_binding_has_an_id_a_description_and_a_sentence(self) -> None:
        """A vocabulary action's key has its action's summary (looked up when shown), every other key a tooltip."""
        for binding in bindings():
            assert binding.id and binding.description, binding
            assert bool(binding.tooltip) != bool(action_summary(binding.action)), binding

    def test_binding_ids_and_keys_are_unique(self) -> None:
        keys = [key for binding in bindings() for key in binding.key.split(",")]
        ids = [binding.id for binding in bindings()]
        assert len(keys) == len(set(keys))
        assert len(ids) == len(set(ids))

    def test_every_user_action_of_the_vocabulary_is_offered(self) -> None:
        offered = {spec.step for spec in action_specs()}
        assert offered == set(REGISTRY) - NOT_USER_ACTIONS

    def test_palette_titles_are_a_noun_and_what_to_do_to_it(self) -> None:
        """One scheme: ``consumer: start`` beside ``consumer: kill``, never ``action: kill consumer``."""
        titles = [c.title for c in UI_COMMANDS] + [s.title for s in action_specs()]
        for title in titles:
            noun, _, verb = title.partition(": ")
            assert noun and verb and noun != "action" and " " not in noun, title
        assert len(titles) == len(set(titles))

    def test_palette_names_the_lessons_and_readme_quote_exist(self) -> None:
        titles = {c.title for c in UI_COMMANDS} | {s.title for s in action_specs()}
        texts = [path.read_text() for path in (*sorted(LESSONS_DIR.glob("*.yaml")), README)]
        quoted = {name for text in texts for name in re.findall(r"`([a-z]+: [a-z][a-z /()]*)`", text)}
        # A quoted name may be a ready-made entry (``topic: delete orders``) or a title's beginning (``lesson: leave``).
        unknown = [name for name in quoted if name.split(": ")[0] in NOUNS and not any(
            name == title or name.startswith(title + " ") or title.startswith(name + " ") for title in titles)]
        assert quoted and unknown == []

    def test_help_lists_every_bound_key(self) -> None:
        rows = help_table([]).row_count
        assert rows == len(UI_COMMANDS) + len(action_specs()) + 1

    def test_the_app_binds_every_action_spec(self) -> None:
        bound = {binding.id for binding in KafkaLabApp.BINDINGS}
        assert {spec.id for spec in ACTION_SPECS} <= bound


class TestForms:
    def test_values_are_typed_from_yaml_flow_text(self) -> None:
        action = parse_action(CreateTopic, {"name": "orders", "partitions": "6", "replication_factor": "3",
                                            "config": "{min.insync.replicas: 2, cleanup.policy: compact}"})
        assert action == CreateTopic("orders", 6, 3, {"min.insync.replicas": 2, "cleanup.policy": "compact"})

    def test_text_fields_are_taken_literally(self) -> None:
        assert parse_action(CreateTopic, {"name": "007"}).name == "007"

    def test_lists_mix_broker_ids_and_zk(self) -> None:
        assert parse_action(CutLink, {"between": "[1, zk]"}) == CutLink((1, "zk"))

    def test_empty_optional_fields_keep_their_defaults(self) -> None:
        assert parse_action(AlterConfig, {"topic": "orders", "set": "", "delete": ""}) == AlterConfig("orders")

    @pytest.mark.parametrize(("texts", "message"), [
        ({"broker": "two"}, "broker must be an integer, not 'two'"),
        ({"broker": ""}, "broker is required"),
        ({"broker": "[1"}, "is not a value"),
    ])
    def test_wrong_input_names_the_field(self, texts: dict[str, str], message: str) -> None:
        with pytest.raises(KafkaError) as raised:
            parse_action(KillBroker, texts)
        assert raised.value.name == "INVALID_ARGUMENT"
        assert message in raised.value.message

    @pytest.mark.parametrize(("texts", "message"), [
        ({"topic": "t", "count": "1000000000"}, "count must be at most 100,000, not 1,000,000,000"),
        ({"topic": "t", "count": "0"}, "count must be at least 1, not 0"),
        ({"topic": "t", "value": "{i:>2000000000}"}, "value: '{i:>2000000000}' pads wider than 1,000,000"),
        ({"topic": "t", "key": "{i.__class__}"}, "key: only {i} (the record's index) may be used"),
    ])
    def test_a_form_checks_the_bounds_and_templates_a_file_would(self, texts: dict[str, str], message: str) -> None:
        with pytest.raises(KafkaError) as raised:
            parse_action(Produce, texts)
        assert raised.value.name == "INVALID_ARGUMENT" and message in raised.value.message

    def test_flow_round_trips_through_parse(self) -> None:
        action = CreateTopic("orders", 3, 2, {"retention.ms": 60000})
        texts = {"name": flow(action.name), "partitions": flow(action.partitions),
                 "replication_factor": flow(action.replication_factor), "config": flow(action.config)}
        assert parse_action(CreateTopic, texts) == action

    def test_a_form_is_needed_only_for_missing_required_fields(self) -> None:
        assert needs_form(KillBroker, {})
        assert not needs_form(KillBroker, {"broker": 2})
