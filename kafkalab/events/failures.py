"""Events of things that stopped on an error: nothing in the engine fails unseen (ARCHITECTURE.md, "Failures")."""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.events.journal import Event


@dataclass(frozen=True)
class ProcessFailed(Event):
    """Something running in the lab stopped on an error that nobody was waiting to handle: a
    broker's background task, a client's loop, a lesson's setup. In Apache Kafka this is the
    "Uncaught exception in thread ..." line in a broker's or client's log: that thread is gone and
    whatever it did no longer happens, until a restart starts it again. kafkalab shows it here
    instead of letting it pass unseen. A Kafka error (a name like NOT_ENOUGH_REPLICAS) is
    something the cluster ran into; any other error (``bug``) is a mistake in kafkalab itself,
    worth reporting with the place it names."""

    kind = "failure"
    #: Whose it was: ``broker-2``, ``producer-1``, ``session``, ``engine``.
    owner: str
    #: What stopped, e.g. ``replica fetcher from broker 1``.
    process: str
    #: Kafka's error name, or the Python exception's type for a bug.
    error: str
    message: str
    bug: bool
    #: For a bug, the source line it came from (``fetcher.py:120 in _run``).
    where: str = ""

    def describe(self) -> str:
        text = f"{self.owner}: {self.process} stopped on {self.error}: {self.message}"
        if self.bug:
            text += f" (a bug in kafkalab, at {self.where})" if self.where else " (a bug in kafkalab)"
        return text


@dataclass(frozen=True)
class ReplicaFetchFailed(Event):
    """A follower could not apply what it fetched for one partition. Kafka's replica fetcher
    keeps such a failure to that one partition instead of letting it stop replication of all the
    others from the same leader: records that look corrupt or invalid may be a passing state of
    the leader's log, so the partition retries after replica.fetch.backoff.ms; any other error
    marks the partition failed (``markPartitionFailed``). A failed replica stops fetching, falls
    behind and drops out of the ISR; it fetches again when the controller next sends it a
    LeaderAndIsr for the partition (a new leader, or this broker restarting)."""

    kind = "replication"
    broker_id: int
    leader_id: int
    topic: str
    partition: int
    fetch_offset: int
    error: str
    message: str
    #: True: the partition retries after the backoff; False: it is marked failed.
    retrying: bool

    def describe(self) -> str:
        what = "retries" if self.retrying else "stopped fetching"
        return (f"Broker {self.broker_id} {what} {self.topic}-{self.partition} from broker {self.leader_id} at "
                f"offset {self.fetch_offset} after {self.error}: {self.message} Its other partitions keep "
                f"replicating.")
