"""Record what a user does in a session as a scenario file that ``kafkalab run`` replays.

Each executed action becomes a step; the virtual time between two actions becomes a
``wait`` step, so a replay under the virtual clock acts at the same moments. Steps that
failed are kept with ``allow_errors: true`` so the replay tolerates the same mistake.
"""

from __future__ import annotations

from typing import Any

import yaml

from kafkalab.actions.base import Action
from kafkalab.actions.execute import ActionOutcome
from kafkalab.session.session import Session

#: Steps that only read or narrate are not worth replaying.
_NOT_RECORDED = frozenset({"describe_topic", "describe_group", "expect", "note"})


class Recorder:
    """Collects a session's actions from ``start()`` until ``stop()``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.recording = False
        self._entries: list[tuple[float, Action, bool]] = []
        self._started_ms = 0.0
        session.on_outcome.append(self._on_outcome)

    def start(self) -> None:
        """Begin a new recording (forgetting any previous one)."""
        self._entries = []
        self._started_ms = self.session.scheduler.now_ms
        self.recording = True

    def _on_outcome(self, started_ms: float, outcome: ActionOutcome) -> None:
        if self.recording and outcome.action.step not in _NOT_RECORDED:
            self._entries.append((started_ms, outcome.action, outcome.error is not None))

    def stop(self, name: str = "Recorded session") -> str:
        """End the recording and return it as scenario YAML."""
        self.recording = False
        return self.to_yaml(name)

    def to_yaml(self, name: str) -> str:
        """The recording so far as a scenario file."""
        cluster = self.session.cluster
        steps: list[dict[str, Any]] = []
        previous = self._started_ms
        for started_ms, action, failed in self._entries:
            gap = round(started_ms - previous, 3)
            if gap > 0:
                steps.append({"wait": {"ms": gap}})
            step = action.as_step()
            if failed:
                step["allow_errors"] = True
            steps.append(step)
            previous = started_ms
        document = {"name": name,
                    "description": "Recorded in kafkalab; replay with `kafkalab run`.",
                    "cluster": {"brokers": cluster.meta.brokers, "seed": cluster.meta.seed,
                                "config": dict(cluster.meta.broker_config)},
                    "steps": steps}
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
