"""Running one action against a session: its outcome, or the Kafka error it failed with."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Generic, TypeVar

from kafkalab.actions.base import Action
from kafkalab.actions.results import ActionResult
from kafkalab.errors import KafkaError
from kafkalab.session.session import Session
from kafkalab.sim.process import Future, spawn

R = TypeVar("R", bound=ActionResult)


@dataclass(frozen=True)
class ActionOutcome(Generic[R]):
    """What running one action gave: its result, or the Kafka error it failed with (and no result)."""

    action: Action[R]
    result: R | None
    error: KafkaError | None = None


def execute(session: Session, action: Action[R]) -> Future[ActionOutcome[R]]:
    """Run ``action``; the future never fails: a Kafka error is part of the outcome."""
    outcome: Future[ActionOutcome[R]] = Future()
    started_ms = session.scheduler.now_ms

    def finish(result: R | None, error: KafkaError | None) -> None:
        record = ActionOutcome(action, result, error)
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

    def done(future: Future[R]) -> None:
        error = future.error
        if error is not None and not isinstance(error, KafkaError):
            raise error
        finish(None if error is not None else future.result(), error if isinstance(error, KafkaError) else None)

    process.add_done_callback(done)
    return outcome
