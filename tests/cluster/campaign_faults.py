"""The faults the fault campaign injects, drawn from the seed's random generator.

Cut and heal links, crash, cleanly shut down and restart brokers.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from kafkalab.cluster.cluster import Cluster
from kafkalab.coordination.server import COORDINATOR_NODE
from kafkalab.sim.scheduler import DEFAULT_START_MS


class FaultInjector:
    """Applies one random fault at a time and remembers what the end of the campaign must undo or check."""

    def __init__(self, cluster: Cluster, rng: random.Random) -> None:
        self.cluster = cluster
        self.rng = rng
        #: Every fault, with its time.
        self.actions: list[str] = []
        #: Links cut and not healed yet, as sorted node pairs.
        self.cut: set[tuple[str, str]] = set()

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
        faults: dict[str, Callable[[list[int], list[int]], str]] = {
            "kill": self._kill, "shutdown": self._shutdown, "restart": self._restart, "heal": self._heal,
            "cut": self._cut}
        self._record(faults[self.rng.choice(choices)](running, stopped))

    def _record(self, action: str) -> None:
        self.actions.append(f"{self.cluster.scheduler.now_ms - DEFAULT_START_MS:.0f} ms: {action}")

    # -- faults --------------------------------------------------------------------------

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
