"""``kafkalab serve``'s server in the test's own process, so a test can compare what a client attached to it
sees with the lab's own view of the same cluster (``Cluster.snapshot`` on the engine thread)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kafkalab.cluster.cluster import Cluster
from kafkalab.events.journal import Event
from kafkalab.views import ClusterView
from kafkalab.wire.listener import Listener
from kafkalab.wire.serve import Server

T = TypeVar("T")


class LabServer:
    """A started serve ``Server`` with 3 brokers on free ports; ``act`` runs a step line as serve's stdin does."""

    def __init__(self, data_dir: Path, brokers: int = 3, broker_config: dict[str, Any] | None = None,
                 seed: int | None = None) -> None:
        cluster = Cluster.open(data_dir, brokers=brokers, broker_config=broker_config, seed=seed)
        listener = Listener("127.0.0.1", 0, brokers, cluster.broker_config["socket.request.max.bytes"])
        self.server = Server(cluster, listener, io.StringIO())
        self.server.start()
        self.bootstrap = listener.bootstrap

    def act(self, line: str) -> dict[str, Any]:
        answer = self.server.act(line)
        assert answer.get("ok"), answer
        return answer

    def on_engine(self, work: Callable[[Cluster], T]) -> T:
        return self.server.driver.submit(lambda: work(self.server.cluster)).result(60)

    def view(self) -> ClusterView:
        """The lab's own view, now."""
        return self.on_engine(lambda cluster: cluster.snapshot())

    def events(self) -> list[Event]:
        return self.on_engine(lambda cluster: list(cluster.journal))

    def close(self) -> None:
        self.server.close()
