"""The faults the fault campaign injects, drawn from the seed's random generator.

The basic faults are the first campaign's: cut and heal links, crash, cleanly shut down
and restart brokers (seeds 4365 and 4730 replay with these alone). The controller faults
aim where Kafka's ZooKeeper-mode controller can fail: a controller failover in the
middle of a topic deletion or creation, the controller's own ZooKeeper session expiring,
and a clean shutdown that lands in the middle of an election.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from kafkalab.cluster.cluster import Cluster
from kafkalab.coordination.server import COORDINATOR_NODE
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.cluster import BrokerFailed, ControllerElected
from kafkalab.events.journal import Event
from kafkalab.sim.process import Future
from kafkalab.sim.scheduler import DEFAULT_START_MS, Timer

#: Creating or deleting a one-partition topic takes the controller 5 to 20 ms (a ZooKeeper round trip a znode).
ADMIN_WINDOW_MS = 20.0
#: How long into an election the clean shutdown of "shutdown during an election" may start.
ELECTION_WINDOW_MS = 5.0
#: The ways a controller fails: a crash, a clean shutdown, or a cut from ZooKeeper until its session expires.
CONTROLLER_FAILURES = ("kill", "shutdown", "expire")


@dataclass
class AdminOperation:
    """A topic creation or deletion, asked again (as an admin would) until it is done."""

    start: Callable[[], Future[None]]
    #: The error that says an earlier attempt already did the work (TOPIC_ALREADY_EXISTS, ...).
    already_done: Errors
    future: Future[None]

    @classmethod
    def begin(cls, start: Callable[[], Future[None]], already_done: Errors) -> AdminOperation:
        """Start the operation."""
        return cls(start, already_done, start())

    @property
    def error(self) -> Errors | None:
        """The error of a finished attempt that did not do the work, else None."""
        error = self.future.error
        if not self.future.done or error is None:
            return None
        code = error.error if isinstance(error, KafkaError) else Errors.UNKNOWN_SERVER_ERROR
        return None if code == self.already_done else code

    @property
    def done(self) -> bool:
        """The last attempt finished and the work is done."""
        return self.future.done and self.error is None


class FaultInjector:
    """Applies one random fault at a time and remembers what the end of the campaign must undo or check."""

    def __init__(self, cluster: Cluster, rng: random.Random, controller_faults: bool,
                 doomed_topics: list[str]) -> None:
        self.cluster = cluster
        self.rng = rng
        self.controller_faults = controller_faults
        self.session_timeout_ms = float(cluster.broker_config["zookeeper.session.timeout.ms"])
        #: Every fault and every delayed effect of one, with its time.
        self.actions: list[str] = []
        #: Links cut and not healed yet, as sorted node pairs.
        self.cut: set[tuple[str, str]] = set()
        #: Topics created to be deleted during a failover.
        self.doomed_topics = list(doomed_topics)
        #: Topics deleted and topics created while the controller failed, by name.
        self.deletions: dict[str, AdminOperation] = {}
        self.creations: dict[str, AdminOperation] = {}
        self._heal_expired_at: dict[tuple[str, str], float] = {}
        self._at_next_election: list[tuple[float, Callable[[], None]]] = []  # (delay, effect)
        self._timers: list[Timer] = []
        cluster.journal.subscribe(self._on_event)

    # -- choosing --------------------------------------------------------------------

    def inject(self) -> None:
        """Apply one random fault (or repair) and record it."""
        running = [b for b, broker in sorted(self.cluster.brokers.items()) if broker.running]
        stopped = [b for b, broker in sorted(self.cluster.brokers.items()) if not broker.running]
        choices = ["cut", "cut"]
        if self.cut:
            choices += ["heal", "heal"]
        if len(running) > 1:
            choices += ["kill", "kill", "shutdown"]
        if stopped:
            choices += ["restart", "restart", "restart"]
        if self.controller_faults:
            if self.cluster.controller_id >= 0:
                choices += ["expire-controller", "create-during-failover"]
                if self.doomed_topics:
                    choices += ["delete-during-failover"]
            if len(running) > 1:
                choices += ["shutdown-during-election"]
        faults: dict[str, Callable[[list[int], list[int]], str]] = {
            "kill": self._kill, "shutdown": self._shutdown, "restart": self._restart, "heal": self._heal,
            "cut": self._cut, "expire-controller": self._expire_controller,
            "delete-during-failover": self._delete_during_failover,
            "create-during-failover": self._create_during_failover,
            "shutdown-during-election": self._shutdown_during_election}
        self._record(faults[self.rng.choice(choices)](running, stopped))

    def stop(self) -> None:
        """Cancel every delayed effect still to come: the campaign heals and restarts everything next."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._at_next_election.clear()

    def _record(self, action: str) -> None:
        self.actions.append(f"{self.cluster.scheduler.now_ms - DEFAULT_START_MS:.0f} ms: {action}")

    def _later(self, delay_ms: float, effect: Callable[[], None]) -> None:
        self._timers.append(self.cluster.scheduler.call_later(delay_ms, effect))

    # -- basic faults ------------------------------------------------------------------

    def _kill(self, running: list[int], stopped: list[int]) -> str:
        victim = self.rng.choice(running)
        self.cluster.kill_broker(victim)
        return f"kill {victim}"

    def _shutdown(self, running: list[int], stopped: list[int]) -> str:
        victim = self.rng.choice(running)
        self.cluster.shutdown_broker(victim)
        return f"shutdown {victim}"

    def _restart(self, running: list[int], stopped: list[int]) -> str:
        back = self.rng.choice(stopped)
        if not self.cluster.brokers[back].running:
            self.cluster.restart_broker(back)
        return f"restart {back}"

    def _heal(self, running: list[int], stopped: list[int]) -> str:
        a, b = self.rng.choice(sorted(self.cut))
        self.cut.discard((a, b))
        self.cluster.heal_link(a, b)
        return f"heal {a}-{b}"

    def _cut(self, running: list[int], stopped: list[int]) -> str:
        nodes = [broker.node for broker in self.cluster.brokers.values()] + [COORDINATOR_NODE]
        a, b = sorted(self.rng.sample(nodes, 2))
        self.cut.add((a, b))
        self.cluster.cut_link(a, b)
        return f"cut {a}-{b}"

    # -- controller faults -----------------------------------------------------------------

    def _expire_controller(self, running: list[int], stopped: list[int]) -> str:
        controller = self.cluster.controller_id
        return f"expire controller {controller}: {self._expire_session(controller)}"

    def _delete_during_failover(self, running: list[int], stopped: list[int]) -> str:
        topic = self.doomed_topics.pop(0)
        self.deletions[topic] = AdminOperation.begin(lambda: self.cluster.delete_topic(topic),
                                                     Errors.UNKNOWN_TOPIC_OR_PARTITION)
        return f"delete {topic}, then {self._fail_controller_soon()}"

    def _create_during_failover(self, running: list[int], stopped: list[int]) -> str:
        topic = f"born-{len(self.creations)}"
        self.creations[topic] = AdminOperation.begin(
            lambda: self.cluster.create_topic(topic, 1, len(self.cluster.brokers)),
            Errors.TOPIC_ALREADY_EXISTS)
        return f"create {topic}, then {self._fail_controller_soon()}"

    def _fail_controller_soon(self) -> str:
        """Fail the controller within ADMIN_WINDOW_MS, in the middle of the admin request just sent."""
        controller = self.cluster.controller_id
        how = self.rng.choice(CONTROLLER_FAILURES)
        delay_ms = self.rng.uniform(0, ADMIN_WINDOW_MS)
        self._later(delay_ms, lambda: self._fail_broker(controller, how))
        return f"{how} controller {controller} {delay_ms:.1f} ms later"

    def _shutdown_during_election(self, running: list[int], stopped: list[int]) -> str:
        victim = self.rng.choice(running)
        how = self.rng.choice(CONTROLLER_FAILURES)
        delay_ms = self.rng.uniform(0, ELECTION_WINDOW_MS)
        pick = self.rng.random()
        self._at_next_election.append((delay_ms, lambda: self._shutdown_one(pick)))
        self._fail_broker(victim, how)
        return f"{how} {victim}; a clean shutdown {delay_ms:.1f} ms into the next election"

    def retry_failed_admin(self) -> None:
        """Ask again for each creation or deletion that failed, as an admin whose request timed out would."""
        for verb, operations in (("create", self.creations), ("delete", self.deletions)):
            for topic, operation in operations.items():
                if operation.error is not None:
                    self._record(f"{verb} {topic} again after {operation.error.name}")
                    operation.future = operation.start()

    def admin_done(self) -> bool:
        """Every creation and deletion asked for is done."""
        return all(operation.done for operation in [*self.creations.values(), *self.deletions.values()])

    # -- effects -----------------------------------------------------------------------

    def _fail_broker(self, broker_id: int, how: str) -> None:
        """Crash, shut down or expire the session of ``broker_id`` if it still runs."""
        if not self.cluster.brokers[broker_id].running:
            self._record(f"broker {broker_id} already stopped: no {how}")
        elif how == "kill":
            self.cluster.kill_broker(broker_id)
            self._record(f"killed {broker_id}")
        elif how == "shutdown":
            self.cluster.shutdown_broker(broker_id)
            self._record(f"clean shutdown of {broker_id} started")
        else:
            self._record(f"expire {broker_id}: {self._expire_session(broker_id)}")

    def _expire_session(self, broker_id: int) -> str:
        """Cut ``broker_id`` from ZooKeeper until well after its session expired, then heal."""
        link = (self.cluster.brokers[broker_id].node, COORDINATOR_NODE)
        cut_ms = self.rng.uniform(1.2, 2.0) * self.session_timeout_ms
        self.cut.add(link)
        self.cluster.cut_link(*link)
        heal_at_ms = self.cluster.scheduler.now_ms + cut_ms
        self._heal_expired_at[link] = max(heal_at_ms, self._heal_expired_at.get(link, 0.0))
        self._later(cut_ms, lambda: self._heal_expired(link))
        return f"cut {link[0]}-{link[1]} for {cut_ms:.0f} ms"

    def _heal_expired(self, link: tuple[str, str]) -> None:
        # A second expiry of the same broker meanwhile keeps the link cut until its own end.
        if link in self.cut and self.cluster.scheduler.now_ms >= self._heal_expired_at[link]:
            self.cut.discard(link)
            self.cluster.heal_link(*link)
            self._record(f"heal {link[0]}-{link[1]} (its session expired)")

    def _shutdown_one(self, pick: float) -> None:
        running = [b for b, broker in sorted(self.cluster.brokers.items()) if broker.running]
        if running:
            self._fail_broker(running[int(pick * len(running))], "shutdown")

    def _on_event(self, event: Event) -> None:
        if isinstance(event, (BrokerFailed, ControllerElected)) and self._at_next_election:
            # Scheduled, not run here: the controller is in the middle of emitting this event.
            for delay_ms, effect in self._at_next_election:
                self._later(delay_ms, effect)
            self._at_next_election.clear()
