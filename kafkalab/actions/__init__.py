"""The action vocabulary shared by the TUI, scenarios and lessons; importing it registers every action."""

from kafkalab.actions import client_actions, cluster_actions, control_actions, quorum_actions  # noqa: F401
from kafkalab.actions.base import REGISTRY, Action

__all__ = ["REGISTRY", "Action"]
