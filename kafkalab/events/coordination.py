"""Events of the coordination service (the seed's ZooKeeper): sessions and their expiry."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.journal import Event


def node_label(node: str) -> str:
    """``broker-2`` reads as ``Broker 2`` in sentences."""
    if node.startswith("broker-"):
        return f"Broker {node[7:]}"
    return node


@dataclass(frozen=True)
class SessionEstablished(Event):
    """A client opened a session with ZooKeeper. Ephemeral znodes it creates live exactly as
    long as this session: ZooKeeper keeps the session while it hears a heartbeat within the
    session timeout."""

    kind = "zookeeper"
    session_id: int
    client: str
    timeout_ms: int

    def describe(self) -> str:
        return (f"{node_label(self.client)} opened ZooKeeper session 0x{self.session_id:x} "
                f"(timeout {self.timeout_ms} ms).")


@dataclass(frozen=True)
class SessionExpired(Event):
    """ZooKeeper heard nothing from a session for its whole timeout and expired it. Kafka relies
    on exactly this to notice a dead or partitioned broker: its ephemeral /brokers/ids/N
    disappears, the controller's watch fires, and the controller moves leadership away."""

    kind = "zookeeper"
    session_id: int
    client: str
    timeout_ms: int
    deleted_paths: tuple[str, ...]

    def describe(self) -> str:
        deleted = ", ".join(self.deleted_paths) or "no ephemeral znodes"
        return (f"ZooKeeper expired {node_label(self.client)}'s session 0x{self.session_id:x} after "
                f"{self.timeout_ms} ms of silence and deleted {deleted}.")


@dataclass(frozen=True)
class SessionClosed(Event):
    """A client closed its ZooKeeper session on purpose (a clean shutdown), so its ephemeral
    znodes were deleted at once instead of after the session timeout."""

    kind = "zookeeper"
    session_id: int
    client: str
    timeout_ms: int
    deleted_paths: tuple[str, ...]

    def describe(self) -> str:
        deleted = ", ".join(self.deleted_paths) or "no ephemeral znodes"
        return f"{node_label(self.client)} closed ZooKeeper session 0x{self.session_id:x}; deleted {deleted}."


@dataclass(frozen=True)
class CoordinationStoreRecovered(Event):
    """ZooKeeper loaded its store and had to repair it: the end of its transaction log held a
    transaction a crash had cut short (or bytes that are no transaction at all), so it
    stopped replaying there and will write new transactions in their place. A transaction
    that was never completely written was never acknowledged to anyone either."""

    kind = "zookeeper"
    notes: tuple[str, ...]

    def describe(self) -> str:
        return "ZooKeeper repaired its store while loading: " + " ".join(self.notes)


@dataclass(frozen=True)
class CoordinationStoreFailed(Event):
    """ZooKeeper could not write a change to its transaction log, so it did not make the change:
    ZooKeeper applies nothing it has not logged. A real server stops at this point and its
    clients see lost connections; here it answers each write with CONNECTION_LOSS, and Kafka's
    ZooKeeper client retries until the disk takes writes again."""

    kind = "zookeeper"
    path: str
    reason: str

    def describe(self) -> str:
        return f"ZooKeeper cannot write {self.path} ({self.reason}); it refuses every change until it can."
