"""``kafkalab serve``: the cluster headless on the live clock, a Kafka listener per broker, actions on stdin.

The first line printed is ``bootstrap: host:port,...`` (once every broker serves), then
each event as it happens. Each line of standard input is one scenario step
(``kill_broker: 2``); its answer is one JSON line: the step's report as ``kafkalab run
--json`` gives it, or ``{"error": ...}``. End of input, SIGINT or SIGTERM closes the
cluster cleanly.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from kafkalab.actions.execute import ActionOutcome, execute
from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import KafkaError
from kafkalab.events.journal import Event
from kafkalab.gc_pause import freeze_with_rare_full_passes
from kafkalab.scenarios.model import parse_step
from kafkalab.scenarios.report import QUIET_KINDS
from kafkalab.scenarios.runner import report_step
from kafkalab.scenarios.validate import Builder
from kafkalab.scenarios.yaml_source import SourceError, load_yaml
from kafkalab.session.session import Session
from kafkalab.sim.network import ONE_HOST_LATENCY_MS
from kafkalab.sim.process import Future
from kafkalab.sim.realtime_clock import RealtimeDriver
from kafkalab.wire.connections import PortInUse
from kafkalab.wire.listener import PORT_ADVICE, Listener, no_authentication_warning

#: How long a step may take on the live clock before serve answers that it is still running.
STEP_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class ServeOptions:
    """What ``kafkalab serve`` was asked for."""

    data_dir: Path
    brokers: int | None
    fresh: bool
    host: str
    port: int
    #: Broker config overrides for a new cluster (an existing one keeps its own).
    broker_config: dict[str, str] = field(default_factory=dict)
    #: A new cluster's mode (``zookeeper`` or ``kraft``) and KRaft controller count; an existing one keeps its own.
    mode: str | None = None
    controllers: int | None = None
    #: One-way latency of the simulated links between brokers (and the coordination service). Every broker
    #: of serve listens on this host, so by default its links are what brokers on one host have; a learner
    #: can model a network with ``--link-latency-ms`` or one link with a ``set_latency`` step. A real
    #: client's own connection has no simulated latency on top of its socket (``gateway.py``). An acks=all
    #: produce waits for two hops (the leader's fetch answer to the followers, their next fetch), and a
    #: connection's requests are served one at a time (Kafka mutes a channel until its answer is sent):
    #: at the 0.5 ms of a local network the hops were 1 ms of each request on an idle engine, next to some
    #: 0.6 ms of its work, and a producer's five requests in flight waited for each other's.
    link_latency_ms: float = ONE_HOST_LATENCY_MS


class _Stop(Exception):
    """SIGTERM asks serve to close the cluster and exit."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stop


class Server:
    """One ``kafkalab serve`` run: the cluster, its driver thread, the listener and the action loop."""

    def __init__(self, cluster: Cluster, listener: Listener, out: TextIO) -> None:
        self.cluster = cluster
        self.listener = listener
        self.out = out
        self._print_lock = threading.Lock()
        self.driver = RealtimeDriver(cluster.scheduler, tick_seconds=0.05)
        self.session: Session | None = None
        self._index = 0

    def say(self, line: str) -> None:
        """Print one line (narration from the engine thread and answers from the main thread never interleave)."""
        with self._print_lock:
            self.out.write(line + "\n")
            self.out.flush()

    def _narrate(self, event: Event) -> None:
        if event.kind not in QUIET_KINDS:
            self.say(event.describe())

    def start(self) -> None:
        """Start the cluster on the live clock; returns once every broker serves."""
        self.listener.attach(self.cluster, self.driver)
        # On the live clock a checkpoint's fsyncs must not stall the records in flight (issue 9).
        self.cluster.write_checkpoints_in_background(self.driver.submit)
        self.driver.start()
        self.on_engine(lambda done: self.cluster.start().add_done_callback(lambda f: done(f.result())))
        self.session = Session(self.cluster, self.cluster.meta.seed)
        self.driver.submit(lambda: self.cluster.journal.subscribe(self._narrate)).result()
        # What start-up built (modules, brokers, logs, timers) lives as long as the process: moved out of
        # the collector's reach, a full collection scans only what clients' traffic made since, and rarely.
        freeze_with_rare_full_passes()
        self.say(f"bootstrap: {self.listener.bootstrap}")

    def on_engine(self, work: Callable[[Callable[[Any], None]], None], timeout: float = STEP_TIMEOUT_SECONDS) -> Any:
        """Run ``work(done)`` on the engine thread and wait (on this one) until it calls ``done(value)``."""
        finished = threading.Event()
        box: list[Any] = []

        def done(value: Any) -> None:
            box.append(value)
            finished.set()

        self.driver.submit(lambda: work(done)).result(timeout)
        if not finished.wait(timeout):
            raise TimeoutError
        return box[0]

    def act(self, line: str) -> dict[str, Any]:
        """Run one scenario step given as a line of YAML; its report, or an error."""
        try:
            node = load_yaml(line, "<stdin>")
            builder = Builder()
            step = parse_step(builder, node, self._index)
            builder.raise_if_failed()
        except SourceError as exc:
            return {"error": str(exc)}
        assert step is not None and self.session is not None
        self._index += 1
        session = self.session
        before = self.driver.submit(lambda: self.cluster.journal.last_seq).result()

        def run(done: Callable[[Any], None]) -> None:
            future: Future[ActionOutcome] = execute(session, step.action)
            future.add_done_callback(lambda f: done(f.result()))

        try:
            outcome: ActionOutcome = self.on_engine(run)
        except TimeoutError:
            return {"error": f"the step did not finish within {STEP_TIMEOUT_SECONDS:g} s"}
        events = self.driver.submit(lambda: self.cluster.journal.since(before)).result()
        return report_step(step, outcome, events).as_json()

    def close(self) -> None:
        """Close the listener, then the cluster, on the engine thread (flush, clean-shutdown marker)."""

        def close_engine() -> None:
            self.listener.close()
            if self.session is not None:
                self.session.close()
            self.cluster.close()

        if self.driver.error is None:
            self.driver.submit(close_engine).result(60)
            self.driver.stop()
        else:
            self.driver.stop()
            close_engine()


def open_cluster(options: ServeOptions) -> Cluster:
    """The cluster ``options`` ask for, its links at ``link_latency_ms``; KafkaError if it cannot be opened."""
    return Cluster.open(options.data_dir, brokers=options.brokers, fresh=options.fresh,
                        broker_config=options.broker_config, mode=options.mode, controllers=options.controllers,
                        latency_ms=options.link_latency_ms)


def serve(options: ServeOptions, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """Run ``kafkalab serve``; the exit status."""
    warning = no_authentication_warning(options.host)
    if warning is not None:
        err.write(warning + "\n")
    try:
        cluster = open_cluster(options)
    except KafkaError as exc:
        err.write(f"kafkalab: {exc}\n")
        return 2
    try:
        listener = Listener(options.host, options.port, len(cluster.brokers),
                            cluster.broker_config["socket.request.max.bytes"])
    except PortInUse as exc:
        cluster.close()
        err.write(f"kafkalab: port {exc.port} (broker {exc.broker_id}) is already in use; {PORT_ADVICE}\n")
        return 2
    except KafkaError as exc:
        cluster.close()
        err.write(f"kafkalab: {exc.message}\n")
        return 2
    server = Server(cluster, listener, out)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        server.start()
        for line in stdin:
            if line.strip() and not line.lstrip().startswith("#"):
                server.say(json.dumps(server.act(line)))
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
    return 0
