"""The assignor registry: Kafka's names, protocols, and a helpful error for unknown names."""

from __future__ import annotations

import pytest

from kafkalab.clients.assignors import ASSIGNORS, RebalanceProtocol, get_assignor
from kafkalab.errors import Errors, KafkaError


def test_registry_has_kafkas_names_and_protocols():
    assert {name: a.supported_protocols for name, a in ASSIGNORS.items()} == {
        "range": (RebalanceProtocol.EAGER,),
        "roundrobin": (RebalanceProtocol.EAGER,),
        "sticky": (RebalanceProtocol.EAGER,),
        "cooperative-sticky": (RebalanceProtocol.COOPERATIVE, RebalanceProtocol.EAGER),
    }
    assert all(a.name == name for name, a in ASSIGNORS.items())


def test_get_assignor_returns_the_registered_one():
    assert get_assignor("cooperative-sticky") is ASSIGNORS["cooperative-sticky"]


@pytest.mark.parametrize(("typo", "suggestion"), [("round-robin", "roundrobin"), ("cooperative_sticky", "cooperative-sticky"),
                                                  ("Range", "range")])
def test_unknown_name_is_invalid_config_with_valid_names_and_closest_match(typo, suggestion):
    with pytest.raises(KafkaError) as info:
        get_assignor(typo)
    assert info.value.error is Errors.INVALID_CONFIG
    assert "range, roundrobin, sticky, cooperative-sticky" in info.value.message
    assert f"Did you mean '{suggestion}'?" in info.value.message
