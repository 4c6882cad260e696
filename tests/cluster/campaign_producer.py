"""The fault campaign's producer: one record at a time with acks=all, remembering what was acknowledged."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from kafkalab.cluster.cluster import Cluster
from kafkalab.protocol.produce import PartitionProduceResponse
from kafkalab.sim.process import Future


@dataclass
class AcksAllProducer:
    """Produces one record at a time to one partition with acks=all, remembering what was acknowledged."""

    cluster: Cluster
    topic: str
    partition: int
    rng: random.Random
    acknowledged: list[tuple[int, int]] = field(default_factory=list)  # (sequence, offset)
    failed: int = 0
    sequence: int = 0
    in_flight: Future[PartitionProduceResponse] | None = None
    stopped: bool = False

    def value(self, sequence: int) -> bytes:
        """The value of the record with this sequence number."""
        return b"%d-%d" % (self.partition, sequence)

    def send_next(self) -> None:
        """Produce the next record, unless stopped."""
        if self.stopped:
            return
        sequence, self.sequence = self.sequence, self.sequence + 1
        self.in_flight = self.cluster.produce(self.topic, self.partition, [(b"key", self.value(sequence))], acks=-1)
        self.in_flight.add_done_callback(lambda future: self._done(sequence, future))

    def _done(self, sequence: int, future: Future[PartitionProduceResponse]) -> None:
        self.in_flight = None
        if future.error is None:
            self.acknowledged.append((sequence, future.result().base_offset))
        else:
            self.failed += 1
        self.cluster.scheduler.call_later(self.rng.uniform(20, 200), self.send_next)
