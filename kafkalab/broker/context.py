"""What every part of a running broker shares: identity, timers, network, journal, config."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafkalab.broker.metadata_cache import MetadataCache
from kafkalab.config import BrokerConfig
from kafkalab.events.journal import EventJournal
from kafkalab.sim.network import Network
from kafkalab.sim.scheduler import Scheduler, TimerGroup


@dataclass
class BrokerContext:
    """One incarnation of a broker: a crash cancels ``group`` and everything scheduled on it."""

    broker_id: int
    group: TimerGroup
    network: Network
    journal: EventJournal
    config: BrokerConfig
    metadata: MetadataCache = field(default_factory=MetadataCache)
    broker_epoch: int = -1
    #: ``group``'s scheduler: the produce and fetch paths read its ``now_ms`` here, some 14 times per acks=all
    #: request, without the ``now_ms`` property's call.
    scheduler: Scheduler = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.scheduler = self.group.scheduler

    @property
    def node(self) -> str:
        """This broker's name on the network."""
        return f"broker-{self.broker_id}"

    @property
    def now_ms(self) -> float:
        return self.scheduler.now_ms
