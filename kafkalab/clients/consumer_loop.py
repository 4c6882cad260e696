"""An application's ``while True: records = consumer.poll(...)`` loop, run on the scheduler.

Tests, scenarios and the TUI use it to keep a consumer consuming: it polls, hands the
records to a callback, optionally takes virtual time to "process" them (which is how a
learner makes a consumer exceed max.poll.interval.ms), and polls again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafkalab.clients.consumer import Consumer, ConsumerRecord
from kafkalab.errors import Errors, KafkaError
from kafkalab.sim.process import Future, Process, Sleep, spawn

RecordsCallback = Callable[[list[ConsumerRecord]], Future[Any] | None]


class PollLoop:
    """Keeps one consumer polling until stopped; a KafkaError from poll() stops it and is kept in ``error``."""

    def __init__(self, consumer: Consumer, on_records: RecordsCallback | None = None, poll_timeout_ms: float = 100,
                 processing_ms_per_record: float = 0.0) -> None:
        if poll_timeout_ms <= 0:
            raise KafkaError(Errors.INVALID_ARGUMENT, "A poll loop needs a positive poll timeout, or it would spin "
                                                      "without letting virtual time pass.")
        self.consumer = consumer
        self.on_records = on_records
        self.poll_timeout_ms = poll_timeout_ms
        self.processing_ms_per_record = processing_ms_per_record
        self.records: list[ConsumerRecord] = []
        self.error: KafkaError | None = None
        self.running = False
        self._generation = 0

    def start(self) -> PollLoop:
        """Begin polling (a no-op if already running)."""
        if not self.running:
            self.running = True
            self._generation += 1
            spawn(self.consumer.timers, self._run(self._generation), name="poll loop")
        return self

    def stop(self) -> None:
        """Stop after the poll in progress: the consumer then stops polling, like a stuck application."""
        self.running = False

    def _run(self, generation: int) -> Process[None]:
        try:
            while self.running and self._generation == generation and not self.consumer.closed:
                records = yield self.consumer.poll(self.poll_timeout_ms)
                self.records.extend(records)
                if self.on_records is not None:
                    waited = self.on_records(records)
                    if isinstance(waited, Future):
                        yield waited
                if records and self.processing_ms_per_record:
                    yield Sleep(self.processing_ms_per_record * len(records))
        except KafkaError as error:
            self.error = error
        if self._generation == generation:
            self.running = False
