"""Events of KRaft mode's controllers and brokers: activation, registration, fencing (Kafka 4.1)."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.journal import Event


@dataclass(frozen=True)
class ControllerActivated(Event):
    """A controller became the active controller: it leads the quorum's epoch and has
    applied every committed metadata record before that epoch, so it decides from the
    whole state. Only the active controller writes metadata records; the others replay
    them and stand by."""

    kind = "controller"
    node_id: int
    epoch: int
    metadata_offset: int

    def describe(self) -> str:
        return (f"Controller {self.node_id} is the active controller (quorum epoch {self.epoch}, metadata "
                f"applied to offset {self.metadata_offset}).")


@dataclass(frozen=True)
class ControllerDeactivated(Event):
    """A controller stopped being the active controller: another leads a newer epoch, or it
    stopped. Requests it had not committed are answered NOT_CONTROLLER and sent again to
    the new one."""

    kind = "controller"
    node_id: int
    reason: str

    def describe(self) -> str:
        return f"Controller {self.node_id} is no longer the active controller: {self.reason}."


@dataclass(frozen=True)
class BrokerRegisteredWithController(Event):
    """A broker registered with the active controller (a RegisterBrokerRecord). Its broker
    epoch is the offset of that record; it starts fenced and is unfenced once it has
    applied the metadata log up to its registration."""

    kind = "broker"
    broker_id: int
    broker_epoch: int
    controller_id: int

    def describe(self) -> str:
        return (f"Broker {self.broker_id} registered with controller {self.controller_id} (broker epoch "
                f"{self.broker_epoch}); it stays fenced until it has caught up with the metadata log.")


@dataclass(frozen=True)
class BrokerRegistrationRefused(Event):
    """The active controller refused a starting broker's registration: its id is still registered
    by an earlier incarnation whose session has not expired (DUPLICATE_BROKER_REGISTRATION). The
    broker tries again until the controller fences the old one after broker.session.timeout.ms,
    as a ZooKeeper-mode broker waits for its old session's znode to go."""

    kind = "broker"
    broker_id: int
    error: str

    def describe(self) -> str:
        return (f"Broker {self.broker_id} waits to register ({self.error}): its previous incarnation's session with "
                f"the active controller has not expired yet.")


@dataclass(frozen=True)
class BrokerFenced(Event):
    """The active controller fenced a broker: it missed heartbeats for
    ``broker.session.timeout.ms`` or finished a controlled shutdown. A fenced broker leaves
    every ISR and leads nothing; clients no longer see it in metadata."""

    kind = "broker"
    broker_id: int
    broker_epoch: int
    reason: str

    def describe(self) -> str:
        return f"Broker {self.broker_id} was fenced: {self.reason}."


@dataclass(frozen=True)
class BrokerUnfenced(Event):
    """The active controller unfenced a broker that caught up with the metadata log: it may
    lead partitions and rejoin ISRs, and leaderless partitions it can lead get it as leader."""

    kind = "broker"
    broker_id: int
    broker_epoch: int

    def describe(self) -> str:
        return f"Broker {self.broker_id} was unfenced: it has caught up with the metadata log."


@dataclass(frozen=True)
class BrokerControlledShutdownStarted(Event):
    """A broker asked (in its heartbeat) to shut down: the controller moved its leaderships
    away and took it out of every ISR before telling it to stop."""

    kind = "broker"
    broker_id: int
    partitions_moved: int

    def describe(self) -> str:
        return (f"Broker {self.broker_id} began a controlled shutdown: {self.partitions_moved} partition(s) "
                f"changed leader or ISR.")
