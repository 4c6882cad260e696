"""Running one action against a session: its outcome, or the Kafka error it failed with."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from kafkalab.actions.base import Action
from kafkalab.errors import KafkaError
from kafkalab.session.session import Session
from kafkalab.sim.process import Future, spawn


@dataclass(frozen=True)
class ActionOutcome:
    """What running one action gave: its result, or the Kafka error it failed with."""

    action: Action
    result: dict[str, Any]
    error: KafkaError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.result.get("ok", True) is not False



def execute(session: Session, action: Action) -> Future[ActionOutcome]:
    """Run ``action``; the future never fails: a Kafka error is part of the outcome."""
    outcome: Future[ActionOutcome] = Future()
    started_ms = session.scheduler.now_ms

    def finish(result: dict[str, Any] | None, error: KafkaError | None) -> None:
        record = ActionOutcome(action, result or {}, error)
        session.last_error = error.name if error is not None else None
        session.version += 1
        for listener in session.on_outcome:
            listener(started_ms, record)
        outcome.set_result(record)

    try:
        produced = action.run(session)
    except KafkaError as exc:
        finish(None, exc)
        return outcome
    if not isinstance(produced, Generator):
        finish(produced, None)
        return outcome
    process = spawn(session.group, produced)

    def done(future: Future[dict[str, Any]]) -> None:
        error = future.error
        if error is not None and not isinstance(error, KafkaError):
            raise error
        finish(None if error is not None else future.result(), error if isinstance(error, KafkaError) else None)

    process.add_done_callback(done)
    return outcome
