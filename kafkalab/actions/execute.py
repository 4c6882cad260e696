"""Running one action against a session: its outcome, or the Kafka error it failed with."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Generic, TypeVar

from kafkalab.actions.base import Action
from kafkalab.actions.results import ActionResult
from kafkalab.errors import Errors, KafkaError
from kafkalab.session.session import Session
from kafkalab.sim.failures import Failure
from kafkalab.sim.process import Future, spawn

R = TypeVar("R", bound=ActionResult)


@dataclass(frozen=True)
class ActionOutcome(Generic[R]):
    """What running one action gave: its result, or the Kafka error it failed with (and no result)."""

    action: Action[R]
    result: R | None
    error: KafkaError | None = None


def _internal_error(action: Action[R], error: BaseException) -> KafkaError:
    """How an action that hit a bug in kafkalab fails: a clear error instead of a frozen or silent step."""
    return KafkaError(Errors.UNKNOWN_SERVER_ERROR, f"The {action.step} step failed inside kafkalab on "
                                                   f"{type(error).__name__}: {error}. This is a bug in kafkalab; "
                                                   f"the event log says where it happened.")


def execute(session: Session, action: Action[R]) -> Future[ActionOutcome[R]]:
    """Run ``action``; the future never fails: a Kafka error is part of the outcome.

    A bug (any other exception) fails the action with UNKNOWN_SERVER_ERROR and is journaled
    as ``ProcessFailed``, so neither the step nor the engine is left hanging.
    """
    outcome: Future[ActionOutcome[R]] = Future()
    started_ms = session.scheduler.now_ms
    name = f"action {action.step}"

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
    except Exception as exc:
        finish(None, _internal_error(action, exc))
        session.scheduler.report(Failure(session.group.owner, name, exc))
        return outcome
    if not isinstance(produced, Generator):
        finish(produced, None)
        return outcome

    def done(task: Future[R]) -> None:
        error = task.error
        if error is None:
            finish(task.result(), None)
        elif isinstance(error, KafkaError):
            finish(None, error)
        else:  # the task reports the bug itself
            finish(None, _internal_error(action, error))

    spawn(session.group, produced, name=name).claim().add_done_callback(done)
    return outcome
