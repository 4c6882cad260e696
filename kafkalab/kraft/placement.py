"""Where a KRaft controller puts a new partition's replicas: Kafka 4.1's ``StripedReplicaPlacer``.

Unlike ZooKeeper mode's ``AdminUtils`` layout, brokers are striped across racks with a
random starting offset per rack list, and a fenced broker may hold a follower (never the
first replica); the replication factor is bounded by the registered brokers, and at least
one must be unfenced. Randomness comes from the controller's seeded generator (Python's
``random``, so the same algorithm draws other numbers than Java's ``Random`` would).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from kafkalab.errors import Errors, KafkaError


@dataclass(frozen=True)
class UsableBroker:
    broker_id: int
    rack: str | None
    fenced: bool


@dataclass
class _BrokerList:
    brokers: list[int] = field(default_factory=list)
    epoch: int = 0
    index: int = 0
    offset: int = 0

    def initialize(self, rng: random.Random) -> None:
        if self.brokers:
            self.brokers.sort()
            self.offset = rng.randrange(len(self.brokers))

    def next(self, epoch: int) -> int:
        if not self.brokers:
            return -1
        if self.epoch != epoch:
            self.epoch, self.index = epoch, 0
            self.offset = (self.offset + 1) % len(self.brokers)
        if self.index >= len(self.brokers):
            return -1
        broker = self.brokers[(self.index + self.offset) % len(self.brokers)]
        self.index += 1
        return broker


@dataclass
class _Rack:
    fenced: _BrokerList = field(default_factory=_BrokerList)
    unfenced: _BrokerList = field(default_factory=_BrokerList)

    def next(self, epoch: int) -> int:
        result = self.unfenced.next(epoch)
        return result if result >= 0 else self.fenced.next(epoch)


class _RackList:
    def __init__(self, rng: random.Random, brokers: Iterable[UsableBroker]) -> None:
        self.rng = rng
        self.racks: dict[str | None, _Rack] = {}
        self.total = self.unfenced = 0
        for broker in brokers:
            rack = self.racks.setdefault(broker.rack, _Rack())
            (rack.fenced if broker.fenced else rack.unfenced).brokers.append(broker.broker_id)
            self.total += 1
            self.unfenced += not broker.fenced
        for rack in self.racks.values():
            rack.fenced.initialize(rng)
            rack.unfenced.initialize(rng)
        self.names = sorted(self.racks, key=lambda name: (name is not None, name or ""))
        self.epoch = 0
        self.offset = rng.randrange(len(self.names)) if self.names else 0

    def place(self, replication_factor: int) -> tuple[int, ...]:
        if self.epoch == self.unfenced and self.unfenced > 1:
            # Every unfenced broker has led once this round: shuffle to avoid repeating the layout.
            self.rng.shuffle(self.names)
            for rack in self.racks.values():
                self.rng.shuffle(rack.fenced.brokers)
                self.rng.shuffle(rack.unfenced.brokers)
            self.epoch = 0
        if self.offset == len(self.names):
            self.offset = 0
        first_rack = self.offset
        while True:
            first = self.racks[self.names[first_rack]].unfenced.next(self.epoch)
            if first >= 0:
                break
            first_rack = (first_rack + 1) % len(self.names)
        placed = [first]
        rack_index = self.offset
        for _ in range(1, replication_factor):
            result = -1
            while result < 0:
                if rack_index == first_rack:
                    first_rack = -1
                else:
                    result = self.racks[self.names[rack_index]].next(self.epoch)
                rack_index = (rack_index + 1) % len(self.names)
            placed.append(result)
        self.epoch += 1
        self.offset += 1
        return tuple(placed)


def place_replicas(partitions: int, replication_factor: int, brokers: Iterable[UsableBroker],
                   rng: random.Random) -> list[tuple[int, ...]]:
    """Replica lists for ``partitions`` new partitions, or INVALID_REPLICATION_FACTOR as Kafka says it."""
    racks = _RackList(rng, sorted(brokers, key=lambda b: b.broker_id))
    if replication_factor <= 0:
        raise KafkaError(Errors.INVALID_REPLICATION_FACTOR,
                         f"Invalid replication factor {replication_factor}: the replication factor must be positive.")
    if racks.unfenced == 0:
        raise KafkaError(Errors.INVALID_REPLICATION_FACTOR, "All brokers are currently fenced.")
    if replication_factor > racks.total:
        raise KafkaError(Errors.INVALID_REPLICATION_FACTOR,
                         f"The target replication factor of {replication_factor} cannot be reached because only "
                         f"{racks.total} broker(s) are registered.")
    return [racks.place(replication_factor) for _ in range(partitions)]
